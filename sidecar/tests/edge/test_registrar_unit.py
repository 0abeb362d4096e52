"""The registrar's pure parts: the emergency expressions, the generated routes, the credential files."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hold_slayer_sidecar.edge import EdgeConfigError, EdgeSettings, render_config
from hold_slayer_sidecar.edge.emergency import emergency_digits_pattern, emergency_names_pattern
from hold_slayer_sidecar.edge.registrar import EdgeRegistrar, RegistrarError, _bindings, has_devices
from hold_slayer_sidecar.settings import SidecarSettings, SipConfig
from policy.test_dialplan import EMERGENCY_TARGETS


def edge_sees_emergency(target: str) -> bool:
    """What route[EMERGENCY_NUMBER] decides for a phone dialling ``target`` (the user part of its R-URI)."""
    text = unquote(target.strip())
    for scheme in ("sips:", "sip:", "tel:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
    user = text.split("@", 1)[0]
    digits = re.sub(r"[^0-9]", "", user)
    return bool(re.search(emergency_names_pattern(), user.lower())) or (
        digits != "" and re.search(emergency_digits_pattern(), digits) is not None
    )


@pytest.mark.parametrize("target", EMERGENCY_TARGETS)
def test_the_edge_knows_every_emergency_number_the_dialplan_knows(target: str) -> None:
    assert edge_sees_emergency(target)


@pytest.mark.parametrize("number", ["18005550100", "+442079460000", "5551234", "0800112112"])
def test_ordinary_numbers_are_not_emergencies(number: str) -> None:
    assert not edge_sees_emergency(number)


def test_posix_expressions_have_no_perl_only_syntax() -> None:
    for pattern in (emergency_digits_pattern(), emergency_names_pattern()):
        assert "(?" not in pattern and "\\" not in pattern


def test_registrar_off_refuses_register_and_on_defines_it() -> None:
    assert "#!define EDGE_REGISTRAR" not in render_config(EdgeSettings(), Path("/run/edge"))
    assert "#!define EDGE_REGISTRAR" in render_config(EdgeSettings(registrar=True), Path("/run/edge"))


def test_without_a_trunk_phones_calls_get_503_and_with_one_the_account_answers_challenges() -> None:
    none = render_config(EdgeSettings(registrar=True), Path("/run/edge"))
    assert 'sl_send_reply("503", "No SIP Trunk Configured")' in none
    cfg = render_config(
        EdgeSettings(registrar=True, trunk_domain="sip.example.com", trunk_username="alice", trunk_password='a"b\\c'),
        Path("/run/edge"),
    )
    assert 'uac_replace_from("sip:alice@sip.example.com");' in cfg
    assert '$avp(apass) = "a\\"b\\\\c";' in cfg  # kamailio string escapes: the password survives as typed


@pytest.mark.parametrize(
    "settings",
    [
        {"trunk_domain": "x", "trunk_username": 'a"; exit; "'},
        {"trunk_domain": "x", "trunk_username": "a", "trunk_password": "new\nline"},
        {"trunk_domain": "x"},
        {"min_expires": 600, "max_expires": 60},
        {"auth_failures": 0},
    ],
)
def test_settings_that_would_break_or_inject_into_the_config_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(EdgeConfigError):
        EdgeSettings(**settings)  # type: ignore[arg-type]


async def test_credentials_are_private_files_with_ha1_only(tmp_path: Path) -> None:
    registrar = EdgeRegistrar(tmp_path, address="192.0.2.10", port=5060, internal_port=5059)
    creds = await registrar.add_device("kitchen")  # kamailio is not running: the binding drop is only logged
    assert creds.registrar == "192.0.2.10:5060" and creds.domain == "192.0.2.10"
    for path in (tmp_path / "devices.json", tmp_path / "db" / "subscriber", tmp_path / "db" / "version"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert creds.password not in path.read_text()
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == 0o700
    assert has_devices(tmp_path)
    assert registrar.ring_uri("kitchen") == f"sip:{creds.username}@127.0.0.1:5059"
    reloaded = EdgeRegistrar(tmp_path, address="192.0.2.10", port=5060, internal_port=5059)
    assert reloaded.ring_uri("kitchen") == registrar.ring_uri("kitchen")  # survives a sidecar restart
    assert (await reloaded.registrations())["kitchen"].registered is False  # edge down: not reachable
    await reloaded.remove_device("kitchen")
    assert not has_devices(tmp_path)
    with pytest.raises(RegistrarError):
        reloaded.ring_uri("kitchen")


@pytest.mark.parametrize("device_id", ["", "a" * 65, "x:y", "../etc", "a\nb", "kitchen phone"])
async def test_hostile_device_ids_are_refused(tmp_path: Path, device_id: str) -> None:
    registrar = EdgeRegistrar(tmp_path, address="127.0.0.1", port=5060, internal_port=5059)
    with pytest.raises(RegistrarError):
        await registrar.add_device(device_id)


def test_a_malformed_location_dump_gives_no_bindings_rather_than_an_error() -> None:
    assert _bindings(None) == {}
    assert _bindings({"Domains": "x"}) == {}
    assert _bindings({"Domains": [{"Domain": {"AoRs": [{"Info": {"AoR": "hs-1", "Contacts": [{}]}}]}}]}) != {}


async def test_the_edge_runs_once_a_phone_has_credentials_and_phones_call_out_as_the_trunk_account(
    tmp_path: Path,
) -> None:
    settings = SidecarSettings(token="t" * 32, data_dir=tmp_path)
    assert not settings.edge_active  # loopback, no trunk, no device: as before
    await EdgeRegistrar(settings.edge_run_dir, address="127.0.0.1", port=5060, internal_port=5059).add_device("desk")
    assert settings.edge_active
    assert not SidecarSettings(token="t" * 32, data_dir=tmp_path, edge={"phones": False}).edge_active
    trunk = SidecarSettings(
        token="t" * 32,
        data_dir=tmp_path,
        sip={"registrar": "sip:sip.example.com", "username": "alice", "password": "pw", "realm": "example"},
    )
    edge = trunk.edge.to_edge_settings(trunk.sip, (5070,))
    assert (edge.registrar, edge.trunk_domain, edge.trunk_username, edge.trunk_password, edge.trunk_realm) == (
        True,
        "sip.example.com",
        "alice",
        "pw",
        "example",
    )


def test_phones_asked_for_on_the_lan_start_the_edge_before_the_first_phone_exists(tmp_path: Path) -> None:
    """Its registrar makes the first phone's credentials: waiting for a phone to exist would need one first."""
    assert SidecarSettings(token="t" * 32, data_dir=tmp_path, edge={"phones_on_lan": True}).edge_active
    off = {"phones_on_lan": True, "phones": False}
    assert not SidecarSettings(token="t" * 32, data_dir=tmp_path, edge=off).edge_active


@pytest.mark.parametrize(
    ("edge", "says"),
    [
        ({}, "set edge.phones_on_lan: true in the sidecar's settings and restart it"),
        ({"enabled": False}, "edge.enabled: false in the sidecar's settings): remove that setting and restart"),
        ({"phones": False}, "edge.phones: false in the sidecar's settings): turn them on and restart it"),
    ],
)
def test_without_a_registrar_the_reason_says_what_to_change(edge: dict[str, Any], says: str) -> None:
    assert says in SidecarSettings(token="t" * 32, edge=edge).edge.why_no_registrar()


def test_phones_on_the_lan_open_the_edge_on_every_interface_only_when_asked() -> None:
    assert SidecarSettings(token="t" * 32).edge.listen_host(SipConfig()) == "127.0.0.1"
    lan = SidecarSettings(token="t" * 32, edge={"phones_on_lan": True})
    assert lan.edge.listen_host(lan.sip) == "0.0.0.0"
    fixed = SidecarSettings(token="t" * 32, edge={"phones_on_lan": True, "host": "192.0.2.5"})
    assert fixed.edge.listen_host(fixed.sip) == "192.0.2.5"


async def test_every_change_moves_the_tables_mtime_forward_even_within_one_second(tmp_path: Path) -> None:
    table = tmp_path / "db" / "subscriber"
    seen = []
    for _ in range(3):  # kamailio's db_text compares whole seconds: each change must be a new second
        registrar = EdgeRegistrar(tmp_path, address="127.0.0.1", port=5060, internal_port=5059)
        await registrar.add_device("desk")
        seen.append(table.stat().st_mtime)
    assert seen == sorted(set(seen))

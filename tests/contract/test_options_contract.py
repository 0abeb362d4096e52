"""Options flow against the REAL sidecar: the trunk registers with a SIPp registrar or the form shows its 403."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.const import DOMAIN

from .conftest import REPO, RunningSidecar, start_sidecar, stop

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed"),
]
REGISTRAR = REPO / "sidecar" / "tests" / "sip" / "scenarios" / "registrar.xml"
TRUNK_FORM = {"username": "alice", "password": "secret", "transport": "udp", "dtmf_method": "rfc2833"}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[RunningSidecar]:
    """A fresh sidecar per test: what one test configures must not leak into the next."""
    process, running = start_sidecar(tmp_path / "sidecar", "--sip-workers", "1")
    try:
        yield running
    finally:
        stop(process)


@pytest.fixture
async def registrar(tmp_path: Path) -> AsyncIterator[int]:
    """SIPp as a digest registrar accepting alice/secret: 401 challenge, then 200 (or 403 for a wrong password)."""
    scenario = tmp_path / "registrar.xml"
    scenario.write_text(REGISTRAR.read_text().replace("__USER__", "alice").replace("__PASSWORD__", "secret"))
    port, media = free_udp_port(), free_udp_port()
    with (tmp_path / "sipp.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-mp", str(media),
            "-nostdin", "-m", "1", "-timeout", "30", "-timeout_error", stdout=log, stderr=log, cwd=tmp_path,
        )  # fmt: skip
    await asyncio.sleep(0.3)  # let SIPp bind
    try:
        yield port
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def _entry(hass: HomeAssistant, sidecar: RunningSidecar) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: sidecar.host, CONF_PORT: sidecar.port, CONF_TOKEN: sidecar.token},
        unique_id=f"{sidecar.host}:{sidecar.port}",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def _open(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == step
    return dict(result)


async def test_trunk_set_in_options_registers_and_the_sensor_says_so(
    hass: HomeAssistant, sidecar: RunningSidecar, registrar: int
) -> None:
    entry = await _entry(hass, sidecar)
    assert hass.states.get("sensor.hold_slayer_trunk_registration").state == "not_configured"
    form = await _open(hass, entry, "trunk")
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"registrar": f"sip:127.0.0.1:{registrar}", **TRUNK_FORM}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    state = hass.states.get("sensor.hold_slayer_trunk_registration")
    assert state.state == "registered"
    assert state.attributes["code"] == 200
    assert state.attributes["registrar"] == f"127.0.0.1:{registrar}"
    assert "password" not in str(entry.options)  # secrets are sent, never kept in HA

    form = await _open(hass, entry, "trunk")  # opened again: the settings come back, the password does not
    suggested = {str(key): key.description for key in form["data_schema"].schema}
    assert suggested["registrar"] == {"suggested_value": f"sip:127.0.0.1:{registrar}"}
    assert suggested["password"] is None
    assert (await entry.runtime_data.client.get_settings())["engines"]["sip_workers"] == "ok"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_wrong_password_and_a_missing_wyoming_service_are_shown_in_the_form(
    hass: HomeAssistant, sidecar: RunningSidecar, registrar: int
) -> None:
    MockConfigEntry(domain="wyoming", title="faster-whisper", data={"host": "127.0.0.1", "port": 9}).add_to_hass(hass)
    entry = await _entry(hass, sidecar)
    form = await _open(hass, entry, "trunk")
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"registrar": f"127.0.0.1:{registrar}", **TRUNK_FORM, "password": "wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "sidecar_refused"}
    assert result["description_placeholders"]["error"] == "the registrar rejected the password (403)"
    assert hass.states.get("sensor.hold_slayer_trunk_registration").state == "not_configured"

    form = await _open(hass, entry, "voice")
    stt = next(key for key in form["data_schema"].schema if str(key) == "stt")
    offered = [option["value"] for option in form["data_schema"].schema[stt].config["options"]]
    assert offered == ["embedded", "none", "127.0.0.1:9"]  # HA's own Wyoming service is offered by address
    result = await hass.config_entries.options.async_configure(form["flow_id"], {"stt": "127.0.0.1:9", "tts": "piper"})
    assert result["errors"] == {"base": "sidecar_refused"}
    assert result["description_placeholders"]["error"] == "voice.stt_url: no Wyoming service at 127.0.0.1:9"

    form = await _open(hass, entry, "phones")
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"user_phones": ["+1 555 010 0200", "112"]}
    )
    assert result["errors"] == {"user_phones": "emergency_number"}
    result = await hass.config_entries.options.async_configure(form["flow_id"], {"user_phones": ["+1 555 010 0200"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (await entry.runtime_data.client.get_settings())["user_phones"] == ["+15550100200"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_receptionists_greeting_and_owners_name_are_set_from_the_options(
    hass: HomeAssistant, sidecar: RunningSidecar
) -> None:
    entry = await _entry(hass, sidecar)
    form = await _open(hass, entry, "receptionist")
    # HA's own check names the placeholder; nothing reaches the sidecar.
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"owner_name": "Alex", "greeting": "Hi, this is {name}'s phone"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"greeting": "invalid_greeting"}
    assert result["description_placeholders"]["error"] == "remove {name}"
    # The sidecar's check: a name that would break the template (HA does not check names).
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"owner_name": "{owner}", "greeting": "Hi, {owner}'s phone"}
    )
    assert result["errors"] == {"base": "sidecar_refused"}
    assert result["description_placeholders"]["error"] == (
        "receptionist.owner_name: a name without braces or control characters"
    )
    assert "receptionist" not in await entry.runtime_data.client.get_settings()

    greeting = "Hello, you've reached {owner}. Who is calling, please?"
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"owner_name": "Alex", "greeting": greeting}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    kept = (await entry.runtime_data.client.get_settings())["receptionist"]
    assert kept == {"owner_name": "Alex", "greeting": greeting}

    form = await _open(hass, entry, "receptionist")  # opened again: what was set is offered
    suggested = {str(key): key.description for key in form["data_schema"].schema}
    assert suggested["owner_name"] == {"suggested_value": "Alex"}
    assert suggested["greeting"] == {"suggested_value": greeting}
    await hass.config_entries.async_unload(entry.entry_id)

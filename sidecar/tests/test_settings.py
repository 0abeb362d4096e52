"""Settings precedence: arguments > environment > config file; a token of 24 characters or more is required."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hold_slayer_sidecar.__main__ import overrides, parse_args
from hold_slayer_sidecar.settings import SettingsError, load_settings
from pydantic import ValidationError


def test_arguments_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sidecar.yaml"
    config.write_text(
        "token: from-file-of-24-characters-or-more\nport: 9000\nuser_phone: sip:file@h\n"
        "sip:\n  port: 5070\n  registrar: sip:pbx.example\n"
        "  username: me\ntimeouts:\n  max_hold_s: 600\n"
    )
    monkeypatch.setenv("HOLD_SLAYER_PORT", "9100")
    monkeypatch.setenv("HOLD_SLAYER_SIP__PORT", "5080")
    args = parse_args(["--config", str(config), "--port", "9200", "--user-phone", "sip:arg@h"])
    settings = load_settings(overrides(args), args.config)
    assert settings.port == 9200  # argument
    assert settings.sip.port == 5080  # environment over file
    assert settings.sip.registrar == "sip:pbx.example"  # file, merged with the environment's sip.port
    assert settings.user_phone == "sip:arg@h"
    assert settings.timeouts.max_hold_s == 600
    assert settings.require_token() == "from-file-of-24-characters-or-more"
    assert settings.host == "127.0.0.1"  # loopback unless told otherwise
    sip = settings.sip.to_sip_settings()
    assert sip.port == 5080 and sip.trunk_domain == "pbx.example"


def test_json_config_and_missing_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOLD_SLAYER_TOKEN", raising=False)
    config = tmp_path / "sidecar.json"
    config.write_text(json.dumps({"data_dir": str(tmp_path)}))
    settings = load_settings({}, config)
    assert settings.database == tmp_path / "hold_slayer.sqlite3"
    with pytest.raises(SettingsError, match="no token"):
        settings.require_token()


def test_bad_settings_name_the_field(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("timeouts:\n  max_hold_s: -5\n")
    with pytest.raises(ValidationError, match="max_hold_s"):
        load_settings({}, config)
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings({}, tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(SettingsError, match="mapping"):
        load_settings({}, tmp_path / "list.yaml")


def test_home_country_is_a_two_letter_code(tmp_path: Path) -> None:
    assert load_settings({}, None).home_country == "US"
    assert load_settings({"home_country": "fr"}, None).home_country == "fr"
    with pytest.raises(ValidationError, match="home_country"):
        load_settings({"home_country": "France"}, None)


def test_a_short_token_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    settings = load_settings({"token": "x" * 23, "data_dir": tmp_path}, None)
    with pytest.raises(SettingsError, match="has 23 characters; use at least 24"):
        settings.require_token()
    with pytest.raises(SettingsError, match="at least 24"):
        settings.token_or_generate()
    (tmp_path / "token").write_text("short\n")
    with pytest.raises(SettingsError, match=r"token in .* has 5 characters"):
        load_settings({"data_dir": tmp_path}, None).token_or_generate()


def test_first_start_generates_a_private_token_and_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOLD_SLAYER_TOKEN", raising=False)
    settings = load_settings({"data_dir": tmp_path / "data"}, None)
    token, generated = settings.token_or_generate()
    assert generated and len(token) >= 40
    assert stat.S_IMODE((tmp_path / "data" / "token").stat().st_mode) == 0o600
    assert settings.token_or_generate() == (token, False)  # the second start reads the same one
    configured = load_settings({"data_dir": tmp_path / "data", "token": "c" * 24}, None)
    assert configured.token_or_generate() == ("c" * 24, False)  # a configured token wins over the file


def test_media_workers_set_the_number_of_concurrent_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLD_SLAYER_TOKEN", "t" * 24)
    default = load_settings({}, None)
    assert default.sip.workers == 2 and default.max_calls == 2  # one call per worker process by default
    assert default.sip.to_sip_settings().max_calls == 4  # legs per worker: PJSUA2's compiled-in limit
    more = load_settings(overrides(parse_args(["--sip-workers", "3"])) | {"max_calls": 6}, None)
    assert more.sip.workers == 3 and more.max_calls == 6
    with pytest.raises(ValidationError, match="needs at least 2 SIP workers"):
        load_settings({"max_calls": 3, "sip": {"workers": 1}}, None)
    with pytest.raises(ValidationError):
        load_settings({"sip": {"workers": 0}}, None)


def test_media_sockets_hear_only_the_sdp_peer_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLD_SLAYER_TOKEN", "t" * 24)
    assert load_settings({}, None).sip_engine_settings().rtp_peer_only  # on by default, also behind the edge
    behind_edge = load_settings({"sip": {"registrar": "sip:trunk.example", "username": "u"}}, None)
    assert behind_edge.edge_active and behind_edge.sip_engine_settings().rtp_peer_only
    monkeypatch.setenv("HOLD_SLAYER_SIP__RTP_PEER_ONLY", "false")  # a peer behind NAT that names a private address
    assert not load_settings({}, None).sip_engine_settings().rtp_peer_only

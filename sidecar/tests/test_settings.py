"""Settings precedence: arguments > environment > config file; a token is required."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hold_slayer_sidecar.__main__ import overrides, parse_args
from hold_slayer_sidecar.settings import SettingsError, load_settings
from pydantic import ValidationError


def test_arguments_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sidecar.yaml"
    config.write_text(
        "token: from-file\nport: 9000\nuser_phone: sip:file@h\nsip:\n  port: 5070\n  registrar: sip:pbx.example\n"
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
    assert settings.require_token() == "from-file"
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

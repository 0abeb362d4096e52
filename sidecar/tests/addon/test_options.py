"""Add-on options to sidecar settings: every option lands where the sidecar reads it."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from hold_slayer_sidecar.addon.options import (
    AddonOptionsError,
    read_extra,
    read_options,
    sidecar_config,
    write_config,
)
from hold_slayer_sidecar.identity import load_or_create_sidecar_id, load_or_create_token
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.settings import load_settings

CONFIG_YAML = Path(__file__).resolve().parents[3] / "hold_slayer_addon" / "config.yaml"


def defaults() -> dict[str, Any]:
    """The options a fresh install has: the defaults of config.yaml."""
    return dict(yaml.safe_load(CONFIG_YAML.read_text(encoding="utf-8"))["options"])


def settings_from(options: dict[str, Any], tmp_path: Path, extra: dict[str, Any] | None = None) -> Any:
    path = tmp_path / "sidecar.yaml"
    write_config(sidecar_config(options, token="t" * 43, data_dir=tmp_path / "data", extra=extra), path)
    return load_settings({}, path)


def test_defaults_give_a_loopback_sidecar(tmp_path: Path) -> None:
    settings = settings_from(defaults(), tmp_path)
    assert settings.host == "127.0.0.1"
    assert settings.port == 8765
    assert settings.require_token() == "t" * 43
    assert settings.data_dir == tmp_path / "data"
    # A trunk may be set later from Home Assistant, which cannot move sockets: SIP listens behind the edge.
    assert settings.sip.bind_host == "0.0.0.0"
    assert settings.edge_active
    assert settings.sip.registrar is None and settings.sip.password is None
    assert settings.user_phone is None
    assert settings.voice.stt == "embedded" and settings.voice.tts == "piper"
    assert settings.voice.llm_url is None
    assert settings.log_level == "INFO"


def test_trunk_phone_and_voice(tmp_path: Path) -> None:
    options = defaults()
    options["user_phone"] = "+15551230000"
    options["trunk"].update(
        registrar="sip:sip.example.com",
        username="alice",
        password="pw",
        sip_port=5070,
        dtmf_method="sip_info",
        dtmf_duration_ms=200,
    )
    options["voice"].update(stt="wyoming", stt_url="tcp://core-whisper:10300", llm_url="http://ollama:11434")
    options.update(home_country="gb", record=False, log_level="debug")

    settings = settings_from(options, tmp_path)

    assert settings.user_phone == "+15551230000"
    assert settings.sip.registrar == "sip:sip.example.com"
    assert settings.sip.username == "alice"
    assert settings.sip.password.get_secret_value() == "pw"
    assert settings.sip.port == 5070
    assert settings.sip.bind_host == "0.0.0.0"  # a registrar on the internet must reach SIP and RTP
    assert settings.sip.dtmf_method is DtmfMethod.SIP_INFO
    assert settings.sip.dtmf_duration_ms == 200
    assert settings.voice.stt == "wyoming" and settings.voice.stt_url == "tcp://core-whisper:10300"
    assert settings.voice.llm_url == "http://ollama:11434"
    assert (settings.home_country, settings.record, settings.log_level) == ("GB", False, "DEBUG")


def test_advanced_file_fills_in_and_options_win(tmp_path: Path) -> None:
    extra = {"timeouts": {"max_hold_s": 3600}, "sip": {"codecs": ["PCMA"], "port": 9999}, "port": 1}
    settings = settings_from(defaults(), tmp_path, extra)
    assert settings.timeouts.max_hold_s == 3600
    assert settings.sip.codecs == ("PCMA",)
    assert settings.sip.port == 5060 and settings.port == 8765  # the add-on options win


def test_config_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sidecar.yaml"
    write_config(sidecar_config(defaults(), token="x" * 43, data_dir=tmp_path), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_bad_options_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "options.json"
    path.write_text(text)
    with pytest.raises(AddonOptionsError):
        read_options(path)


def test_extra_file_optional_and_checked(tmp_path: Path) -> None:
    assert read_extra(tmp_path / "missing.yaml") == {}
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(AddonOptionsError):
        read_extra(tmp_path / "list.yaml")
    (tmp_path / "ok.json").write_text(json.dumps({"record": False}))
    assert read_extra(tmp_path / "ok.json") == {"record": False}


def test_token_and_id_persist(tmp_path: Path) -> None:
    token = load_or_create_token(tmp_path / "token")
    sidecar_id = load_or_create_sidecar_id(tmp_path)
    assert len(token) >= 40 and len(sidecar_id) == 32
    assert load_or_create_token(tmp_path / "token") == token
    assert load_or_create_sidecar_id(tmp_path) == sidecar_id
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600
    assert load_or_create_token(tmp_path / "other") != token

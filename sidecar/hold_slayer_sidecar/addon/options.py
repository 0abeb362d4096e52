"""Turn the add-on's options (``/data/options.json``, filled in the add-on UI) into the sidecar's settings.

The Supervisor has already checked the options against ``config.yaml``'s schema; the sidecar's own settings
model checks them again when it starts, so a bad value is reported in the add-on log with its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from ..protocol import DEFAULT_PORT

# Inside the add-on container: the Supervisor mounts the add-on's persistent storage at /data and, with
# ``map: [addon_config]``, the user-visible folder /addon_configs/<slug> at /config.
DATA_DIR: Final = Path("/data")
EXTRA_CONFIG: Final = Path("/config/hold_slayer.yaml")
# The add-on runs on the host's network (RTP needs a range of UDP ports that Docker's port mapping cannot
# follow); HA Core runs there too, so the websocket stays on loopback and never reaches the LAN.
WEBSOCKET_HOST: Final = "127.0.0.1"
# Trunk and voice options copied as they are (empty strings mean "not set").
_TRUNK_KEYS: Final = (
    "registrar",
    "username",
    "password",
    "domain",
    "outbound_proxy",
    "dtmf_method",
    "dtmf_duration_ms",
    "dtmf_gap_ms",
)
_VOICE_KEYS: Final = ("stt", "stt_url", "tts", "tts_url", "tts_voice", "llm_url", "llm_model", "llm_api_key")


class AddonOptionsError(Exception):
    """The options file cannot be read or is not a mapping."""


def read_options(path: Path) -> dict[str, Any]:
    """Read ``options.json``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise AddonOptionsError(f"cannot read add-on options {path}: {err}") from err
    if not isinstance(data, dict):
        raise AddonOptionsError(f"add-on options {path} must be a mapping")
    return data


def read_extra(path: Path) -> dict[str, Any]:
    """Read the optional advanced settings file (timeouts, codecs, ...); missing means none."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as err:
        raise AddonOptionsError(f"cannot read {path}: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AddonOptionsError(f"{path} must hold a mapping of settings")
    return data


def _given(section: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: section[key] for key in keys if section.get(key) not in (None, "")}


def sidecar_config(
    options: Mapping[str, Any], *, token: str, data_dir: Path, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the sidecar's settings mapping: the advanced file, overridden by the add-on's options."""
    trunk = options.get("trunk") or {}
    voice = options.get("voice") or {}
    sip: dict[str, Any] = {"port": int(trunk.get("sip_port", 5060)), **_given(trunk, _TRUNK_KEYS)}
    config: dict[str, Any] = {
        "host": WEBSOCKET_HOST,
        "port": int(options.get("port", DEFAULT_PORT)),
        "token": token,
        "data_dir": str(data_dir),
        "home_country": str(options.get("home_country") or "US").upper(),
        "record": bool(options.get("record", True)),
        "log_level": str(options.get("log_level") or "info").upper(),
    }
    if options.get("user_phone"):
        config["user_phone"] = str(options["user_phone"])
    merged = _deep_merge(dict(extra or {}), config)
    # A trunk on the internet answers to the host's address, also one set later in Home Assistant (configure
    # cannot move sockets): SIP and RTP listen there, SIP behind the edge, which admits no call until a trunk's
    # addresses are allowed. The advanced file may keep them on loopback.
    merged["sip"] = _deep_merge(_deep_merge({"bind_host": "0.0.0.0"}, dict(merged.get("sip") or {})), sip)
    merged["voice"] = _deep_merge(dict(merged.get("voice") or {}), _given(voice, _VOICE_KEYS))
    return merged


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def write_config(config: Mapping[str, Any], path: Path) -> None:
    """Write the settings as YAML, readable by the owner only (it holds the token and trunk password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.touch(mode=0o600)
    partial.write_text(yaml.safe_dump(dict(config), sort_keys=True), encoding="utf-8")
    partial.replace(path)

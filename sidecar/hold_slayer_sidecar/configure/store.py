"""Settings applied from Home Assistant, kept in the data directory: they override the YAML file at the next start.

The file holds the trunk password and the LLM key, so it is written owner-only (0600) and atomically (a crash
mid-write leaves the previous settings, never half of them).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr, ValidationError

from ..inbound.receptionist.config import DEFAULT_GREETING, ReceptionistSettings
from ..settings import InboundSettings, SidecarSettings, SipConfig
from ..voice.factory import VoiceSettings
from .model import ConfigureRequest, ReceptionistSection, TrunkSection, VoiceSection

_LOGGER = logging.getLogger(__name__)

FILE_NAME: Final = "settings_from_home_assistant.json"


def settings_file(data_dir: Path) -> Path:
    """Where the settings applied from Home Assistant are kept."""
    return data_dir / FILE_NAME


def dump(request: ConfigureRequest, *, secrets: bool) -> dict[str, Any]:
    """Return the request's sections as JSON data; secrets only when ``secrets`` (the file), never for a client."""
    data = request.model_dump(mode="json", include=set(request.sections()))
    if secrets:
        for section, key in (("trunk", "password"), ("voice", "llm_api_key")):
            model = getattr(request, section)
            value = getattr(model, key, None) if model is not None else None
            if isinstance(value, SecretStr) and isinstance(data.get(section), dict):
                data[section][key] = value.get_secret_value()
    else:
        for section, key in (("trunk", "password"), ("voice", "llm_api_key")):
            if isinstance(data.get(section), dict):
                data[section][key + "_set"] = data[section].pop(key, None) is not None
    return data


def load(data_dir: Path) -> ConfigureRequest | None:
    """Read the kept settings; None when there are none or the file is unreadable (logged, the YAML applies)."""
    path = settings_file(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        _LOGGER.error("cannot read %s (the YAML settings apply): %s", path, err)
        return None
    try:
        return ConfigureRequest.model_validate(json.loads(text))
    except (ValueError, ValidationError) as err:
        _LOGGER.error("ignoring %s, it is not valid (the YAML settings apply): %s", path, err)
        return None


def save(data_dir: Path, request: ConfigureRequest) -> None:
    """Write the settings owner-only and atomically."""
    path = settings_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(dump(request, secrets=True), file, indent=1)
    with contextlib.suppress(OSError):
        os.chmod(partial, 0o600)  # an older file created with a wider umask
    partial.replace(path)


def merge(kept: ConfigureRequest | None, new: ConfigureRequest) -> ConfigureRequest:
    """Return the kept settings with the sections of ``new`` replacing theirs (a password left out is kept)."""
    merged: dict[str, Any] = dict(kept.model_dump(include=set(kept.sections()))) if kept else {}
    for section in new.sections():
        value = getattr(new, section)
        if section == "trunk" and value is not None:
            value = _keep_secret(value, merged.get("trunk"), "password")
        elif section == "voice" and value is not None:
            value = _keep_secret(value, merged.get("voice"), "llm_api_key")
        merged[section] = value.model_dump() if hasattr(value, "model_dump") else value
    return ConfigureRequest.model_validate(_secrets_as_text(merged))


def _keep_secret(section: TrunkSection | VoiceSection, old: dict[str, Any] | None, key: str) -> Any:
    if getattr(section, key) is None and old and old.get(key) is not None:
        return section.model_copy(update={key: old[key]})
    return section


def _secrets_as_text(data: Any) -> Any:
    """model_dump keeps SecretStr objects; validate them again as plain strings (strict mode wants str)."""
    if isinstance(data, dict):
        return {key: _secrets_as_text(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_secrets_as_text(value) for value in data]
    if isinstance(data, SecretStr):
        return data.get_secret_value()
    if hasattr(data, "value") and type(data).__module__.endswith("protocol"):
        return data.value  # enums (DtmfMethod) as their text
    return data


def overlay(settings: SidecarSettings, request: ConfigureRequest | None) -> SidecarSettings:
    """Return the sidecar's settings with what Home Assistant set on top (each section given replaces the YAML's)."""
    if request is None:
        return settings
    update: dict[str, Any] = {}
    sections = request.sections()
    if "trunk" in sections:
        update["sip"] = trunk_settings(settings.sip, request.trunk)
    if "user_phones" in sections:
        update["user_phone"] = request.user_phones[0] if request.user_phones else None
    if "voice" in sections and request.voice is not None:
        update["voice"] = voice_settings(settings.voice, request.voice)
    if "courtesy" in sections and request.courtesy is not None:
        update["courtesy"] = request.courtesy
    if "receptionist" in sections and request.receptionist is not None:
        update["receptionist"], update["inbound"] = reception_settings(settings, request.receptionist)
    return settings.model_copy(update=update)


def reception_settings(
    settings: SidecarSettings, section: ReceptionistSection
) -> tuple[ReceptionistSettings, InboundSettings]:
    """Return the receptionist's and the inbound half's settings with HA's greeting and owner's name.

    The owner's name goes to both: the inbound half's per-call name wins over the receptionist's own, so a
    name left in the YAML must not shadow the one set in HA.
    """
    receptionist = ReceptionistSettings.model_validate(
        {
            **settings.receptionist.model_dump(),
            "owner_name": section.owner_name,
            "greeting": section.greeting or DEFAULT_GREETING,
        }
    )
    inbound = InboundSettings.model_validate({**settings.inbound.model_dump(), "owner_name": section.owner_name})
    return receptionist, inbound


def trunk_settings(sip: SipConfig, trunk: TrunkSection | None) -> SipConfig:
    """Return the SIP settings with this trunk (or none)."""
    fields: dict[str, Any] = {"registrar": None, "username": None, "password": None, "domain": None}
    fields["outbound_proxy"] = None
    if trunk is not None:
        fields = {
            "registrar": trunk.registrar_uri(),
            "username": trunk.username,
            "password": trunk.password,
            "domain": trunk.domain,
            "outbound_proxy": trunk.outbound_proxy,
            "dtmf_method": trunk.dtmf_method,
            "dtmf_duration_ms": trunk.dtmf_duration_ms,
            "dtmf_gap_ms": trunk.dtmf_gap_ms,
        }
    return SipConfig.model_validate({**sip.model_dump(), **fields})


def voice_settings(voice: VoiceSettings, section: VoiceSection) -> VoiceSettings:
    """Return the voice settings with the backends chosen in HA (other tuning from the YAML stays)."""
    fields = section.model_dump()
    return VoiceSettings.model_validate({**voice.model_dump(), **fields})

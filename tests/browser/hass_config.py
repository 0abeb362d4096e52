"""Write a ready-to-run Home Assistant config dir: onboarded, one admin with a long-lived token, a dashboard.

Everything is written as HA's own ``.storage`` files, so ``hass -c DIR`` starts without any prompt.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import __version__ as HA_VERSION

REPO = Path(__file__).resolve().parents[2]
INTEGRATION_DIR = REPO / "custom_components" / "hold_slayer"
# The README's pictures are taken by these tests, but a test run must not rewrite tracked files: they go to a
# scratch folder unless HOLD_SLAYER_UPDATE_SCREENSHOTS=1 asks for the docs/ copies to be refreshed.
SCREENSHOTS = (
    REPO / "docs"
    if os.environ.get("HOLD_SLAYER_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "hold-slayer-screenshots"
)
TOKEN_LIFETIME_S = 24 * 3600


@dataclass(frozen=True)
class PreparedConfig:
    """What a test needs to talk to the hass it prepared."""

    config_dir: Path
    port: int
    access_token: str
    refresh_token: str
    entry_id: str

    @property
    def url(self) -> str:
        """Base URL of the hass HTTP server."""
        return f"http://127.0.0.1:{self.port}"


def _store(config_dir: Path, key: str, data: dict[str, Any], version: int = 1, minor_version: int = 1) -> None:
    path = config_dir / ".storage" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": version, "minor_version": minor_version, "key": key, "data": data}))


def _auth(config_dir: Path) -> tuple[str, str]:
    """An owner in system-admin plus a long-lived access token (what Profile > Security creates)."""
    user_id = uuid.uuid4().hex
    token_id = uuid.uuid4().hex
    jwt_key = secrets.token_hex(64)
    refresh_token = secrets.token_hex(64)
    _store(
        config_dir,
        "auth",
        {
            "users": [
                {
                    "id": user_id,
                    "group_ids": ["system-admin"],
                    "is_owner": True,
                    "is_active": True,
                    "name": "Browser Test",
                    "system_generated": False,
                    "local_only": False,
                }
            ],
            "groups": [
                {"id": "system-admin", "name": "Administrators"},
                {"id": "system-users", "name": "Users"},
                {"id": "system-read-only", "name": "Read Only"},
            ],
            "credentials": [],
            "refresh_tokens": [
                {
                    "id": token_id,
                    "user_id": user_id,
                    "client_id": None,
                    "client_name": "hold-slayer browser test",
                    "client_icon": None,
                    "token_type": "long_lived_access_token",
                    "created_at": datetime.now(UTC).isoformat(),
                    "access_token_expiration": float(TOKEN_LIFETIME_S),
                    "token": refresh_token,
                    "jwt_key": jwt_key,
                    "last_used_at": None,
                    "last_used_ip": None,
                    "expire_at": None,
                    "credential_id": None,
                    "version": HA_VERSION,
                }
            ],
        },
    )
    now = int(time.time())
    access = jwt.encode({"iss": token_id, "iat": now, "exp": now + TOKEN_LIFETIME_S}, jwt_key, algorithm="HS256")
    return access, refresh_token


def _config_entry(sidecar_port: int, sidecar_token: str, companies: list[dict[str, Any]]) -> ConfigEntry[Any]:
    return ConfigEntry(
        data={"host": "127.0.0.1", "port": sidecar_port, "token": sidecar_token},
        discovery_keys=MappingProxyType({}),
        domain="hold_slayer",
        minor_version=1,
        options={},
        source="user",
        subentries_data=[
            {
                "data": company,
                "subentry_type": "company",
                "title": company["name"],
                "unique_id": company["name"].casefold(),
            }
            for company in companies
        ],
        title="Hold Slayer",
        unique_id=None,
        version=1,
    )


def write_config(
    config_dir: Path,
    *,
    port: int,
    sidecar_port: int,
    sidecar_token: str,
    companies: list[dict[str, Any]],
    card_config: dict[str, Any],
) -> PreparedConfig:
    """Write configuration.yaml and .storage so hass starts onboarded with the integration and the card."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "custom_components").mkdir(exist_ok=True)
    link = config_dir / "custom_components" / "hold_slayer"
    if not link.exists():
        link.symlink_to(INTEGRATION_DIR, target_is_directory=True)
    # A minimal set instead of default_config: the frontend and what the card needs, nothing that scans
    # the network (no zeroconf, ssdp, dhcp, cloud).
    (config_dir / "configuration.yaml").write_text(
        "homeassistant:\n"
        "  name: Hold Slayer Test\n"
        "  unit_system: metric\n"
        "  time_zone: UTC\n"
        "  latitude: 0\n"
        "  longitude: 0\n"
        "  elevation: 0\n"
        "http:\n"
        "  server_host: 127.0.0.1\n"
        f"  server_port: {port}\n"
        "frontend:\n"
        "config:\n"
        "logger:\n"
        "  default: warning\n"
        "  logs:\n"
        "    custom_components.hold_slayer: debug\n"
    )
    access, refresh = _auth(config_dir)
    _store(config_dir, "onboarding", {"done": ["user", "core_config", "analytics", "integration"]}, version=4)
    entry = _config_entry(sidecar_port, sidecar_token, companies)
    _store(config_dir, "core.config_entries", {"entries": [entry.as_dict()]}, minor_version=5)
    _store(
        config_dir,
        "lovelace",
        {"config": {"title": "Hold Slayer", "views": [{"title": "Calls", "path": "calls", "cards": [card_config]}]}},
    )
    # No "custom integration" nag and the default (light) theme unless a test picks one.
    return PreparedConfig(config_dir, port, access, refresh, entry.entry_id)

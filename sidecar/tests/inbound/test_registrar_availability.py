"""A registered phone added from HA never silently waits for a restart: the registrar runs, or the refusal says why.

The real sidecar as a process: with phones asked for on the LAN its edge (kamailio, with the registrar) starts at
once, so the first phone gets its credentials; on loopback with no trunk it does not, and adding a registered phone
is refused with the setting to change, while a phone reached by SIP URI is still fine.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.protocol import Command
from sidecar_harness import Sidecar, free_port

from .test_inbound_e2e import connect

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio (Debian kamailio) is not installed"),
]
TOKEN = "inbound-e2e-token-0123456789abc"  # the one test_inbound_e2e.connect says hello with


def _sidecar(tmp_path: Path, config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    process = Sidecar(tmp_path, token=TOKEN, config=config, sip_port=free_port(socket.SOCK_DGRAM), sip_workers=1)
    try:
        yield process.wait_ready()
    finally:
        process.stop()


@pytest.fixture
def lan_phones(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Phones asked for on the LAN (the edge on loopback here: tests stay on 127.0.0.1), no trunk, no phone yet."""
    yield from _sidecar(tmp_path, {"edge": {"phones_on_lan": True, "host": "127.0.0.1"}})


@pytest.fixture
def loopback_only(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """SIP on loopback, no trunk: no edge, so no registrar."""
    yield from _sidecar(tmp_path, {})


async def test_the_first_registered_phone_gets_credentials_without_a_restart(lan_phones: dict[str, Any]) -> None:
    async with connect(lan_phones) as client:
        snapshot = await client.ok(Command.GET_SNAPSHOT)
        assert snapshot["sidecar"]["engines"].get("edge", "ok") == "ok"
        saved = await client.ok(Command.SAVE_DEVICE, {"name": "Softphone", "kind": "registered"})
        credentials = saved["credentials"]
        assert credentials["password"] and credentials["username"] == saved["device"]["address"]
        assert credentials["registrar"].endswith(f":{lan_phones['sip_port']}")
        assert saved["device"]["registered"] is False  # until it registers


async def test_without_a_registrar_adding_a_registered_phone_says_what_to_change(
    loopback_only: dict[str, Any],
) -> None:
    async with connect(loopback_only) as client:
        frame = await client.ask(Command.SAVE_DEVICE, {"name": "Softphone", "kind": "registered"})
        assert frame["success"] is False and frame["error"]["code"] == "not_ready"
        assert "edge.phones_on_lan: true" in frame["error"]["message"]
        assert "restart" in frame["error"]["message"]
        listed = await client.ok(Command.LIST_DEVICES)
        assert listed["devices"] == []  # nothing half made
        uri = await client.ok(Command.SAVE_DEVICE, {"name": "Desk", "kind": "sip_uri", "address": "sip:desk@127.0.0.1"})
        assert uri["device"]["name"] == "Desk"

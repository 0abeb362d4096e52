"""A registered phone added from HA never silently waits for a restart: the registrar runs, or the refusal says why.

The real sidecar as a process: with phones asked for on the LAN its edge (kamailio, with the registrar) starts at
once, so the first phone gets its credentials; on loopback with no trunk it does not, and adding a registered phone
is refused with the setting to change, while a phone reached by SIP URI is still fine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.protocol import Command

from .test_inbound_e2e import connect, stop_process

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio (Debian kamailio) is not installed"),
]
TOKEN = "inbound-e2e-token-0123456789abc"  # the one test_inbound_e2e.connect says hello with


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sidecar(tmp_path: Path, config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    ready = tmp_path / "ready.json"
    log = (tmp_path / "sidecar.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "hold_slayer_sidecar", "--config", str(path), "--port", "0",
            "--sip-port", str(_free_udp_port()), "--sip-workers", "1",
            "--data-dir", str(tmp_path / "data"), "--ready-file", str(ready),
        ],
        env={**os.environ, "HOLD_SLAYER_TOKEN": TOKEN},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not ready.exists():
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "sidecar.log").read_text()
            time.sleep(0.1)
        yield json.loads(ready.read_text())
    finally:
        stop_process(process)


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
        await client.ws.send_str(
            protocol.encode(protocol.request(99, Command.SAVE_DEVICE, {"name": "Softphone", "kind": "registered"}))
        )
        while True:
            frame = json.loads((await client.ws.receive(timeout=30)).data)
            if frame["type"] == "result" and frame["id"] == 99:
                break
        assert frame["success"] is False and frame["error"]["code"] == "not_ready"
        assert "edge.phones_on_lan: true" in frame["error"]["message"]
        assert "restart" in frame["error"]["message"]
        listed = await client.ok(Command.LIST_DEVICES)
        assert listed["devices"] == []  # nothing half made
        uri = await client.ok(Command.SAVE_DEVICE, {"name": "Desk", "kind": "sip_uri", "address": "sip:desk@127.0.0.1"})
        assert uri["device"]["name"] == "Desk"

"""Fixtures for SIP edge tests: a real kamailio on loopback, real PJSUA2 peers and SIPp as the network.

Loopback is a whole /8: the "trunk" speaks from 127.0.0.2, strangers and attackers from 127.0.0.3, so the
edge's per-source rules (allow-list, flood limit) apply as they would on the internet.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "sip"))

from hold_slayer_sidecar.edge import EdgeSettings, EdgeSupervisor
from sip_harness import TIMEOUT, PeerProcess

SCENARIOS = Path(__file__).with_name("scenarios")
SIP_SCENARIOS = Path(__file__).parent.parent / "sip" / "scenarios"
TRUNK_IP = "127.0.0.2"
STRANGER_IP = "127.0.0.3"

# CI installs kamailio and SIPp (scripts/setup): there a missing one is a failure, not a skip.
requires_edge_tools = pytest.mark.skipif(
    (shutil.which("kamailio") is None or shutil.which("sipp") is None) and not os.environ.get("CI"),
    reason="kamailio or SIPp (Debian kamailio, sip-tester) is not installed",
)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class EdgeRig:
    """The edge under test, the worker port it forwards to, and the files of the run."""

    edge: EdgeSupervisor
    worker_port: int
    tmp_path: Path

    @property
    def port(self) -> int:
        return self.edge.settings.port

    @property
    def proxy(self) -> str:
        return self.edge.settings.proxy_uri


type SippRun = Callable[..., Awaitable[tuple[int, asyncio.subprocess.Process]]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[EdgeRig]:
    """A running edge on 127.0.0.1 admitting new calls from TRUNK_IP only, forwarding to one worker port."""
    worker = free_udp_port()
    settings = EdgeSettings(
        port=free_udp_port(), internal_port=free_udp_port(), worker_ports=(worker,), allow_from=(TRUNK_IP,)
    )
    edge = EdgeSupervisor(settings, tmp_path / "edge")
    await edge.start()
    yield EdgeRig(edge, worker, tmp_path)
    await edge.stop()


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[SippRun]:
    """Start SIPp from a given loopback address; processes still running at the end are killed."""
    procs: list[asyncio.subprocess.Process] = []

    async def start(*args: str, source: str = STRANGER_IP, calls: int = 1, timeout_s: int = 30) -> tuple[int, Any]:
        port = free_udp_port(source)
        log = tmp_path / f"sipp{len(procs)}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                "sipp", *args, "-i", source, "-p", str(port), "-mp", str(free_udp_port(source)),
                "-nostdin", "-m", str(calls), "-timeout", str(timeout_s), "-timeout_error",
                stdout=out, stderr=out, cwd=tmp_path,
            )  # fmt: skip
        procs.append(proc)
        await asyncio.sleep(0.3)  # let SIPp bind
        return port, proc

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def finished(proc: asyncio.subprocess.Process, within: float = TIMEOUT) -> int:
    """Wait for a SIPp run to end; return its exit code (0: every call went as the scenario says)."""
    return await asyncio.wait_for(proc.wait(), within)


@pytest.fixture
async def peers(tmp_path: Path) -> AsyncIterator[list[PeerProcess]]:
    """PJSUA2 peers started by a test; each must still be alive at the end and exit cleanly."""
    started: list[PeerProcess] = []
    yield started
    for index, peer in enumerate(started):
        assert peer.alive, f"PJSUA2 peer {index} died: {peer.log_path.read_text(errors='replace')[-2000:]}"
        code = await peer.close()
        assert code == 0, f"peer {index} exited with {code}: {peer.log_path.read_text(errors='replace')[-2000:]}"


async def start_worker(rig: EdgeRig, peers: list[PeerProcess], auto: str = "answer", **settings: Any) -> PeerProcess:
    """Start a PJSUA2 peer as the edge's worker: loopback only, the edge as its outbound proxy."""
    peer = PeerProcess(
        auto,
        rig.tmp_path / f"worker{len(peers)}.log",
        {"port": rig.worker_port, "outbound_proxy": rig.proxy, **settings},
    )
    peers.append(peer)
    await peer.start()
    return peer


async def start_trunk_worker(rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun, call_port: int) -> PeerProcess:
    """A worker registered (through the edge) to a SIPp trunk registrar; numbers go to TRUNK_IP:call_port."""
    scenario = rig.tmp_path / "registrar.xml"
    template = (SIP_SCENARIOS / "registrar.xml").read_text()
    scenario.write_text(template.replace("__USER__", "alice").replace("__PASSWORD__", "secret"))
    registrar_port, registrar = await sipp("-sf", str(scenario), source=TRUNK_IP)
    peer = await start_worker(
        rig,
        peers,
        registrar=f"sip:{TRUNK_IP}:{registrar_port}",
        username="alice",
        password="secret",
        domain=f"{TRUNK_IP}:{call_port}",
    )
    assert await finished(registrar) == 0, "the REGISTER did not pass the edge with its digest challenge"
    return peer

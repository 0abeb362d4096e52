"""Fixtures for SIP edge tests (helpers in edge_harness.py): the edge, SIPp runs and PJSUA2 peers."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.edge import EdgeSettings, EdgeSupervisor
from hold_slayer_sidecar.edge.registrar import EdgeRegistrar, rpc_socket

from edge.edge_harness import STRANGER_IP, TRUNK_IP, EdgeRig, PeerProcess, SippRun, Trap, free_udp_port


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


@pytest.fixture
async def peers(tmp_path: Path) -> AsyncIterator[list[PeerProcess]]:
    """PJSUA2 peers started by a test; each must still be alive at the end and exit cleanly."""
    started: list[PeerProcess] = []
    yield started
    for index, peer in enumerate(started):
        assert peer.alive, f"PJSUA2 peer {index} died: {peer.log_path.read_text(errors='replace')[-2000:]}"
        code = await peer.close()
        assert code == 0, f"peer {index} exited with {code}: {peer.log_path.read_text(errors='replace')[-2000:]}"


@pytest.fixture
async def trap() -> AsyncIterator[Trap]:
    """A UDP trap on 127.0.0.9."""
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(Trap, local_addr=("127.0.0.9", 0))
    protocol.port = int(transport.get_extra_info("sockname")[1])
    yield protocol
    transport.close()


@pytest.fixture
async def registrar_edge(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[tuple[EdgeRig, EdgeRegistrar]]]]:
    """Start an edge with the registrar on (settings overridable), and its EdgeRegistrar."""
    edges: list[EdgeSupervisor] = []
    run_dir = tmp_path / ("deep" * 20)  # longer than a Unix socket address: the RPC socket moves to /tmp

    async def start(**overrides: Any) -> tuple[EdgeRig, EdgeRegistrar]:
        worker = free_udp_port()
        settings = EdgeSettings(
            port=free_udp_port(),
            internal_port=free_udp_port(),
            worker_ports=(worker,),
            allow_from=(TRUNK_IP,),
            registrar=True,
            **overrides,
        )
        edge = EdgeSupervisor(settings, run_dir / f"e{len(edges)}")
        await edge.start()
        edges.append(edge)
        return EdgeRig(edge, worker, tmp_path), EdgeRegistrar.for_edge(settings, edge.run_dir)

    yield start
    for edge in edges:
        await edge.stop()
        shutil.rmtree(rpc_socket(edge.run_dir).parent, ignore_errors=True)

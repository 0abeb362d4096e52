"""Fixtures for SIP engine tests: the engine under test and real peers in subprocesses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from sip_harness import TIMEOUT, Engine, EventLog, PeerFactory, PeerProcess


@pytest.fixture
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    """The engine under test (stopped, and so checked for a clean stop, after the test).

    ``PjsuaEngine`` in this process by default (so such files run in a child pytest, see
    tests/pjsua_isolation.py); a test parametrized indirectly with ``"pool"`` gets a ``WorkerPoolEngine`` of two
    worker processes instead (the same ``SipEngine`` contract).
    """
    kind = getattr(request, "param", "direct")
    if kind == "pool":
        sip: Engine = WorkerPoolEngine(SipSettings(), workers=2)
    else:  # only in a child pytest (tests/pjsua_isolation.py): importing the engine loads pjsua2
        from hold_slayer_sidecar.sip.engine import PjsuaEngine

        sip = PjsuaEngine(SipSettings())
    await sip.start()
    yield sip
    await asyncio.wait_for(sip.stop(), TIMEOUT)


@pytest.fixture
def events(engine: Engine) -> EventLog:
    """Every leg event of the engine under test."""
    log = EventLog()
    engine.subscribe_events(log)
    return log


@pytest.fixture
async def make_peer(tmp_path: Path) -> AsyncIterator[PeerFactory]:
    """Start peers on demand; every peer must exit cleanly (exit code 0) at the end of the test."""
    peers: list[PeerProcess] = []

    async def make(auto: str = "answer") -> PeerProcess:
        peer = PeerProcess(auto, tmp_path / f"peer{len(peers)}.log")
        peers.append(peer)
        await peer.start()
        return peer

    yield make
    for index, peer in enumerate(peers):
        code = await peer.close()
        assert code == 0, f"peer {index} exited with {code}: {peer.log_path.read_text(errors='replace')[-2000:]}"

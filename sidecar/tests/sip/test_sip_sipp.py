"""Interop with SIPp (an independent SIP implementation): RTP echo and a digest-auth registrar."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip.api import LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from sidecar_harness import free_port
from sip_harness import TIMEOUT, EventLog, PeerFactory
from tones import spectrum_peaks, tone

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed")

SCENARIOS = Path(__file__).with_name("scenarios")

type SippFactory = Callable[..., Awaitable[tuple[int, asyncio.subprocess.Process]]]


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[SippFactory]:
    """Start SIPp on a free port; every instance must finish with exit code 0."""
    procs: list[asyncio.subprocess.Process] = []

    async def start(*args: str) -> tuple[int, asyncio.subprocess.Process]:
        port = free_port(socket.SOCK_DGRAM)
        media = free_port(socket.SOCK_DGRAM)
        with (tmp_path / f"sipp{len(procs)}.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                "sipp", *args, "-i", "127.0.0.1", "-p", str(port), "-mp", str(media),
                "-nostdin", "-m", "1", "-timeout", "30", "-timeout_error",
                stdout=log, stderr=log, cwd=tmp_path,
            )  # fmt: skip
        procs.append(proc)
        await asyncio.sleep(0.3)  # let SIPp bind
        return port, proc

    yield start
    for index, proc in enumerate(procs):
        try:
            code = await asyncio.wait_for(proc.wait(), TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert code == 0, (tmp_path / f"sipp{index}.log").read_text(errors="replace")[-2000:]


async def test_sipp_uas_answers_and_echoes_what_we_play(
    engine: PjsuaEngine, events: EventLog, sipp: SippFactory
) -> None:
    port, _proc = await sipp("-sn", "uas", "-rtp_echo")
    leg = await engine.dial(f"sip:service@127.0.0.1:{port}")
    await events.wait(LegEventKind.RINGING, leg)
    await events.wait(LegEventKind.ANSWERED, leg)
    frames: list[AudioFrame] = []
    engine.subscribe_audio(leg, frames.append)
    await engine.play(leg, tone(800, 1.5), 8000)
    echoed = np.concatenate([f.pcm for f in frames[-25:]])
    assert abs(spectrum_peaks(echoed, 8000, 1)[0] - 800) < 20
    await engine.hang_up(leg)
    assert (await events.wait(LegEventKind.DISCONNECTED, leg)).status_code == 200


async def test_sipp_caller_is_answered_and_its_rfc2833_digits_are_reported(
    engine: PjsuaEngine, events: EventLog, sipp: SippFactory
) -> None:
    _port, _proc = await sipp("-sf", str(SCENARIOS / "uac_dtmf.xml"), "-s", "bank", f"127.0.0.1:{engine.local_port}")
    incoming = await events.wait(LegEventKind.INCOMING)
    assert incoming.local_uri == f"sip:bank@127.0.0.1:{engine.local_port}"
    assert incoming.remote_uri.startswith("sip:sipp@127.0.0.1")
    await engine.answer(incoming.leg_id)
    await events.wait(LegEventKind.ANSWERED, incoming.leg_id)
    ended = await events.wait(LegEventKind.DISCONNECTED, incoming.leg_id)  # SIPp sends BYE when done
    assert ended.status_code == 200
    assert [e.digit for e in events.of(LegEventKind.DTMF_RECEIVED, incoming.leg_id)] == ["1", "#"]


async def registered_engine(registrar_port: int, password: str, domain: str) -> PjsuaEngine:
    engine = PjsuaEngine(
        SipSettings(registrar=f"sip:127.0.0.1:{registrar_port}", username="alice", password=password, domain=domain)
    )
    await engine.start()
    return engine


async def wait_registered(engine: PjsuaEngine | WorkerPoolEngine, want: bool, seconds: float = 5) -> bool:
    for _ in range(int(seconds / 0.05)):
        if engine.registered == want:
            return True
        await asyncio.sleep(0.05)
    return engine.registered == want


@pytest.mark.parametrize(("password", "accepted"), [("secret", True), ("wrong", False)])
async def test_trunk_registers_with_digest_auth_and_dials_numbers_via_its_domain(
    sipp: SippFactory, make_peer: PeerFactory, tmp_path: Path, password: str, accepted: bool
) -> None:
    scenario = tmp_path / "registrar.xml"
    template = (SCENARIOS / "registrar.xml").read_text()
    scenario.write_text(template.replace("__USER__", "alice").replace("__PASSWORD__", "secret"))
    port, proc = await sipp("-sf", str(scenario))
    peer = await make_peer("answer")  # stands in for the trunk's far end: numbers go to the domain
    peer_hostport = peer.uri.split("@", 1)[1]
    engine = await registered_engine(port, password, peer_hostport)
    try:
        await asyncio.wait_for(proc.wait(), TIMEOUT)  # SIPp exits once it has sent 200 or 403
        assert await wait_registered(engine, accepted)
        assert engine.registration_status[0] == (200 if accepted else 403)
        if accepted:
            leg = await engine.dial("1 800 555 0100")
            incoming = await peer.wait_leg("incoming")
            assert incoming["local_uri"] == f"sip:18005550100@{peer_hostport}"
            await peer.wait_leg("answered")
            await engine.hang_up(leg)
            await peer.wait_leg("disconnected")
    finally:
        await engine.stop()


async def test_pool_registers_from_worker_zero_and_every_worker_dials_via_the_trunk(
    sipp: SippFactory, make_peer: PeerFactory, tmp_path: Path
) -> None:
    """Worker 0 registers (the others have register=False); both workers send numbers to the trunk."""
    scenario = tmp_path / "registrar.xml"
    template = (SCENARIOS / "registrar.xml").read_text()
    scenario.write_text(template.replace("__USER__", "alice").replace("__PASSWORD__", "secret"))
    port, proc = await sipp("-sf", str(scenario))
    peer = await make_peer("answer")
    peer_hostport = peer.uri.split("@", 1)[1]
    settings = SipSettings(registrar=f"sip:127.0.0.1:{port}", username="alice", password="secret", domain=peer_hostport)
    pool = WorkerPoolEngine(settings, workers=2)
    await pool.start()
    try:
        await asyncio.wait_for(proc.wait(), TIMEOUT)
        assert await wait_registered(pool, True)
        assert pool.registration_status[0] == 200
        legs = [await pool.dial(number) for number in ("1 800 555 0100", "1 800 555 0199")]
        assert sorted(leg.split(".", 1)[0] for leg in legs) == ["w0", "w1"]  # one session in each worker
        for _ in legs:
            await peer.wait_event(lambda _e: len(peer.legs("answered")) >= len(legs))
        called = sorted(event["local_uri"] for event in peer.legs("incoming"))
        assert called == [f"sip:18005550100@{peer_hostport}", f"sip:18005550199@{peer_hostport}"]
        for leg in legs:
            await pool.hang_up(leg)
    finally:
        await pool.stop()


async def test_a_new_trunk_applies_to_new_calls_and_the_call_in_progress_stays_up(
    sipp: SippFactory, make_peer: PeerFactory, tmp_path: Path
) -> None:
    """set_trunk while a call is up: the call keeps going, the new account registers and carries the next call."""
    scenario = tmp_path / "registrar.xml"
    template = (SCENARIOS / "registrar.xml").read_text()
    scenario.write_text(template.replace("__USER__", "alice").replace("__PASSWORD__", "secret"))
    peer = await make_peer("answer")
    peer_hostport = peer.uri.split("@", 1)[1]
    pool = WorkerPoolEngine(SipSettings(), workers=1)
    events = EventLog()
    pool.subscribe_events(events)
    await pool.start()
    try:
        first = await pool.dial(peer.uri)
        await events.wait(LegEventKind.ANSWERED, first)
        port, proc = await sipp("-sf", str(scenario))
        trunk = SipSettings(
            registrar=f"sip:127.0.0.1:{port}", username="alice", password="secret", domain=peer_hostport
        )
        await pool.set_trunk(trunk)
        assert await pool.wait_registration(10) == (200, "OK")
        await asyncio.wait_for(proc.wait(), TIMEOUT)
        assert not events.of(LegEventKind.DISCONNECTED, first)  # the call in progress was not touched
        second = await pool.dial("1 800 555 0100")  # a number: only the new trunk can place it
        await events.wait(LegEventKind.ANSWERED, second)
        assert peer.legs("incoming")[-1]["local_uri"] == f"sip:18005550100@{peer_hostport}"
        for leg in (first, second):
            await pool.hang_up(leg)
            await events.wait(LegEventKind.DISCONNECTED, leg)
    finally:
        await pool.stop()

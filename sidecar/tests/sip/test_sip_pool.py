"""The worker pool over real loopback SIP: crash isolation, restart, placement, many calls, no PJSUA2 here."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip.api import LegEventKind, SipError
from hold_slayer_sidecar.sip.pool import LOST_STATUS, WorkerPoolEngine, restart_delay
from hold_slayer_sidecar.sip.settings import SipSettings
from hold_slayer_sidecar.sip.worker_link import HUNG_AFTER_S
from sip_harness import TIMEOUT, EventLog, PeerFactory, PeerProcess, dial_answered
from tones import spectrum_peaks


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPoolEngine]:
    """A real pool of two media workers."""
    engine = WorkerPoolEngine(SipSettings(), workers=2)
    await engine.start()
    yield engine
    await asyncio.wait_for(engine.stop(), TIMEOUT)
    assert engine.worker_pids == []  # every worker reaped


@pytest.fixture
def log(pool: WorkerPoolEngine) -> EventLog:
    """Every leg event of the pool."""
    events = EventLog()
    pool.subscribe_events(events)
    return events


def worker_of(leg_id: str) -> int:
    """The worker index encoded in a pool leg id (``w{index}.{generation}/...``)."""
    return int(leg_id[1:].split(".", 1)[0])


async def bridged_session(
    pool: WorkerPoolEngine, log: EventLog, peer: PeerProcess
) -> tuple[tuple[str, str], tuple[str, str]]:
    """Dial a company leg and a user leg beside it, bridge them; return ((ours, peer's), (ours, peer's))."""
    company = await dial_answered(pool, log, peer)
    user = await dial_answered(pool, log, peer, near=company[0])
    await pool.bridge(company[0], user[0])
    return company, user


async def hears(peer: PeerProcess, speaker: str, listener: str, freq: float) -> bool:
    """Play a tone on the peer's ``speaker`` leg and check its ``listener`` leg hears it through our bridge."""
    await peer.request("play_tone", leg=speaker, freq=freq, seconds=2)
    await asyncio.sleep(0.3)
    heard = await peer.request("capture", leg=listener, seconds=0.6)
    return bool(heard["peaks"]) and abs(heard["peaks"][0] - freq) < 20


async def wait_restarted(pool: WorkerPoolEngine, index: int, old_pid: int | None) -> int:
    """Wait until worker ``index`` runs again under a new pid; return it."""

    async def restarted() -> int:
        while (pid := pool.worker_pids[index]) is None or pid == old_pid:  # noqa: ASYNC110 - public state, polled
            await asyncio.sleep(0.05)
        return pid

    return await asyncio.wait_for(restarted(), TIMEOUT)


@pytest.mark.slow
async def test_killed_worker_fails_only_its_calls_and_is_restarted(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    # One peer per session: a peer is a PJSUA2 process too (4 legs), and the lost legs stay up at its end.
    doomed_peer, peer, fresh_peer = [await make_peer("answer") for _ in range(3)]
    (doomed_a, _), (doomed_b, _) = await bridged_session(pool, log, doomed_peer)
    (kept_a, peer_kept_a), (kept_b, peer_kept_b) = await bridged_session(pool, log, peer)
    victim, survivor = worker_of(doomed_a), worker_of(kept_a)
    assert worker_of(doomed_b) == victim and worker_of(kept_b) == survivor != victim  # sessions spread out
    ports = pool.worker_ports
    old_pid = pool.worker_pids[victim]
    assert old_pid is not None

    os.kill(old_pid, signal.SIGKILL)
    for leg in (doomed_a, doomed_b):
        ended = await log.wait(LegEventKind.DISCONNECTED, leg)
        assert ended.status_code == LOST_STATUS
        assert ended.reason == f"media worker {victim} crashed (killed by signal 9, SIGKILL); restarted"

    assert await hears(peer, peer_kept_a, peer_kept_b, 700)  # the other call is still bridged, both ways
    assert await hears(peer, peer_kept_b, peer_kept_a, 1100)
    assert not log.of(LegEventKind.DISCONNECTED, kept_a) and not log.of(LegEventKind.DISCONNECTED, kept_b)

    await wait_restarted(pool, victim, old_pid)
    assert pool.worker_ports == ports  # the same SIP port: an edge's list of workers stays right
    assert pool.restarts == 1
    with pytest.raises(SipError, match="unknown or finished"):
        await pool.bridge(doomed_a, doomed_b)
    await pool.hang_up(doomed_a)  # a lost leg hangs up quietly

    # New calls work; the first goes to the restarted worker, the least loaded one.
    fresh = [await bridged_session(pool, log, fresh_peer) for _ in range(2)]
    assert worker_of(fresh[0][0][0]) == victim
    for company, user in fresh:
        assert await hears(fresh_peer, company[1], user[1], 900)
    for leg in (kept_a, kept_b, *(leg for session in fresh for leg, _ in session)):
        await pool.hang_up(leg)
        assert (await log.wait(LegEventKind.DISCONNECTED, leg)).status_code == 200


async def test_killed_idle_workers_restart_and_a_dial_waits_for_them(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    peer = await make_peer("answer")
    pids = pool.worker_pids
    for pid in pids:  # both down at once: the next dial waits for a restarted one
        assert pid is not None
        os.kill(pid, signal.SIGKILL)

    async def noticed() -> None:  # (a dial racing the crash itself fails with the crash as its reason)
        while any(now == before for now, before in zip(pool.worker_pids, pids, strict=True)):  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(noticed(), TIMEOUT)
    leg, _ = await dial_answered(pool, log, peer)
    await pool.hang_up(leg)
    await log.wait(LegEventKind.DISCONNECTED, leg)
    await wait_restarted(pool, 0, pids[0])
    await wait_restarted(pool, 1, pids[1])


@pytest.mark.slow
async def test_worker_that_stops_answering_is_killed_and_restarted(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    """SIGSTOP freezes every thread, as a deadlock inside PJSIP would: the heartbeat notices; the other call goes on."""
    doomed_peer, peer = await make_peer("answer"), await make_peer("answer")
    leg, _ = await dial_answered(pool, log, doomed_peer)
    (kept_a, peer_kept_a), (kept_b, peer_kept_b) = await bridged_session(pool, log, peer)
    index = worker_of(leg)
    assert worker_of(kept_a) != index
    pid = pool.worker_pids[index]
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    ended = await log.wait(LegEventKind.DISCONNECTED, leg, within=15)
    assert ended.reason == f"media worker {index} crashed (stopped responding); restarted"
    await wait_restarted(pool, index, pid)
    assert await hears(peer, peer_kept_a, peer_kept_b, 700)  # the bridged call in the other worker never noticed
    assert await hears(peer, peer_kept_b, peer_kept_a, 1100)
    for kept in (kept_a, kept_b):
        await pool.hang_up(kept)
        assert (await log.wait(LegEventKind.DISCONNECTED, kept)).status_code == 200


async def test_a_stalled_sidecar_loop_does_not_blame_its_workers(pool: WorkerPoolEngine) -> None:
    """The sidecar's own loop blocked longer than HUNG_AFTER_S (a slow box, a long sync call): no worker is killed."""
    pids = pool.worker_pids
    time.sleep(HUNG_AFTER_S + 1.0)  # noqa: ASYNC251 - the point: block the loop as a stuck sidecar would
    await asyncio.sleep(HUNG_AFTER_S + 0.5)  # a heartbeat cycle with the workers answering again
    assert pool.restarts == 0
    assert pool.worker_pids == pids


async def test_sessions_keep_their_legs_together_and_capacity_is_two_per_worker(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    peers = [await make_peer("answer") for _ in range(2)]  # each peer is a PJSUA2 process of 4 legs
    peer = peers[0]
    companies = [(await dial_answered(pool, log, peers[n % 2]))[0] for n in range(4)]
    assert sorted(worker_of(leg) for leg in companies) == [0, 0, 1, 1]
    with pytest.raises(SipError, match="no free call slot"):  # a fifth session has no room for its two legs
        await pool.dial(peer.uri)
    users = [(await dial_answered(pool, log, peers[n % 2], near=leg))[0] for n, leg in enumerate(companies)]
    assert [worker_of(leg) for leg in users] == [worker_of(leg) for leg in companies]
    with pytest.raises(SipError, match="no free call slot"):
        await pool.dial(peer.uri, near=companies[0])
    with pytest.raises(SipError, match="different media workers"):
        await pool.bridge(companies[0], next(leg for leg in companies if worker_of(leg) != worker_of(companies[0])))
    for leg in companies + users:
        await pool.hang_up(leg)
        await log.wait(LegEventKind.DISCONNECTED, leg)
    assert (await dial_answered(pool, log, peer))[0]  # capacity comes back


@pytest.mark.slow
async def test_forty_back_to_back_calls_through_the_pool_stay_clean(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    """Slot ids are reused inside each worker: a late-freed Call object must never end a newer call."""
    peer = await make_peer("answer")
    previous: list[str] = []
    for number in range(40):
        leg = await pool.dial(peer.uri)
        await log.wait(LegEventKind.ANSWERED, leg)
        frames: list[AudioFrame] = []
        pool.subscribe_audio(leg, frames.append)
        if len(previous) == 2:  # overlap calls so slots are reused out of order
            old = previous.pop(0)
            await pool.hang_up(old)
            assert (await log.wait(LegEventKind.DISCONNECTED, old)).status_code == 200
        await asyncio.sleep(0.15)
        assert frames, f"call {number} carried no audio"
        assert not log.of(LegEventKind.DISCONNECTED, leg), f"call {number} was dropped"
        previous.append(leg)
    for leg in previous:
        await pool.hang_up(leg)
        await log.wait(LegEventKind.DISCONNECTED, leg)
    assert len(log.of(LegEventKind.ANSWERED)) == 40
    assert all(e.status_code == 200 for e in log.of(LegEventKind.DISCONNECTED))
    assert pool.restarts == 0


async def test_tapped_audio_crosses_the_process_boundary_as_20ms_frames(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(pool, log, peer)
    frames: list[AudioFrame] = []
    pool.subscribe_audio(leg, frames.append)
    await peer.request("play_tone", leg=peer_leg, freq=1000, seconds=2)
    await asyncio.sleep(1.2)
    assert len(frames) >= 40
    assert all(f.pcm.size == 160 and f.sample_rate == 8000 for f in frames)
    assert [round(b.t_s - a.t_s, 3) for a, b in itertools.pairwise(frames)] == [0.02] * (len(frames) - 1)
    assert abs(spectrum_peaks(np.concatenate([f.pcm for f in frames[-25:]]), 8000, 1)[0] - 1000) < 20
    await pool.hang_up(leg)


async def test_a_worker_that_cannot_start_fails_the_pool_start_clearly(make_peer: PeerFactory) -> None:
    taken = WorkerPoolEngine(SipSettings(), workers=1)
    await taken.start()
    try:
        clash = WorkerPoolEngine(SipSettings(port=taken.local_port), workers=1)
        with pytest.raises(SipError, match="media worker 0 did not start: cannot bind SIP transport"):
            await clash.start()
        assert not clash.running
    finally:
        await taken.stop()


def test_restart_is_immediate_then_backs_off_when_a_worker_keeps_dying_young() -> None:
    assert [restart_delay(n) for n in range(9)] == [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert restart_delay(50) == 30.0


def test_worker_count_is_bounded() -> None:
    with pytest.raises(ValueError, match="workers must be"):
        WorkerPoolEngine(SipSettings(), workers=0)


async def test_inbound_calls_reach_whichever_worker_port_was_called(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    """An edge proxy spreads INVITEs over ``worker_ports``; each worker reports and answers its own."""
    caller = await make_peer("none")
    for index, port in enumerate(pool.worker_ports):
        peer_leg = await caller.request("dial", target=f"sip:frontdesk@127.0.0.1:{port}")
        incoming = await log.wait_count(LegEventKind.INCOMING, index + 1)
        assert worker_of(incoming.leg_id) == index
        assert incoming.local_uri == f"sip:frontdesk@127.0.0.1:{port}"
        await pool.answer(incoming.leg_id)
        await caller.wait_leg("answered", peer_leg)
        await pool.hang_up(incoming.leg_id)
        assert (await log.wait(LegEventKind.DISCONNECTED, incoming.leg_id)).status_code == 200


async def test_a_stalled_sidecar_loop_loses_no_call(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    """Two seconds without reading (a long synchronous step in the sidecar): audio queues up, nothing dies."""
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(pool, log, peer)
    frames: list[AudioFrame] = []
    pool.subscribe_audio(leg, frames.append)
    await peer.request("play_tone", leg=peer_leg, freq=800, seconds=6)
    await asyncio.sleep(0.5)
    time.sleep(2.0)  # noqa: ASYNC251 - the point: the whole loop stops
    before = len(frames)
    await asyncio.sleep(1.0)
    assert len(frames) - before >= 100  # the backlog of the stall, then live frames again
    assert not log.of(LegEventKind.DISCONNECTED) and pool.restarts == 0
    assert pool.dropped_audio_frames == 0  # 2 s of backlog is well inside the worker's bound
    assert [round(b.t_s - a.t_s, 3) for a, b in itertools.pairwise(frames)] == [0.02] * (len(frames) - 1)
    await pool.hang_up(leg)


async def test_a_spare_interpreter_replaces_a_dead_worker_and_is_itself_replaced(pool: WorkerPoolEngine) -> None:
    """Python's start-up and imports are most of a worker's start: a restart adopts one started ahead."""

    async def spare() -> int:
        while (pid := pool.spare_pid) is None:  # noqa: ASYNC110 - public state, polled
            await asyncio.sleep(0.05)
        return pid

    waiting = await asyncio.wait_for(spare(), TIMEOUT)
    old = pool.worker_pids[1]
    assert old is not None
    os.kill(old, signal.SIGKILL)
    assert await wait_restarted(pool, 1, old) == waiting
    assert await asyncio.wait_for(spare(), TIMEOUT) != waiting  # the next one is already on its way


async def test_a_worker_told_to_go_hangs_up_its_calls_first(
    pool: WorkerPoolEngine, log: EventLog, make_peer: PeerFactory
) -> None:
    """SIGTERM, which Linux also sends when the sidecar dies (PR_SET_PDEATHSIG): every leg gets a BYE, none dangles."""
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(pool, log, peer)
    index = worker_of(leg)
    pid = pool.worker_pids[index]
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    bye = await peer.wait_event(lambda e: e.get("leg_id") == peer_leg and e.get("kind") == "disconnected")
    assert bye["status_code"] == 200  # hung up by a BYE from our side, not timed out at the far end
    ended = await log.wait(LegEventKind.DISCONNECTED, leg)
    assert ended.status_code in {200, LOST_STATUS}  # its BYE or the pool noticing the exit, whichever is first
    await wait_restarted(pool, index, pid)

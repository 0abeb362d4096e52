"""A stranger's RTP burst into a live call over loopback: refused by the kernel, the peer's audio still flows.

pjmedia alone follows a new RTP source after 10 packets in a row (NAT latching); with ``rtp_peer_only`` the
call's media sockets admit only the SDP peer (a socket filter), so the injected tone never reaches the call. The same
burst with the filter off is the control: it must take the stream over, or this test proves nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip import rtp_filter
from hold_slayer_sidecar.sip.api import LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.rtp_filter import udp_sockets
from hold_slayer_sidecar.sip.settings import SipSettings
from hold_slayer_tools.bench.rtp_inject import drain, pcmu_tone
from sip_harness import TIMEOUT, EventLog, PeerFactory, dial_answered
from tones import spectrum_peaks

INJECTOR_IP = "127.0.0.8"  # another loopback address: a source the call's SDP never named
PEER_TONE = 450.0
INJECTED_TONE = 1000.0
OUR_TONE = 700.0
BURST = 15  # packets per 20 ms: more than PJMEDIA_RTP_NAT_PROBATION_CNT (10) between two of the peer's
BURST_S = 1.5

pytestmark = pytest.mark.slow


async def inject(ports: list[int], source: str = INJECTOR_IP) -> tuple[int, int]:
    """Send a burst of tone to the ports from a stranger; return (sent, the call's own packets received back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.setblocking(False)
        sent = back = seq = 0
        ends = time.monotonic() + BURST_S
        while time.monotonic() < ends:
            for _ in range(BURST):
                for port in ports:
                    sock.sendto(pcmu_tone(INJECTED_TONE, seq), ("127.0.0.1", port))
                    sent += 1
                seq += 1
            back += drain(sock)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        return sent, back + drain(sock)


def dominant(frames: list[AudioFrame]) -> list[float]:
    """The strongest frequency of each 100 ms (5 frames) of what the leg heard, leaving out silence."""
    pcm = np.concatenate([f.pcm for f in frames]) if frames else np.zeros(0, np.int16)
    chunks = [pcm[i : i + 800] for i in range(0, pcm.size - 799, 800)]
    # -50 dBFS: below any tone here (both are -10 dBFS or louder), above G.711's idle noise.
    return [spectrum_peaks(c, 8000, 1)[0] for c in chunks if np.sqrt(np.mean(c.astype(np.float64) ** 2)) > 100]


def near(freq: float, target: float) -> bool:
    return abs(freq - target) < 30


@pytest.fixture(params=[True, False], ids=["filter", "latching"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[PjsuaEngine]:
    """The engine under test in this process (so its media sockets are this process's), filter on or off."""
    sip = PjsuaEngine(SipSettings(rtp_peer_only=request.param))
    await sip.start()
    yield sip
    await asyncio.wait_for(sip.stop(), TIMEOUT)


async def test_a_burst_of_foreign_rtp_never_reaches_the_call(
    engine: PjsuaEngine, events: EventLog, make_peer: PeerFactory
) -> None:
    before = set(udp_sockets())
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    ports = sorted(set(udp_sockets()) - before)
    assert len(ports) == 2 and ports[0] % 2 == 0 and ports[1] == ports[0] + 1, ports  # RTP, RTCP (RFC 3550 s11)
    heard: list[AudioFrame] = []
    engine.subscribe_audio(leg, heard.append)
    await peer.request("play_tone", leg=peer_leg, freq=PEER_TONE, seconds=BURST_S + 4)
    ours = (np.sin(2 * np.pi * OUR_TONE * np.arange(8000 * 10) / 8000) * 9000).astype(np.int16)
    playing = asyncio.ensure_future(engine.play(leg, ours, 8000))  # resolves when played out: not awaited
    await asyncio.sleep(0.5)

    sent, back = await inject(ports)
    await asyncio.sleep(1.0)
    peer_heard = await peer.request("capture", leg=peer_leg, seconds=1.0)
    peaks = dominant(heard)

    assert sent >= BURST * 50
    injected = sum(near(f, INJECTED_TONE) for f in peaks)
    if engine.settings.rtp_peer_only:
        assert injected == 0, peaks
        assert back == 0, f"{back} of the call's packets went to the injector"
        assert sum(near(f, PEER_TONE) for f in peaks) >= len(peaks) - 5, [round(f) for f in peaks]
    else:
        # The control: without the filter pjmedia latches onto the burst (what the filter is for).
        assert injected > 0 or back > 0, peaks
    assert near(peaks[-1], PEER_TONE), peaks  # either way the peer's stream has the call at the end
    assert near(peer_heard["peaks"][0], OUR_TONE), peer_heard  # and the peer still hears us
    playing.cancel()
    await engine.hang_up(leg)
    await events.wait(LegEventKind.DISCONNECTED, leg)


@pytest.mark.parametrize("engine", [True], indirect=True, ids=["filter"])
async def test_the_filter_follows_reinvites_and_refuses_the_peers_own_host_on_another_port(
    engine: PjsuaEngine, events: EventLog, make_peer: PeerFactory
) -> None:
    before = udp_sockets()
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    after = udp_sockets()
    rtp_port = min(set(after) - set(before))
    await engine.hold(leg)
    await asyncio.sleep(0.3)
    await engine.resume(leg)  # two re-INVITEs: the filter is applied again on each media change
    await asyncio.sleep(0.3)
    heard: list[AudioFrame] = []
    engine.subscribe_audio(leg, heard.append)
    await peer.request("play_tone", leg=peer_leg, freq=PEER_TONE, seconds=2 * BURST_S + 3)
    await asyncio.sleep(0.3)
    await inject([rtp_port, rtp_port + 1])
    await inject([rtp_port, rtp_port + 1], source="127.0.0.1")  # the peer's own address, another port
    await asyncio.sleep(0.5)
    peaks = dominant(heard)
    assert not any(near(f, INJECTED_TONE) for f in peaks), str([round(f) for f in peaks])
    assert sum(near(f, PEER_TONE) for f in peaks) >= len(peaks) - 5, str([round(f) for f in peaks])
    assert len(peaks) >= 40, len(peaks)
    (rtp_fd,) = after[rtp_port]
    with socket.socket(fileno=os.dup(rtp_fd)) as ours, pytest.raises(OSError):
        ours.getpeername()  # filtered, never connected: pjmedia's socket keeps its binding and error semantics
    await engine.hang_up(leg)
    await events.wait(LegEventKind.DISCONNECTED, leg)


def _loud_s(frames: list[AudioFrame], start_s: float, end_s: float) -> float:
    """Seconds of tone (louder than G.711's idle noise) the leg heard between ``start_s`` and ``end_s``."""
    pcm = np.concatenate([f.pcm for f in frames]) if frames else np.zeros(0, np.int16)
    part = pcm[int(start_s * 8000) : int(end_s * 8000)]
    chunks = [part[i : i + 800] for i in range(0, part.size - 799, 800)]
    return 0.1 * sum(np.sqrt(np.mean(c.astype(np.float64) ** 2)) > 100 for c in chunks)


@pytest.mark.parametrize("engine", [True], indirect=True, ids=["filter"])
async def test_a_peer_that_sends_from_another_port_than_its_sdp_is_heard_after_the_filter_is_lifted(
    engine: PjsuaEngine,
    events: EventLog,
    make_peer: PeerFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Asymmetric RTP (a media server behind an SBC, NAT without SDP rewriting): the SDP names one port, the packets
    # come from another. Made here by letting the filter believe the SDP named the port next to the real one.
    real = rtp_filter.media_peers

    def elsewhere(call: object) -> list[rtp_filter.MediaPeer]:
        return [
            replace(peer, remote_rtp=(peer.remote_rtp[0], peer.remote_rtp[1] + 2) if peer.remote_rtp else None)
            for peer in real(call)  # type: ignore[arg-type]
        ]

    monkeypatch.setattr(rtp_filter, "media_peers", elsewhere)
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    heard: list[AudioFrame] = []
    engine.subscribe_audio(leg, heard.append)
    await peer.request("play_tone", leg=peer_leg, freq=PEER_TONE, seconds=rtp_filter.LIFT_AFTER_S + 4)
    with caplog.at_level(logging.WARNING):
        await asyncio.sleep(rtp_filter.LIFT_AFTER_S + 3)
    assert _loud_s(heard, 0.0, 2.0) < 0.3  # filtered: the peer's packets were dropped, the call heard nothing
    assert _loud_s(heard, rtp_filter.LIFT_AFTER_S + 1.0, rtp_filter.LIFT_AFTER_S + 2.5) > 1.2  # lifted: heard
    assert any("asymmetric RTP" in r.getMessage() for r in caplog.records), caplog.text
    await engine.hang_up(leg)
    await events.wait(LegEventKind.DISCONNECTED, leg)


@pytest.mark.parametrize("engine", [True], indirect=True, ids=["filter"])
async def test_a_peer_heard_through_the_filter_keeps_it_for_the_whole_call(
    engine: PjsuaEngine, events: EventLog, make_peer: PeerFactory
) -> None:
    before = set(udp_sockets())
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    ports = sorted(set(udp_sockets()) - before)
    heard: list[AudioFrame] = []
    engine.subscribe_audio(leg, heard.append)
    await peer.request("play_tone", leg=peer_leg, freq=PEER_TONE, seconds=rtp_filter.LIFT_AFTER_S + BURST_S + 3)
    await asyncio.sleep(rtp_filter.LIFT_AFTER_S + 1)  # past the check: the peer was heard, so nothing is lifted
    heard.clear()
    sent, back = await inject(ports)
    await asyncio.sleep(0.5)
    peaks = dominant(heard)
    assert sent >= BURST * 50 and back == 0
    assert not any(near(f, INJECTED_TONE) for f in peaks), [round(f) for f in peaks]
    await engine.hang_up(leg)
    await events.wait(LegEventKind.DISCONNECTED, leg)

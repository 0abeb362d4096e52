"""Calls over real loopback SIP between the engine under test and a peer process."""

from __future__ import annotations

import asyncio
import socket

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.api import LegEventKind, SipError
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from sidecar_harness import free_port
from sip_harness import BOTH_ENGINES, Engine, EventLog, PeerFactory, dial_answered
from tones import spectrum_peaks, tone


@BOTH_ENGINES
async def test_dial_rings_answers_and_delivers_peer_audio(
    engine: Engine, events: EventLog, make_peer: PeerFactory
) -> None:
    peer = await make_peer("ring")
    leg = await engine.dial(peer.uri)
    ringing = await events.wait(LegEventKind.RINGING, leg)
    assert ringing.status_code == 180
    await events.wait(LegEventKind.ANSWERED, leg)
    peer_leg = (await peer.wait_leg("answered"))["leg_id"]

    frames: list[AudioFrame] = []
    engine.subscribe_audio(leg, frames.append)
    await peer.request("play_tone", leg=peer_leg, freq=1000, seconds=3)
    await asyncio.sleep(1.5)

    assert len(frames) >= 50
    assert all(f.pcm.dtype == np.int16 and f.pcm.size == 160 and f.sample_rate == 8000 for f in frames)
    steps = np.diff([f.t_s for f in frames])
    assert np.allclose(steps, 0.02)
    pcm = np.concatenate([f.pcm for f in frames[-25:]])
    assert abs(spectrum_peaks(pcm, 8000, 1)[0] - 1000) < 20

    await engine.hang_up(leg)
    ended = await events.wait(LegEventKind.DISCONNECTED, leg)
    assert ended.status_code == 200
    await peer.wait_leg("disconnected", peer_leg)
    await engine.hang_up(leg)  # idempotent


@BOTH_ENGINES
async def test_play_reaches_peer_and_cancel_stops_it(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)

    # A 16 kHz source is resampled to the 8 kHz bridge.
    await asyncio.wait_for(engine.play(leg, tone(600, 0.2, 16000), 16000), 5)
    capture = asyncio.ensure_future(peer.request("capture", leg=peer_leg, seconds=1.0))
    play = asyncio.ensure_future(engine.play(leg, tone(600, 10, 8000), 8000))
    heard = await capture
    assert heard["rms"] > 1000
    assert abs(heard["peaks"][0] - 600) < 20

    play.cancel()
    with pytest.raises(asyncio.CancelledError):
        await play
    await asyncio.sleep(0.2)
    after = await peer.request("capture", leg=peer_leg, seconds=0.5)
    assert after["rms"] < 50


async def test_later_play_replaces_earlier(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    first = asyncio.ensure_future(engine.play(leg, tone(500, 10), 8000))
    await asyncio.sleep(0.2)
    second = asyncio.ensure_future(engine.play(leg, tone(900, 10), 8000))
    await asyncio.wait_for(first, 2)  # the replaced playback returns at once
    heard = await peer.request("capture", leg=peer_leg, seconds=0.6)
    assert abs(heard["peaks"][0] - 900) < 20
    second.cancel()


@BOTH_ENGINES
@pytest.mark.parametrize("method", [DtmfMethod.RFC2833, DtmfMethod.SIP_INFO])
async def test_dtmf_reaches_peer_as_the_right_digits(
    engine: Engine, events: EventLog, make_peer: PeerFactory, method: DtmfMethod
) -> None:
    peer = await make_peer("answer")
    leg = await engine.dial(peer.uri)
    await events.wait(LegEventKind.ANSWERED, leg)
    await engine.send_dtmf(leg, "1,23#*90", method)
    await peer.wait_event(lambda _e: len(peer.legs("dtmf_received")) >= 7, within=5)
    await asyncio.sleep(0.3)  # no duplicates arrive late
    assert "".join(e["digit"] for e in peer.legs("dtmf_received")) == "123#*90"


@BOTH_ENGINES
async def test_digits_from_peer_are_reported_once(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    await peer.request("send_dtmf", leg=peer_leg, digits="4D", method="rfc2833")
    await peer.request("send_dtmf", leg=peer_leg, digits="7", method="sip_info")
    await asyncio.sleep(0.5)
    assert [e.digit for e in events.of(LegEventKind.DTMF_RECEIVED, leg)] == ["4", "D", "7"]


async def test_inband_dtmf_is_audible_as_the_digit_tone_pair(
    engine: Engine, events: EventLog, make_peer: PeerFactory
) -> None:
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    capture = asyncio.ensure_future(peer.request("capture", leg=peer_leg, seconds=1.0))
    await asyncio.sleep(0.1)
    await engine.send_dtmf(leg, "5555", DtmfMethod.INBAND)  # '5' = 770 Hz + 1336 Hz (ITU-T Q.23)
    peaks = sorted((await capture)["peaks"])
    assert abs(peaks[0] - 770) < 20
    assert abs(peaks[1] - 1336) < 20


@BOTH_ENGINES
async def test_inbound_call_rings_and_is_answered_on_request(
    engine: Engine, events: EventLog, make_peer: PeerFactory
) -> None:
    peer = await make_peer("none")
    await peer.request("dial", target=f"sip:bank@127.0.0.1:{engine.local_port}")
    incoming = await events.wait(LegEventKind.INCOMING)
    assert incoming.local_uri == f"sip:bank@127.0.0.1:{engine.local_port}"  # the Request-URI
    assert incoming.remote_uri.startswith("sip:holdslayer@127.0.0.1")
    await asyncio.sleep(0.3)
    assert not peer.legs("answered"), "inbound calls must not be answered automatically"

    await engine.ring(incoming.leg_id)
    await peer.wait_leg("ringing")
    await engine.answer(incoming.leg_id)
    await events.wait(LegEventKind.ANSWERED, incoming.leg_id)
    await peer.wait_leg("answered")
    await peer.request("hang_up", leg=peer.legs("answered")[0]["leg_id"])
    await events.wait(LegEventKind.DISCONNECTED, incoming.leg_id)


@BOTH_ENGINES
async def test_inbound_call_can_be_rejected_busy(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    peer = await make_peer("none")
    await peer.request("dial", target=engine.local_uri)
    incoming = await events.wait(LegEventKind.INCOMING)
    await engine.reject(incoming.leg_id, 486)
    assert (await peer.wait_leg("disconnected"))["status_code"] == 486


@BOTH_ENGINES
async def test_busy_peer_gives_disconnected_486(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    peer = await make_peer("busy")
    leg = await engine.dial(peer.uri)
    ended = await events.wait(LegEventKind.DISCONNECTED, leg)
    assert ended.status_code == 486
    assert "busy" in ended.reason.lower()
    assert not events.of(LegEventKind.ANSWERED, leg)


@BOTH_ENGINES
async def test_unreachable_peer_gives_disconnected_without_crashing(engine: Engine, events: EventLog) -> None:
    # Over TCP a closed port is refused at once (over UDP see the slow test below).
    leg = await engine.dial(f"sip:nobody@127.0.0.1:{free_port(socket.SOCK_STREAM)};transport=tcp")
    ended = await events.wait(LegEventKind.DISCONNECTED, leg)
    assert ended.status_code == 503
    with pytest.raises(SipError):
        await engine.answer(leg)


@pytest.mark.slow
async def test_silent_udp_peer_times_out_with_408(engine: Engine, events: EventLog) -> None:
    leg = await engine.dial(f"sip:nobody@127.0.0.1:{free_port(socket.SOCK_DGRAM)}")
    ended = await events.wait(LegEventKind.DISCONNECTED, leg, within=40)  # RFC 3261 Timer B = 64*T1 = 32 s
    assert ended.status_code == 408


async def test_fifth_call_raises_sip_error(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    peer = await make_peer("none")
    legs = [await engine.dial(peer.uri) for _ in range(4)]
    with pytest.raises(SipError, match="no free call slot"):
        await engine.dial(peer.uri)
    for leg in legs:
        await engine.hang_up(leg)
    for leg in legs:
        assert (await events.wait(LegEventKind.DISCONNECTED, leg)).status_code == 487
    # Slots are free again.
    leg = await engine.dial(peer.uri)
    await engine.hang_up(leg)
    await events.wait(LegEventKind.DISCONNECTED, leg)


async def test_wideband_bridge_gives_16khz_frames(make_peer: PeerFactory) -> None:
    """With clock_rate=16000 the bridge (and so every frame) runs at 16 kHz; G.722 is preferred."""
    peer = await make_peer("answer")
    engine = PjsuaEngine(SipSettings(clock_rate=16000, codecs=("G722", "PCMU")))
    await engine.start()
    try:
        events = EventLog()
        engine.subscribe_events(events)
        leg, peer_leg = await dial_answered(engine, events, peer)
        frames: list[AudioFrame] = []
        engine.subscribe_audio(leg, frames.append)
        await peer.request("play_tone", leg=peer_leg, freq=1000, seconds=2)
        await asyncio.sleep(1.0)
        assert frames
        assert all(f.pcm.size == 320 and f.sample_rate == 16000 for f in frames)
        pcm = np.concatenate([f.pcm for f in frames[-20:]])
        assert abs(spectrum_peaks(pcm, 16000, 1)[0] - 1000) < 30
    finally:
        await engine.stop()


@BOTH_ENGINES
async def test_caller_giving_up_before_answer_ends_the_inbound_leg(
    engine: Engine, events: EventLog, make_peer: PeerFactory
) -> None:
    peer = await make_peer("none")
    peer_leg = await peer.request("dial", target=engine.local_uri)
    incoming = await events.wait(LegEventKind.INCOMING)
    await engine.ring(incoming.leg_id)
    await peer.wait_leg("ringing", peer_leg)
    await peer.request("hang_up", leg=peer_leg)  # CANCEL (RFC 3261 s9)
    ended = await events.wait(LegEventKind.DISCONNECTED, incoming.leg_id)
    assert ended.status_code == 487
    with pytest.raises(SipError):
        await engine.answer(incoming.leg_id)

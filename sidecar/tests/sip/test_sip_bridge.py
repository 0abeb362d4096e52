"""Bridging two legs and recording them, over real loopback SIP."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip.api import LegEventKind
from sip_harness import BOTH_ENGINES, Engine, EventLog, PeerFactory, dial_answered
from tones import spectrum_peaks


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


def near(freqs: list[float], target: float) -> bool:
    return any(abs(f - target) < 20 for f in freqs)


@BOTH_ENGINES
async def test_bridge_carries_audio_both_ways_and_recordings_hold_it(
    engine: Engine, events: EventLog, make_peer: PeerFactory, tmp_path: Path
) -> None:
    peer = await make_peer("answer")
    leg_a, peer_a = await dial_answered(engine, events, peer)
    leg_b, peer_b = await dial_answered(engine, events, peer, near=leg_a)

    await engine.bridge(leg_a, leg_b)
    mix_path = tmp_path / "rec" / "mix.wav"
    leg_a_path = tmp_path / "rec" / "deep" / "a.wav"
    await engine.start_mix_recording([leg_a, leg_b], mix_path)
    await engine.start_recording(leg_a, leg_a_path)
    assert leg_a_path.parent.is_dir()

    await peer.request("play_tone", leg=peer_a, freq=700, seconds=4)
    await peer.request("play_tone", leg=peer_b, freq=1100, seconds=4)
    await asyncio.sleep(0.3)
    heard_b, heard_a = await asyncio.gather(
        peer.request("capture", leg=peer_b, seconds=1.0), peer.request("capture", leg=peer_a, seconds=1.0)
    )
    assert abs(heard_b["peaks"][0] - 700) < 20, heard_b
    assert abs(heard_a["peaks"][0] - 1100) < 20, heard_a

    await engine.hang_up(leg_a)
    await engine.hang_up(leg_b)
    await events.wait(LegEventKind.DISCONNECTED, leg_a)
    await events.wait(LegEventKind.DISCONNECTED, leg_b)
    await asyncio.sleep(0.1)  # the PJSUA2 thread finalises recorders right after the legs end

    mix, rate = read_wav(mix_path)
    assert rate == 8000
    assert mix.size > 8000
    assert near(spectrum_peaks(mix[-8000:], rate, 2), 700)
    assert near(spectrum_peaks(mix[-8000:], rate, 2), 1100)
    only_a, _ = read_wav(leg_a_path)
    assert abs(spectrum_peaks(only_a[-8000:], rate, 1)[0] - 700) < 20


async def test_recording_is_finalised_by_stop(
    engine: Engine, events: EventLog, make_peer: PeerFactory, tmp_path: Path
) -> None:
    peer = await make_peer("answer")
    leg, peer_leg = await dial_answered(engine, events, peer)
    path = tmp_path / "call.wav"
    await engine.start_recording(leg, path)
    await peer.request("play_tone", leg=peer_leg, freq=450, seconds=2)
    await asyncio.sleep(1.0)
    await engine.stop()  # with the call still up
    pcm, rate = read_wav(path)
    assert pcm.size >= rate // 2
    assert abs(spectrum_peaks(pcm[-4000:], rate, 1)[0] - 450) < 20


@BOTH_ENGINES
async def test_bridge_and_tap_survive_hold_and_resume_reinvites(
    engine: Engine, events: EventLog, make_peer: PeerFactory
) -> None:
    """A re-INVITE gives the stream a new conference slot; the engine must reconnect everything."""
    peer = await make_peer("answer")
    leg_a, peer_a = await dial_answered(engine, events, peer)
    leg_b, peer_b = await dial_answered(engine, events, peer, near=leg_a)
    await engine.bridge(leg_a, leg_b)
    frames: list[AudioFrame] = []
    engine.subscribe_audio(leg_a, frames.append)

    await peer.request("hold", leg=peer_a)  # the far end puts us on hold and takes us back
    await asyncio.sleep(0.3)
    await peer.request("resume", leg=peer_a)
    await engine.hold(leg_b)  # and we hold/resume the other leg ourselves
    await asyncio.sleep(0.3)
    await engine.resume(leg_b)
    await asyncio.sleep(0.3)

    await peer.request("play_tone", leg=peer_a, freq=700, seconds=3)
    await peer.request("play_tone", leg=peer_b, freq=1100, seconds=3)
    await asyncio.sleep(0.3)
    heard_b, heard_a = await asyncio.gather(
        peer.request("capture", leg=peer_b, seconds=0.8), peer.request("capture", leg=peer_a, seconds=0.8)
    )
    assert abs(heard_b["peaks"][0] - 700) < 20, heard_b
    assert abs(heard_a["peaks"][0] - 1100) < 20, heard_a
    tapped = np.concatenate([f.pcm for f in frames[-20:]])
    assert abs(spectrum_peaks(tapped, 8000, 1)[0] - 700) < 20
    assert not events.of(LegEventKind.DISCONNECTED)

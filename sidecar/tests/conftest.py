"""Shared fakes for the sidecar's engines (SIP, detector, voice, navigator) and a manager built on them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame, Observation, Pcm
from hold_slayer_sidecar.calls.manager import CallManager
from hold_slayer_sidecar.calls.ports import Engines, ManagerConfig
from hold_slayer_sidecar.calls.session import CallPolicy
from hold_slayer_sidecar.nav.api import NavAction, NavDecision
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind, SipError
from hold_slayer_sidecar.store.sqlite import Store
from hold_slayer_sidecar.voice.api import SpeechAudio, Transcript, VoiceEngineError
from pjsua_isolation import (  # noqa: F401 - pytest finds hooks and fixtures by name in a conftest
    no_pjsua2_in_the_pytest_process,
    pytest_pycollect_makemodule,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)


class FakeSip:
    """An in-memory SipEngine: legs answer (or not) as told; every action is recorded."""

    def __init__(self) -> None:
        self.registered = True
        self.dialed: list[tuple[str, str]] = []  # (leg id, target)
        self.near: list[str | None] = []  # the near= hint of each dial (the leg the new one joins)
        self.dtmf: list[tuple[str, str]] = []
        self.played: list[str] = []
        self.play_s = 0.0  # how long each playback lasts
        self.cut: list[str] = []  # legs whose playback was cancelled
        self.playing: set[str] = set()
        self.played_into_bridge = False  # a bridge was made while something still played into a leg
        self.answer_after_s = 1.0  # for behaviour "late": the leg answers this long after ringing
        self.bridged: list[tuple[str, str]] = []
        self.recordings: list[Path] = []
        self.hung_up: list[str] = []
        self.behaviour: dict[str, str] = {}  # target -> "answer" | "busy" | "silent" | "error" | "instant_fail"
        self.live: set[str] = set()
        self._event_subs: list[Callable[[LegEvent], None]] = []
        self._audio_subs: dict[str, list[Callable[[AudioFrame], None]]] = {}
        self._count = 0
        self._t: dict[str, float] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        for leg in list(self.live):
            await self.hang_up(leg)

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Callable[[], None]:
        self._event_subs.append(callback)
        return lambda: self._event_subs.remove(callback)

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Callable[[], None]:
        if leg_id not in self.live:  # as PjsuaEngine: a finished leg has no audio to tap
            raise SipError(f"unknown or finished leg {leg_id}")
        self._audio_subs.setdefault(leg_id, []).append(callback)
        return lambda: self._audio_subs.get(leg_id, []).remove(callback)

    def emit(
        self, leg_id: str, kind: LegEventKind, status: int = 0, reason: str = "", remote: str = "", lost: bool = False
    ) -> None:
        if kind is LegEventKind.DISCONNECTED:
            self.live.discard(leg_id)
        for callback in list(self._event_subs):
            callback(LegEvent(leg_id, kind, status, reason, remote_uri=remote, lost=lost))

    def push_audio(self, leg_id: str, frames: int = 1) -> None:
        for _ in range(frames):
            self._t[leg_id] = self._t.get(leg_id, 0.0) + 0.02
            frame = AudioFrame(np.zeros(160, dtype=np.int16), 8000, self._t[leg_id])
            for callback in list(self._audio_subs.get(leg_id, [])):
                callback(frame)

    async def dial(self, target: str, *, near: str | None = None) -> str:
        how = self.behaviour.get(target, "answer")
        self.near.append(near)
        if how == "error":
            raise SipError(f"cannot reach {target}")
        self._count += 1
        leg = f"leg-{self._count}"
        self.dialed.append((leg, target))
        self.live.add(leg)
        loop = asyncio.get_running_loop()
        if how == "answer":
            loop.call_soon(self.emit, leg, LegEventKind.RINGING)
            loop.call_soon(self.emit, leg, LegEventKind.ANSWERED)
        elif how == "late":
            loop.call_soon(self.emit, leg, LegEventKind.RINGING)
            loop.call_later(self.answer_after_s, self.emit, leg, LegEventKind.ANSWERED)
        elif how == "busy":
            loop.call_soon(self.emit, leg, LegEventKind.DISCONNECTED, 486, "Busy Here")
        elif how == "instant_fail":  # the leg ends before dial() even returns (refused TCP connect, instant 503)
            self.emit(leg, LegEventKind.DISCONNECTED, 503, "Service Unavailable")
        return leg

    async def answer(self, leg_id: str) -> None:
        pass

    async def hang_up(self, leg_id: str) -> None:
        self.hung_up.append(leg_id)
        if leg_id in self.live:
            asyncio.get_running_loop().call_soon(self.emit, leg_id, LegEventKind.DISCONNECTED, 200, "BYE")
            self.live.discard(leg_id)

    async def send_dtmf(self, leg_id: str, digits: str, method: DtmfMethod) -> None:
        await asyncio.sleep(0)
        self.dtmf.append((leg_id, digits))

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        self.playing.add(leg_id)
        try:
            await asyncio.sleep(self.play_s)
        except asyncio.CancelledError:
            self.cut.append(leg_id)
            raise
        finally:
            self.playing.discard(leg_id)
        self.played.append(leg_id)

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        self.played_into_bridge |= bool(self.playing & {leg_a, leg_b})
        self.bridged.append((leg_a, leg_b))

    async def start_recording(self, leg_id: str, path: Path) -> None:
        self.recordings.append(path)

    async def start_mix_recording(self, leg_ids: list[str], path: Path) -> None:
        self.recordings.append(path)


class FakeDetector:
    """Returns whatever observations the test queued, on the next frame."""

    def __init__(self) -> None:
        self.pending: list[Observation] = []
        self.notes: list[str] = []
        self.fail = False

    def process(self, frame: AudioFrame) -> list[Observation]:
        if self.fail:
            raise RuntimeError("detector bug")
        out, self.pending = self.pending, []
        return out

    transcripts_useful = True

    def note_transcript(self, text: str, t_s: float, *, partial: bool = False) -> list[Observation]:
        self.notes.append(f"{'partial' if partial else 'transcript'}:{text}")
        return []

    def note_probe_sent(self, t_s: float) -> None:
        self.notes.append("probe_sent")

    def note_ivr_done(self, t_s: float) -> None:
        self.notes.append("ivr_done")

    def note_menu_again(self, t_s: float) -> None:
        self.notes.append("menu_again")

    def note_key_sent(self, t_s: float) -> None:
        self.notes.append("key_sent")


class FakeTts:
    def __init__(self) -> None:
        self.fail = False
        self.said: list[str] = []

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        if self.fail:
            raise VoiceEngineError("tts down")
        self.said.append(text)
        return SpeechAudio(np.zeros(800, dtype=np.int16), sample_rate)

    async def health(self) -> str:
        return "ok"


class FakeStt:
    def __init__(self) -> None:
        self.fail = False
        self.texts: list[str] = []

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        if self.fail:
            raise RuntimeError("stt bug")
        return Transcript(self.texts.pop(0) if self.texts else "")

    async def health(self) -> str:
        return "ok"


class FakeNavigator:
    def __init__(self) -> None:
        self.fail = False
        self.prompts: list[str] = []
        self.answer = NavDecision(NavAction.DTMF, digits="2")

    async def decide(
        self, prompt: str, intent: str, *, history: list[str], behind_s: float = 0.0, earlier: Sequence[str] = ()
    ) -> NavDecision:
        self.prompts.append(prompt)
        if self.fail:
            raise RuntimeError("navigator bug")
        return self.answer


@dataclass
class Rig:
    """A CallManager on fakes, with every published event captured."""

    manager: CallManager
    sip: FakeSip
    detectors: list[FakeDetector]
    tts: FakeTts
    stt: FakeStt
    navigator: FakeNavigator
    store: Store
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def states(self) -> list[str]:
        states: list[str] = []
        for name, data in self.events:
            if name == "call_state" and (not states or states[-1] != data["state"]):
                states.append(data["state"])
        return states

    async def observe(self, leg: str, *observations: Observation) -> None:
        self.detectors[-1].pending.extend(observations)
        self.sip.push_audio(leg)
        await settle()


async def settle(rounds: int = 20) -> None:
    """Let callbacks and tasks run."""
    for _ in range(rounds):
        await asyncio.sleep(0)


TEST_POLICY = CallPolicy(ring_user_s=0.5, probe_wait_s=0.2, closing_s=0.2, max_ring_s=2.0)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = Store(tmp_path / "test.sqlite3")
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def rig(tmp_path: Path, store: Store) -> AsyncIterator[Rig]:
    sip, tts, stt, navigator = FakeSip(), FakeTts(), FakeStt(), FakeNavigator()
    detectors: list[FakeDetector] = []

    def factory(sample_rate: int) -> FakeDetector:
        detectors.append(FakeDetector())
        return detectors[-1]

    engines = Engines(
        sip=sip, detector_factory=factory, store=store, stt=stt, tts=tts, navigator_factory=lambda flow: navigator
    )
    config = ManagerConfig(recordings_dir=tmp_path / "recordings", user_phone="sip:me@127.0.0.1", policy=TEST_POLICY)
    manager = CallManager(engines, config)
    rig = Rig(manager, sip, detectors, tts, stt, navigator, store)
    manager.subscribe(lambda name, data: rig.events.append((name, data)))
    await manager.start()
    yield rig
    await manager.stop()

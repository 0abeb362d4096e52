"""Fakes for the inbound half's unit tests: a SIP engine whose devices answer, decline or ring on, and ports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame, Pcm
from hold_slayer_sidecar.inbound.ports import (
    DeviceCredentials,
    DeviceRegistration,
    Screening,
    ScreeningContext,
    ScreeningOutcome,
)
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind, SipError
from hold_slayer_sidecar.voice.api import SpeechAudio, Transcript, VoiceEngineError


class InboundSip:
    """An in-memory SIP engine: targets behave as told ("answer", "decline", "busy", "silent", "error")."""

    def __init__(self) -> None:
        self.behaviour: dict[str, str] = {}
        self.answer_after_s = 0.05
        self.dialed: list[tuple[str, str, str | None]] = []  # (leg, target, near)
        self.calls: list[tuple[str, Any]] = []  # every action in order: ("reject", (leg, code)) ...
        self.live: set[str] = set()
        self.played: list[tuple[str, int]] = []  # (leg, samples)
        self.caller_audio: dict[str, list[Pcm]] = {}  # frames a caller sends once its audio is tapped
        self.hang_up_after_audio = True  # the caller hangs up after its frames (False: the line stays open)
        self._events: list[Callable[[LegEvent], None]] = []
        self._audio: dict[str, list[Callable[[AudioFrame], None]]] = {}
        self._count = 0

    # ----- driving the fake

    def incoming(self, remote: str = "sip:+18005551234@trunk", local: str = "sip:+15551230000@me") -> str:
        self._count += 1
        leg = f"in-{self._count}"
        self.live.add(leg)
        self.emit(LegEvent(leg, LegEventKind.INCOMING, remote_uri=remote, local_uri=local))
        return leg

    def emit(self, event: LegEvent) -> None:
        if event.kind is LegEventKind.DISCONNECTED:
            if event.leg_id not in self.live:
                return
            self.live.discard(event.leg_id)
        for callback in list(self._events):
            callback(event)

    def caller_hangs_up(self, leg: str) -> None:
        self.emit(LegEvent(leg, LegEventKind.DISCONNECTED, 200, "BYE"))

    def actions(self, name: str) -> list[Any]:
        return [args for action, args in self.calls if action == name]

    # ----- SipEngine

    registered = True

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Callable[[], None]:
        self._events.append(callback)
        return lambda: self._events.remove(callback)

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Callable[[], None]:
        if leg_id not in self.live:
            raise SipError(f"unknown or finished leg {leg_id}")
        self._audio.setdefault(leg_id, []).append(callback)
        frames = self.caller_audio.get(leg_id)
        if frames is not None:
            asyncio.get_running_loop().create_task(self._feed(leg_id, frames))
        return lambda: self._audio.get(leg_id, []).remove(callback)

    async def _feed(self, leg_id: str, frames: list[Pcm]) -> None:
        t = 0.0
        for pcm in frames:
            if leg_id not in self.live:
                return
            t += 0.02
            for callback in list(self._audio.get(leg_id, [])):
                callback(AudioFrame(pcm, 8000, t))
            await asyncio.sleep(0)
        if self.hang_up_after_audio:
            self.caller_hangs_up(leg_id)  # the caller hangs up after the message

    async def dial(self, target: str, *, near: str | None = None) -> str:
        how = self.behaviour.get(target, "answer")
        if how == "error":
            raise SipError(f"cannot reach {target}")
        self._count += 1
        leg = f"out-{self._count}"
        self.dialed.append((leg, target, near))
        self.live.add(leg)
        loop = asyncio.get_running_loop()
        loop.call_soon(self.emit, LegEvent(leg, LegEventKind.RINGING))
        if how == "answer":
            loop.call_later(self.answer_after_s, self.emit, LegEvent(leg, LegEventKind.ANSWERED))
        elif how in ("decline", "busy"):
            code, reason = (603, "Decline") if how == "decline" else (486, "Busy Here")
            loop.call_later(0.01, self.emit, LegEvent(leg, LegEventKind.DISCONNECTED, code, reason))
        return leg

    async def ring(self, leg_id: str) -> None:
        self.calls.append(("ring", leg_id))

    async def answer(self, leg_id: str) -> None:
        if leg_id not in self.live:
            raise SipError(f"unknown or finished leg {leg_id}")
        self.calls.append(("answer", leg_id))

    async def reject(self, leg_id: str, status_code: int = 486) -> None:
        self.calls.append(("reject", (leg_id, status_code)))
        asyncio.get_running_loop().call_soon(
            self.emit, LegEvent(leg_id, LegEventKind.DISCONNECTED, status_code, "rejected")
        )

    async def hang_up(self, leg_id: str) -> None:
        self.calls.append(("hang_up", leg_id))
        if leg_id in self.live:
            asyncio.get_running_loop().call_soon(self.emit, LegEvent(leg_id, LegEventKind.DISCONNECTED, 200, "BYE"))

    async def send_dtmf(self, leg_id: str, digits: str, method: DtmfMethod) -> None:
        raise AssertionError("the inbound half never sends digits")

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        self.played.append((leg_id, len(pcm)))
        await asyncio.sleep(0)

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        self.calls.append(("bridge", (leg_a, leg_b)))

    async def start_recording(self, leg_id: str, path: Path) -> None:
        pass

    async def start_mix_recording(self, leg_ids: list[str], path: Path) -> None:
        pass


class FakeTts:
    """Synthesises 0.1 s of tone per call; fails when told."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.fail = False

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        if self.fail:
            raise VoiceEngineError("tts down")
        self.said.append(text)
        return SpeechAudio(np.full(sample_rate // 10, 1000, np.int16), sample_rate)

    async def health(self) -> str:
        return "ok"


class FakeStt:
    """Returns a fixed transcript, or fails."""

    def __init__(self, text: str = "hi it's the dentist about tomorrow", fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.heard_samples: list[int] = []

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        self.heard_samples.append(len(pcm))
        if self.fail:
            raise VoiceEngineError("stt down")
        return Transcript(self.text)

    async def health(self) -> str:
        return "ok"


@dataclass
class FakeScreener:
    """Concludes as told (after answering was checked by the handler)."""

    screening: Screening = field(default_factory=lambda: Screening(ScreeningOutcome.RING, "wants Alex"))
    contexts: list[ScreeningContext] = field(default_factory=list)
    fail: bool = False
    wait: asyncio.Event | None = None

    async def screen(self, context: ScreeningContext) -> Screening:
        self.contexts.append(context)
        if self.wait is not None:
            await self.wait.wait()
        if self.fail:
            raise RuntimeError("receptionist bug")
        return self.screening


@dataclass
class FakeRegistrar:
    """Hands out credentials and ring URIs; registrations as set."""

    bound: dict[str, DeviceRegistration] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    made: int = 0

    async def add_device(self, device_id: str) -> DeviceCredentials:
        self.made += 1
        return DeviceCredentials(f"phone-{device_id}", f"secret{self.made}", "hold-slayer.local", "192.0.2.1:5060")

    async def remove_device(self, device_id: str) -> None:
        self.removed.append(device_id)

    async def registrations(self) -> Mapping[str, DeviceRegistration]:
        return dict(self.bound)

    def ring_uri(self, device_id: str) -> str:
        return f"sip:phone-{device_id}@127.0.0.1:5070"


def speech_frames(seconds: float, level: int = 3000) -> list[Pcm]:
    """Frames of a loud tone (speech-like energy), 20 ms each."""
    t = np.arange(160) / 8000
    frame = (level * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    return [frame] * int(seconds * 50)


def silence_frames(seconds: float) -> list[Pcm]:
    """Frames of digital silence."""
    return [np.zeros(160, np.int16)] * int(seconds * 50)

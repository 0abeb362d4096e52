"""A simulated caller on an answered leg, in real time: the receptionist's SIP port (play, audio, events) without SIP.

Frames are paced by the wall clock (``speed`` > 1 runs faster), so the receptionist's turn-taking, speech-to-text
and timeouts meet the same timing as on a call; the caller reacts to the prompts as the script says.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame, Pcm
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind, SipError, Unsubscribe

from .callers import RATE, CallerScript, music, speech, with_bed

FRAME = RATE // 50
NOISE_DBFS = -60.0  # a quiet line's noise (mu-law idle noise sits lower; a mobile's more)
PAUSE_S = 1.5  # a caller's pause in the middle of an answer, where a script says " | "
MAX_CALL_S = 90.0  # the line goes quiet for good after this: every loop here is bounded


class SimulatedLine:
    """One caller following a ``CallerScript``, as the receptionist hears them."""

    def __init__(self, script: CallerScript, *, leg_id: str = "leg-sim", speed: float = 1.0, seed: int = 1) -> None:
        self.script = script
        self.leg_id = leg_id
        self._speed = speed
        self._rng = np.random.default_rng(seed)
        self._audio: list[Callable[[AudioFrame], None]] = []
        self._events: list[Callable[[LegEvent], None]] = []
        self._clips: list[tuple[int, Pcm]] = []
        self._n = 0  # samples sent
        self._prompts_done = 0
        self._tick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.hung_up = False
        self.prompts: list[tuple[float, float]] = []  # (start, end) of each prompt in stream time
        self.started: list[float] = []  # stream time at the start of each prompt (before it has been played)
        self.spoken: list[tuple[float, float]] = []  # (start, end) of each of the caller's clips

    @property
    def t_s(self) -> float:
        """Stream time of the caller's audio sent so far."""
        return self._n / RATE

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Unsubscribe:
        """Leg events (only the caller's hang-up here)."""
        self._events.append(callback)
        return lambda: self._events.remove(callback) if callback in self._events else None

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Unsubscribe:
        """Receive the caller's frames."""
        self._audio.append(callback)
        return lambda: self._audio.remove(callback) if callback in self._audio else None

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        """Play a prompt: return once it has taken its time on the line; the caller then reacts."""
        start = self.t_s
        self.started.append(start)
        end = start + pcm.size / sample_rate
        while self.t_s < end:
            if self.hung_up:
                raise SipError("the caller hung up")
            self._tick.clear()
            await self._tick.wait()
        self.prompts.append((start, end))
        self._react(end)

    def start(self) -> None:
        """Answered: the caller's line starts sending audio."""
        s = self.script
        if s.kind == "robocall" and s.start == "answer":
            self._add(0.3, self._message())
        if s.interrupt:
            self._add(0.9, speech(s.interrupt, s.voice))
        if s.kind == "person" and s.music is not None:
            self._add(0.0, self._radio())
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop sending audio."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _react(self, prompt_end_s: float) -> None:
        s = self.script
        index, self._prompts_done = self._prompts_done, self._prompts_done + 1
        if s.kind == "robocall":
            if s.start == "after_greeting" and index == 0:
                self._add(prompt_end_s + 0.8, self._message())
            return
        if index < len(s.answers) and s.answers[index]:
            at = prompt_end_s + s.reaction_s
            for part in s.answers[index].split(" | "):  # " | ": the caller pauses PAUSE_S before going on
                clip = speech(part, s.voice)
                self._add(at, clip)
                at += clip.size / RATE + PAUSE_S

    def _message(self) -> Pcm:
        voice = speech(self.script.message, self.script.voice)
        return voice if self.script.music is None else with_bed(voice, self.script.music, self.script.music_db)

    def _radio(self) -> Pcm:
        """Render a radio behind a person: music all call long, ``music_db`` under their voice."""
        s = self.script
        voice = speech(next((a for a in s.answers if a), "hello"), s.voice).astype(np.float64)
        bed = np.tile(music(s.music or "pop"), 3).astype(np.float64)
        gain = (np.sqrt(np.mean(voice**2)) / (np.sqrt(np.mean(bed**2)) + 1e-9)) * 10 ** (s.music_db / 20)
        radio: Pcm = np.clip(np.round(bed * gain), -32768, 32767).astype(np.int16)
        return radio

    def _add(self, at_s: float, pcm: Pcm) -> None:
        start = max(round(at_s * RATE), self._n)
        self._clips.append((start, pcm))
        self.spoken.append((start / RATE, (start + pcm.size) / RATE))

    def words_until(self, t_s: float) -> float | None:
        """When the caller's last clip heard by ``t_s`` ended (None: nothing said by then)."""
        ends = [min(end, t_s) for start, end in self.spoken if start < t_s]
        return max(ends) if ends else None

    def _frame(self) -> Pcm:
        n0, n1 = self._n, self._n + FRAME
        out = self._rng.normal(0.0, 32768 * 10 ** (NOISE_DBFS / 20), FRAME)
        for start, pcm in self._clips:
            lo, hi = max(n0, start), min(n1, start + pcm.size)
            if lo < hi:
                out[lo - n0 : hi - n0] += pcm[lo - start : hi - start]
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

    async def _run(self) -> None:
        began = time.monotonic()
        frames = 0
        while self.t_s < MAX_CALL_S:
            hang_up = self.script.hang_up_after_s
            if hang_up is not None and self.t_s >= hang_up:
                self.hung_up = True
                event = LegEvent(self.leg_id, LegEventKind.DISCONNECTED, 200, "caller hung up")
                for listener in list(self._events):
                    listener(event)
                self._tick.set()
                return
            frame = AudioFrame(self._frame(), RATE, self.t_s + FRAME / RATE)
            self._n += FRAME
            frames += 1
            for callback in list(self._audio):
                callback(frame)
            self._tick.set()
            delay = began + frames * 0.02 / self._speed - time.monotonic()
            await asyncio.sleep(max(delay, 0.0))

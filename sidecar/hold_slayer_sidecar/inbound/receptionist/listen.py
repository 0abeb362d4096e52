"""One screening's ears: the caller's frames through ``Ears`` into the hearing, and waiting for the caller's turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from enum import StrEnum

from ...audio.types import AudioFrame
from ...calls.listening import Ears
from .hearing import CallerHearing
from .robocall import MONOLOGUE_S, Prompt, longest_run_s, music_under, talked_through

_LOGGER = logging.getLogger(__name__)
CHECK_EVERY_FRAMES = 25  # the recording test runs twice a second of audio, not on every frame
NO_AUDIO_GRACE_S = 3.0  # the wall-clock cap on a turn exceeds the audio one by this, should frames stop coming

HearingFactory = Callable[[int], CallerHearing]


class TurnEnd(StrEnum):
    """Why listening to one turn stopped."""

    TURN = "turn"  # the caller spoke and then paused for a reply
    SILENT = "silent"  # the caller said nothing
    CAP = "cap"  # the longest answer listened to ran out
    RECORDING = "recording"  # it talks on through our prompt with a second sign of a recording: no need to wait


class CallerEars:
    """The caller's audio for one screening: hears every frame, and wakes the dialogue when something changed."""

    def __init__(self, hearing: HearingFactory) -> None:
        self._factory = hearing
        self._ears: Ears | None = None
        self.hearing: CallerHearing | None = None
        self._changed = asyncio.Event()
        self._frames = 0
        self._failed = False  # logged once: a broken stream would otherwise log fifty times a second
        self.gone = asyncio.Event()

    def on_frame(self, frame: AudioFrame) -> None:
        """Audio callback (on the loop): never raises into the engine."""
        try:
            if self._ears is None:
                self.hearing = self._factory(frame.sample_rate)
                self._ears = Ears(self.hearing)
            if (
                self.hearing is None
                or frame.sample_rate != self.hearing.sample_rate
                or frame.pcm.size * 50 != frame.sample_rate
            ):
                raise ValueError(f"a frame of {frame.pcm.size} samples at {frame.sample_rate} Hz")
            self._ears.hear(frame)
            self._frames += 1
            if self._frames % 5 == 0:  # wake the dialogue every 0.1 s of audio, not 50 times a second
                self._changed.set()
        except Exception:  # one bad frame must not end the call
            if not self._failed:
                _LOGGER.exception("receptionist could not hear a frame (further failures not logged)")
            self._failed = True

    def now(self) -> float:
        """Return the caller's stream time (seconds of audio heard)."""
        return self.hearing.t_s if self.hearing is not None else 0.0

    async def _changes(self, until: float) -> bool:
        """Wait for new audio (or the caller leaving); False once the wall clock passes ``until``."""
        self._changed.clear()
        left = until - time.monotonic()
        if left <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return True

    async def listen(
        self, prompt: Prompt, *, since_s: float, end_of_turn_s: float, no_answer_s: float, max_s: float
    ) -> TurnEnd:
        """Wait for the caller's turn after ``prompt``: a pause after speech, silence, the cap, or a recording.

        ``since_s``: where this turn's speech may begin (the end of the last turn listened to; for the greeting, the
        answer: a recording may start before the greeting does).
        """
        wall_until = time.monotonic() + max_s + NO_AUDIO_GRACE_S
        checked = 0
        while await self._changes(wall_until):
            hearing = self.hearing
            if hearing is None:
                continue
            now = hearing.t_s
            spoke = any(t >= since_s for t in hearing.onsets) or hearing.speaking
            last = hearing.last_speech_s()
            if spoke and not hearing.speaking and last is not None and now - last >= end_of_turn_s:
                return TurnEnd.TURN
            if not spoke and now - prompt.end_s >= no_answer_s:
                return TurnEnd.SILENT
            if now - prompt.end_s >= max_s:
                return TurnEnd.CAP
            if len(hearing.frames) and self._frames - checked >= CHECK_EVERY_FRAMES:
                checked = self._frames
                if self._recording_already(hearing, prompt, end_of_turn_s):
                    return TurnEnd.RECORDING
        return TurnEnd.CAP

    @staticmethod
    def _recording_already(hearing: CallerHearing, prompt: Prompt, end_of_turn_s: float) -> bool:
        frames = hearing.frames
        if not talked_through(frames, prompt):
            return False
        return (
            music_under(frames, prompt.start_s) or longest_run_s(frames, prompt.start_s, end_of_turn_s) >= MONOLOGUE_S
        )

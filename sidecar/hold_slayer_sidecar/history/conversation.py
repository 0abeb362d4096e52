"""Transcribe the conversation once a person is on the line: the agent on the company leg, the user on theirs.

The call logic transcribes menus and hold announcements while it listens; after a person answers it stops,
because it has nothing more to decide. What the agent says and promises is what the user wants written
down, so each leg gets a ``LegTranscriber``: a level segmenter on its audio tap and one speech-to-text task
fed through a bounded queue, so a slow engine can delay lines but never the call's audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..audio.types import AudioFrame
from ..voice.api import EngineOffError, SpeechToText, VoiceEngineError
from .segmenter import Utterance, UtteranceSegmenter

_LOGGER = logging.getLogger(__name__)
_QUEUE = 16  # utterances waiting for speech-to-text; 16 x up to 15 s is minutes of backlog: then drop and log
DRAIN_TIMEOUT_S = 30.0
# A person is detected one to two seconds into their first words (calls/queue.py): an utterance that ended
# this shortly before is the greeting that made the detector decide, and belongs to the conversation.
ARM_LOOKBACK_S = 3.0  # at hang-up, how long the last utterances may take to transcribe


@dataclass(frozen=True, slots=True)
class SpokenLine:
    """A transcribed utterance, placed on the call's clock."""

    speaker: str
    leg: str
    offset_s: float
    duration_s: float
    text: str


type LineSink = Callable[[SpokenLine], None]


class LegTranscriber:
    """Transcribes everything one leg hears from its far end, utterance by utterance."""

    def __init__(
        self,
        *,
        speaker: str,
        leg: str,
        stt: SpeechToText,
        on_line: LineSink,
        call_started_at: float,
        clock: Callable[[], float],
    ) -> None:
        self._speaker = speaker
        self._leg = leg
        self._stt = stt
        self._on_line = on_line
        self._started_at = call_started_at
        self._clock = clock
        self._segmenter = UtteranceSegmenter()
        self._origin: float | None = None  # wall time of stream time 0 on this leg
        self._queue: asyncio.Queue[Utterance | None] = asyncio.Queue(_QUEUE)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"transcribe-{speaker}")
        self._armed = False
        self._last: tuple[Utterance, float] | None = None  # the latest utterance heard before arming, and when it ended
        self.dropped = 0

    def arm(self) -> None:
        """Start transcribing: the utterance in progress and one that ended just before are included."""
        if self._armed:
            return
        self._armed = True
        if self._last is not None and self._clock() - self._last[1] <= ARM_LOOKBACK_S:
            self._put(self._last[0])
        self._last = None

    def on_frame(self, frame: AudioFrame) -> None:
        """Audio tap callback (on the asyncio loop)."""
        if self._origin is None:
            self._origin = self._clock() - frame.t_s
        utterance = self._segmenter.feed(frame)
        if utterance is None:
            return
        if self._armed:
            self._put(utterance)
        else:
            self._last = (utterance, self._clock())

    def _put(self, item: Utterance | None) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            _LOGGER.warning(
                "%s: speech-to-text is behind; dropped an utterance (%d so far)", self._speaker, self.dropped
            )

    async def close(self) -> None:
        """Transcribe what was still being said, then stop (bounded by DRAIN_TIMEOUT_S)."""
        last = self._segmenter.flush()
        if last is not None and self._armed:
            self._put(last)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), DRAIN_TIMEOUT_S)
        except TimeoutError:
            _LOGGER.warning("%s: gave up transcribing the last utterances", self._speaker)
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while (utterance := await self._queue.get()) is not None:
            try:
                text = (await self._stt.transcribe(utterance.pcm, utterance.sample_rate)).text.strip()
            except EngineOffError:
                continue  # speech-to-text switched off: the recording is kept without words
            except VoiceEngineError as err:
                _LOGGER.warning("%s: speech-to-text failed: %s", self._speaker, err)
                continue
            except Exception:  # a helper's bug must not end the transcript (nor the call)
                _LOGGER.exception("%s: speech-to-text failed", self._speaker)
                continue
            if text:
                offset = (self._origin or self._started_at) + utterance.start_t_s - self._started_at
                self._on_line(SpokenLine(self._speaker, self._leg, max(0.0, offset), utterance.seconds, text))

"""Audio frames and detector observations: the contract between media, detectors and call logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FRAME_MS = 20

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """20 ms of mono 16-bit PCM from one call leg.

    ``t_s`` is stream time at the END of the frame (audio consumed so far), as in the corpus scorer.
    """

    pcm: Pcm
    sample_rate: int
    t_s: float


class ObservationKind(StrEnum):
    """What a detector can report. Segment kinds mark the START of a segment of that kind."""

    RINGBACK = "ringback"
    BUSY = "busy"  # busy or reorder tone
    SILENCE = "silence"  # silence or comfort noise
    IVR_PROMPT = "ivr_prompt"  # machine speech before hold
    MUSIC = "music"
    ANNOUNCEMENT = "announcement"  # recorded speech during hold
    BEEP = "beep"
    DTMF = "dtmf"  # data["digit"]
    SPEECH_SEGMENT = "speech_segment"  # a finished speech segment; audio holds its PCM for STT
    # A possible person's speech still going on: audio holds the PCM so far, for an early look at the words.
    SPEECH_PARTIAL = "speech_partial"
    HOLD_STARTED = "hold_started"
    HOLD_ENDED = "hold_ended"
    HUMAN_UNCERTAIN = "human_uncertain"  # speech that may be a person: the call may probe ("Hello?")
    # Our "Hello?" ended while the far side was speaking: it could not be answered, so it counts as not said.
    PROBE_COLLIDED = "probe_collided"
    HUMAN_DETECTED = "human_detected"


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing a detector noticed, at stream time ``t_s`` (seconds from the start of the leg)."""

    kind: ObservationKind
    t_s: float
    confidence: float = 1.0
    data: dict[str, Any] = field(default_factory=dict)
    audio: Pcm | None = None  # only SPEECH_SEGMENT and SPEECH_PARTIAL carry audio


class CallDetector(Protocol):
    """Live per-call detector: frames in order, no look-ahead; returns what it noticed in this frame."""

    def process(self, frame: AudioFrame) -> list[Observation]:
        """Consume one frame."""
        ...

    @property
    def transcripts_useful(self) -> bool:
        """Whether a transcript of speech heard now can still change a decision (False once a person is heard)."""
        ...

    def note_transcript(self, text: str, t_s: float, *, partial: bool = False) -> list[Observation]:
        """Take an optional content cue: the transcript of the last speech segment (may return observations).

        ``partial``: the text of a SPEECH_PARTIAL (speech still going on), cut at ``t_s``.
        """
        ...

    def note_probe_sent(self, t_s: float) -> None:
        """Note that the call just said "Hello?"; judge whether what follows answers it."""
        ...

    def note_ivr_done(self, t_s: float) -> None:
        """Navigation finished (the call is now waiting in a queue)."""
        ...

    def note_key_sent(self, t_s: float) -> None:
        """Note that the call pressed a key to answer a menu: the speech going on belongs to that menu."""
        ...

    def note_menu_again(self, t_s: float) -> None:
        """Note that the company plays menus again: what seemed a queue was a pause between them."""
        ...


class DetectorFactory(Protocol):
    """Builds a fresh detector for each call."""

    def __call__(self, sample_rate: int) -> CallDetector:
        """Return a new detector."""
        ...

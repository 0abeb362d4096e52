"""The company's latest menu segments of one call, so a label cut in two by a pause is rescored as one.

A synthetic voice pauses at commas, and the speech detector ends a segment at a 0.3 s pause: "Press 3 to
start, | stop or move your service." reaches speech-to-text as two segments, and each half is misheard
on its own ("Press 3 to talk." + "I'll put a move your term is."). ``nav/relabel.py`` (``plan_span``)
decides whether the latest segments hold one label; this keeps their decoded text and audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio.types import Pcm
from .prompt_audio import GAP_S

MAX_GAP_S = 1.0  # a longer pause ends a menu option: its label is not continued across it
_KEEP = 4  # segments kept: a label and its key span at most four (see nav/relabel.py _MAX_SPAN_PARTS)


@dataclass(frozen=True, slots=True)
class HeardSegment:
    """One finished menu segment: its decoded words, audio and where it ended in the call's stream."""

    text: str
    audio: Pcm = field(compare=False)
    rate: int
    end_s: float

    @property
    def start_s(self) -> float:
        """Where the segment's audio began in the call's stream."""
        return self.end_s - self.audio.size / self.rate if self.rate > 0 else self.end_s


class MenuSegments:
    """The segments of one listen epoch that follow each other closely enough to belong to one menu option."""

    def __init__(self) -> None:
        self._epoch = 0
        self._segments: list[HeardSegment] = []

    def add(self, epoch: int, segment: HeardSegment) -> list[HeardSegment]:
        """Add the latest segment; return the run it ends (oldest first, itself last), each gap within MAX_GAP_S."""
        if epoch != self._epoch:
            self._epoch, self._segments = epoch, []
        run = [segment]
        for earlier in reversed(self._segments[1 - _KEEP :]):
            if earlier.rate != segment.rate or run[0].start_s - earlier.end_s > MAX_GAP_S:
                break
            run.insert(0, earlier)
        self._segments = [*self._segments, segment][-_KEEP:]
        return run


def joined_audio(segments: list[HeardSegment]) -> Pcm:
    """Join the segments' audio with a short pause between them."""
    if not segments:
        return np.zeros(0, np.int16)
    # The same pause the whole-prompt transcription puts between segments (the one the detector cut at).
    gap = np.zeros(int(segments[0].rate * GAP_S), np.int16)
    return np.concatenate([x for segment in segments for x in (gap, np.asarray(segment.audio, np.int16))][1:])

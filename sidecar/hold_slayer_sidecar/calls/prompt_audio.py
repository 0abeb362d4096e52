"""The company's speech since the call's last move, so the whole menu prompt is transcribed at once.

Whisper decodes a fixed 30 s window whatever the input length, so re-transcribing the whole prompt after
each speech segment costs about what transcribing the segment alone does, and the context of the earlier
sentences makes it far more accurate (benchmarked word error 28% per segment vs 20% whole; `bench ivr`).
"""

from __future__ import annotations

import asyncio

import numpy as np

from ..audio.types import Pcm

GAP_S = 0.3  # silence put between segments (the pause the VAD cut at; 0.8 s measured worse)
_MAX_PROMPT_S = 60.0  # beyond this (a menu replayed many times) segments are transcribed alone again


class PromptAudio:
    """Speech segments of one listen epoch, concatenated; one per call."""

    def __init__(self, max_seconds: float = _MAX_PROMPT_S) -> None:
        self._max_seconds = max_seconds
        self.epoch = 0
        self.rate = 0
        self._parts: list[Pcm] = []
        self._samples = 0
        self._transcribed = 0  # samples covered by the latest whole-prompt transcript
        self.text = ""  # the latest whole-prompt transcript
        self.last_t_s = 0.0  # stream time of the latest segment added
        self.full = False
        self.lock = asyncio.Lock()  # one whole-prompt transcription at a time keeps results in order

    def add(self, epoch: int, audio: Pcm, rate: int, t_s: float = 0.0) -> bool:
        """Add a segment heard in ``epoch``; False when it must be transcribed alone (too long, odd rate)."""
        if epoch != self.epoch:
            self.epoch, self.rate, self._parts, self._samples, self._transcribed = epoch, rate, [], 0, 0
            self.text, self.full = "", False
        if self.full or rate != self.rate or rate <= 0:
            return False
        gap = np.zeros(int(rate * GAP_S) if self._parts else 0, np.int16)
        if self._samples + gap.size + audio.size > self._max_seconds * rate:
            self.full = True
            return False
        self._parts += [gap, np.asarray(audio, np.int16)]
        self.last_t_s = t_s
        self._samples += gap.size + audio.size
        return True

    def pending(self) -> bool:
        """Tell whether audio arrived since the latest whole-prompt transcript."""
        return self._samples > self._transcribed

    def take(self) -> tuple[Pcm, float]:
        """Return the whole prompt audio and the stream time of its last segment; mark it as transcribed."""
        self._transcribed = self._samples
        return (np.concatenate(self._parts) if self._parts else np.zeros(0, np.int16)), self.last_t_s

    def update(self, text: str) -> str:
        """Store the new whole-prompt transcript; return its words that the previous one did not end with."""
        old, new = self.text.split(), text.split()
        same = 0
        while same < min(len(old), len(new)) and _word(old[same]) == _word(new[same]):
            same += 1
        self.text = text
        return " ".join(new[same:])


def _word(token: str) -> str:
    return token.strip(".,;:!?").lower()

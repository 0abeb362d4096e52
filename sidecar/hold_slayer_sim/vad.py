"""An energy speech detector for what the far side sends (the product's TTS, or the bridged user).

The line is digital and clean (RTP over loopback, no echo), so loudness with hysteresis is enough:
speech starts after 60 ms above -42 dBFS and ends after ``hangover_s`` below -47 dBFS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hold_slayer_sidecar.audio.types import Pcm

_START_DBFS = -42.0
_STOP_DBFS = -47.0
_START_FRAMES = 3
_MAX_SEGMENT_S = 20.0


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """Speech began ``t_s`` seconds into the stream."""

    t_s: float


@dataclass(frozen=True, slots=True)
class SpeechEnd:
    """Speech ended; ``audio`` holds the segment (for transcription)."""

    t_s: float
    duration_s: float
    audio: Pcm


def frame_dbfs(pcm: Pcm) -> float:
    """RMS level of a frame in dBFS."""
    x = pcm.astype(np.float64)
    return float(20 * np.log10(np.sqrt(np.mean(x * x)) / 32768.0 + 1e-9)) if x.size else -180.0


class SpeechDetector:
    """Feed 20 ms frames in order; get SpeechStart / SpeechEnd events."""

    def __init__(self, sample_rate: int = 8000, hangover_s: float = 0.8) -> None:
        self.sample_rate = sample_rate
        self.hangover_s = hangover_s
        self.in_speech = False
        self._loud_run = 0
        self._quiet_s = 0.0
        self._t = 0.0
        self._start_t = 0.0
        self._frames: list[Pcm] = []

    def process(self, pcm: Pcm) -> list[SpeechStart | SpeechEnd]:
        """Consume one frame."""
        dur = pcm.size / self.sample_rate
        self._t += dur
        level = frame_dbfs(pcm)
        if not self.in_speech:
            self._loud_run = self._loud_run + 1 if level > _START_DBFS else 0
            self._frames = [*self._frames[-(_START_FRAMES - 1) :], pcm] if _START_FRAMES > 1 else [pcm]
            if self._loud_run >= _START_FRAMES:
                self.in_speech = True
                self._quiet_s = 0.0
                self._start_t = self._t - _START_FRAMES * dur
                return [SpeechStart(round(self._start_t, 3))]
            return []
        self._frames.append(pcm)
        self._quiet_s = self._quiet_s + dur if level < _STOP_DBFS else 0.0
        if self._quiet_s >= self.hangover_s or self._t - self._start_t > _MAX_SEGMENT_S:
            self.in_speech = False
            self._loud_run = 0
            audio = np.concatenate(self._frames)
            self._frames = []
            return [SpeechEnd(round(self._t, 3), round(self._t - self._start_t - self._quiet_s, 3), audio)]
        return []

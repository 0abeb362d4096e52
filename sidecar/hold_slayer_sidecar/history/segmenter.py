"""Cut one leg's audio into utterances by level: the bridged conversation has no music to tell from speech.

Once a person is on the line the company leg carries the agent and the user leg carries the user, each a
clean telephone channel, so a level gate is enough to find where each person starts and stops talking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio.types import AudioFrame, Pcm

# Active speech on a telephone channel sits around -26 dBov (ITU-T P.56); line noise and comfort noise sit
# below -55 dBov. -42 dBFS is well under a soft talker and well over an idle line.
SPEECH_DBFS = -42.0
END_SILENCE_S = 0.6  # a pause this long ends an utterance (turn-taking gaps are 0.2-0.5 s; longer is a turn end)
MIN_SPEECH_S = 0.3  # shorter bursts are clicks, breaths and line noise, not words
MAX_UTTERANCE_S = 15.0  # keep segments short enough for whisper's 30 s window and for lines to appear live
PRE_ROLL_S = 0.2  # keep the audio just before the level crossed the gate: word onsets are quiet


@dataclass(frozen=True, slots=True)
class Utterance:
    """A stretch of speech: its audio and where it started in the leg's stream."""

    pcm: Pcm
    sample_rate: int
    start_t_s: float

    @property
    def seconds(self) -> float:
        """How long it lasted."""
        return self.pcm.size / self.sample_rate


def level_dbfs(pcm: Pcm) -> float:
    """RMS level of a frame in dBFS."""
    if pcm.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return 20.0 * float(np.log10(max(rms, 1e-3) / 32768.0))


@dataclass(slots=True)
class UtteranceSegmenter:
    """Feeds on 20 ms frames; returns each utterance once it is over."""

    _frames: list[Pcm] = field(default_factory=list)
    _pre: list[Pcm] = field(default_factory=list)
    _rate: int = 8000
    _start: float = 0.0
    _voiced_s: float = 0.0
    _quiet_s: float = 0.0
    _speaking: bool = False

    def feed(self, frame: AudioFrame) -> Utterance | None:
        """Take one frame; return an utterance when this frame ended one."""
        self._rate = frame.sample_rate
        seconds = frame.pcm.size / frame.sample_rate
        loud = level_dbfs(frame.pcm) >= SPEECH_DBFS
        if not self._speaking:
            if not loud:
                self._pre.append(frame.pcm)
                while len(self._pre) * seconds > PRE_ROLL_S:
                    self._pre.pop(0)
                return None
            self._speaking = True
            self._frames = [*self._pre, frame.pcm]
            self._pre = []
            self._start = frame.t_s - seconds * len(self._frames)
            self._voiced_s, self._quiet_s = seconds, 0.0
            return None
        self._frames.append(frame.pcm)
        if loud:
            self._voiced_s += seconds
            self._quiet_s = 0.0
        else:
            self._quiet_s += seconds
        if self._quiet_s >= END_SILENCE_S or len(self._frames) * seconds >= MAX_UTTERANCE_S:
            return self.flush()
        return None

    def flush(self) -> Utterance | None:
        """End the utterance in progress (the call ended); None when nobody was speaking or it was a click."""
        frames, voiced = self._frames, self._voiced_s
        self._frames, self._speaking, self._voiced_s, self._quiet_s = [], False, 0.0, 0.0
        if not frames or voiced < MIN_SPEECH_S:
            return None
        return Utterance(np.concatenate(frames), self._rate, max(0.0, self._start))

"""A lone burst: a short loud sound out of quiet and back into quiet that the VAD did not call speech.

Silero scores some voices low (shouted or clipped speech, a voice through a second codec or heavy noise: its
probability can stay under 0.2 for a whole word), so no speech segment is cut and the person is never heard.
A burst like that is handed to speech-to-text all the same; only its words can make it a person
(content.classify_text), never its sound. Beeps and ringback are tones and are left out; music does not rise out of
quiet and fall back into it within a second and a half.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .judge import is_hushed
from .speech import HANGOVER_S

QUIET_BEFORE_S = 0.5  # quiet before the burst: not the tail of music or of an announcement
QUIET_AFTER_S = HANGOVER_S  # quiet after it ends the burst, as a pause ends a speech segment
MIN_BURST_S = 0.2
MAX_BURST_S = 1.5  # a greeting, not a sentence: a longer sound is music or a message the VAD can judge
LOUD_ABOVE_FLOOR_DB = 20.0  # its peak: a voice, not a click or a breath
MIN_PEAK_PROB = 0.1  # some speech evidence: line noise and clicks score ~0
MAX_TONE_SHARE = 0.3  # hold beeps and ringback bursts are tonal nearly throughout
PREROLL_S = 0.1


@dataclass(frozen=True, slots=True)
class LoneBurst:
    """A finished lone burst and its audio (with a little quiet either side, as speech-to-text likes)."""

    start_s: float
    end_s: float
    pcm: npt.NDArray[np.int16]


class LoneBurstTracker:
    """Follows frames not inside a speech segment; returns a LoneBurst when one has ended."""

    def __init__(self, frame_s: float = 0.02) -> None:
        self._frame_s = frame_s
        self._quiet_s = 0.0
        self._start_s: float | None = None
        self._last_loud_s = 0.0
        self._frames: list[npt.NDArray[np.int16]] = []
        self._preroll: deque[npt.NDArray[np.int16]] = deque(maxlen=round(PREROLL_S / frame_s))
        self._peak_db = 0.0
        self._peak_prob = 0.0
        self._tone_frames = 0
        self._spoken = False  # the speech segmenter took part of it: not a lone burst

    def process(
        self,
        pcm: npt.NDArray[np.int16],
        t_s: float,
        *,
        level_db: float,
        floor_db: float,
        prob: float,
        tone: bool,
        speaking: bool,
    ) -> LoneBurst | None:
        """Feed one frame (t_s is its end); return the burst that ended with it, if any."""
        hushed = is_hushed(level_db, floor_db)
        if self._start_s is None:
            if not hushed and not speaking and self._quiet_s >= QUIET_BEFORE_S:
                self._start_s = t_s - self._frame_s
                self._frames, self._peak_db, self._peak_prob = list(self._preroll), 0.0, 0.0
                self._tone_frames, self._spoken = 0, False
            else:
                self._quiet_s = self._quiet_s + self._frame_s if hushed and not speaking else 0.0
                self._preroll.append(pcm)
                return None
        self._frames.append(pcm)
        self._spoken |= speaking
        if not hushed:
            self._last_loud_s = t_s
            self._peak_db = max(self._peak_db, level_db - floor_db)
            self._peak_prob = max(self._peak_prob, prob)
            self._tone_frames += tone
        too_long = t_s - self._start_s > MAX_BURST_S + QUIET_AFTER_S
        if t_s - self._last_loud_s < QUIET_AFTER_S - 1e-6 and not too_long:
            return None
        return self._finish(t_s, too_long)

    def _finish(self, t_s: float, too_long: bool) -> LoneBurst | None:
        start_s, end_s = self._start_s or 0.0, self._last_loud_s
        loud_frames = max(round((end_s - start_s) / self._frame_s), 1)
        lone = (
            not too_long
            and not self._spoken
            and MIN_BURST_S <= end_s - start_s <= MAX_BURST_S
            and self._peak_db >= LOUD_ABOVE_FLOOR_DB
            and self._peak_prob >= MIN_PEAK_PROB
            and self._tone_frames / loud_frames <= MAX_TONE_SHARE
        )
        pcm = np.concatenate(self._frames)
        self._start_s, self._frames = None, []
        self._preroll.clear()
        # The quiet after it counts towards the next burst's quiet before (a person may say "Hello?" twice).
        self._quiet_s = 0.0 if too_long or self._spoken else t_s - end_s
        return LoneBurst(start_s, end_s, pcm) if lone else None

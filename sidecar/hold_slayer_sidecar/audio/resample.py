"""Bring 16 kHz call audio down to the 8 kHz telephone band all detectors work at."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_TAPS = 31


def _lowpass() -> npt.NDArray[np.float64]:
    """Windowed-sinc low-pass at 3.7 kHz for 16 kHz input (anti-aliasing before taking every 2nd sample)."""
    n = np.arange(_TAPS) - (_TAPS - 1) / 2
    h = np.sinc(2 * 3700 / 16000 * n) * np.hamming(_TAPS)
    out: npt.NDArray[np.float64] = h / h.sum()
    return out


class Decimator:
    """Streaming 2:1 decimator that keeps filter history across frames."""

    def __init__(self) -> None:
        self._h = _lowpass()
        self._hist = np.zeros(_TAPS - 1)
        self._phase = 0

    def process(self, pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """Return the 8 kHz samples for a piece of 16 kHz audio."""
        x = np.concatenate((self._hist, pcm.astype(np.float64)))
        y = np.convolve(x, self._h, mode="valid")
        self._hist = x[-(_TAPS - 1) :]
        out = y[self._phase :: 2]
        self._phase = (self._phase + y.size) % 2
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

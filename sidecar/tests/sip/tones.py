"""Test tones and their spectrum, for the SIP peer (sip_peer.py) and the tests that check what it heard."""

from __future__ import annotations

import numpy as np

RATE = 8000


def spectrum_peaks(pcm: np.ndarray, rate: int, count: int = 2) -> list[float]:
    """Return the ``count`` strongest frequencies (Hz, 10 Hz apart at least)."""
    if pcm.size == 0:
        return []
    spec = np.abs(np.fft.rfft(pcm.astype(np.float64) * np.hanning(pcm.size)))
    freqs = np.fft.rfftfreq(pcm.size, 1 / rate)
    peaks: list[float] = []
    for index in np.argsort(spec)[::-1]:
        f = float(freqs[index])
        if all(abs(f - p) > 30 for p in peaks):
            peaks.append(f)
        if len(peaks) == count:
            break
    return peaks


def tone(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    """Return a sine tone at -10 dBFS."""
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * 10000).astype(np.int16)

"""The tone analyser stays within its spectrum on any input a line can carry."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.audio.spectrum import SAMPLE_RATE, SpectrumAnalyser


def _frames(signal: np.ndarray) -> list[np.ndarray]:
    return [signal[i : i + 160].astype(np.float64) for i in range(0, signal.size - 159, 160)]


@pytest.mark.parametrize(
    "kind",
    ["band_edge_tone", "above_band_tone", "digital_silence", "one_lsb", "full_scale_square", "random_noise"],
)
def test_peaks_stay_in_the_band_whatever_the_line_carries(kind: str) -> None:
    """A peak at the band's edge, beside a louder one outside it, threw the interpolated bin out of range."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    rng = np.random.default_rng(7)
    signal = {
        "band_edge_tone": 20000 * np.sin(2 * np.pi * 3418 * t) + 1.0 * np.sin(2 * np.pi * 1000 * t),
        "above_band_tone": 20000 * np.sin(2 * np.pi * 3800 * t) + 1.0 * np.sin(2 * np.pi * 300 * t),
        "digital_silence": np.zeros(SAMPLE_RATE),
        "one_lsb": np.ones(SAMPLE_RATE),
        "full_scale_square": 32767 * np.sign(np.sin(2 * np.pi * 440 * t)),
        "random_noise": rng.normal(0, 3000, SAMPLE_RATE),
    }[kind]
    analyser = SpectrumAnalyser()
    for frame in _frames(signal):
        spectrum = analyser.analyse(frame)
        assert all(0 <= hz <= SAMPLE_RATE / 2 for hz in spectrum.peaks_hz)

"""Per-frame spectral features of 8 kHz telephone audio (level, tonality, peaks, band energies)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
FRAME = 160
TONE_WINDOW = 640  # 80 ms: resolves 440 vs 480 Hz (ringback) and 400 vs 450 Hz (UK ringback)
TONE_NFFT = 1024
BAND_NFFT = 256
N_BANDS = 16
_EPS = 1e-12


def level_db(x: npt.NDArray[np.float64]) -> float:
    """RMS level in dB relative to int16 full scale."""
    return 10 * math.log10(float(np.dot(x, x)) / x.size / (32768.0 * 32768.0) + _EPS)


def _mel_matrix() -> npt.NDArray[np.float64]:
    """Triangular mel filters over 250-3500 Hz for BAND_NFFT bins (telephone band)."""

    def mel(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 2595 * np.log10(1 + f / 700)

    edges_mel = np.linspace(mel(np.array(250.0)), mel(np.array(3500.0)), N_BANDS + 2)
    edges = 700 * (10 ** (edges_mel / 2595) - 1)
    freqs = np.fft.rfftfreq(BAND_NFFT, 1 / SAMPLE_RATE)
    m = np.zeros((N_BANDS, freqs.size))
    for i in range(N_BANDS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        m[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return m


@dataclass(frozen=True, slots=True)
class FrameSpectrum:
    """What one 20 ms frame looks like."""

    level_db: float
    tonal_ratio: float  # share of band power within the two strongest narrow peaks (80 ms window)
    peaks_hz: tuple[float, ...]  # significant narrow peaks, strongest first
    peak_shares: tuple[float, ...]  # share of band power in each peak
    bands: npt.NDArray[np.float64]  # log mel band energies (N_BANDS)


class SpectrumAnalyser:
    """Computes FrameSpectrum for consecutive frames, keeping 80 ms of history for tone resolution."""

    def __init__(self) -> None:
        self._hist = np.zeros(TONE_WINDOW)
        self._tone_win = np.hanning(TONE_WINDOW)
        self._band_win = np.hanning(BAND_NFFT)
        self._freqs = np.fft.rfftfreq(TONE_NFFT, 1 / SAMPLE_RATE)
        self._band = (self._freqs >= 250) & (self._freqs <= 3400)
        self._mel = _mel_matrix()
        self._frames = 0
        self._tonal: tuple[float, tuple[float, ...], tuple[float, ...]] | None = None

    def analyse(self, frame: npt.NDArray[np.float64]) -> FrameSpectrum:
        """Analyse one 160-sample frame (float, int16 scale)."""
        self._hist = np.concatenate((self._hist[frame.size :], frame))
        self._frames += 1
        # Tones and beeps last 100 ms or more: an 80 ms analysis every other frame (40 ms) is enough, and halves
        # the cost of the largest FFT. DTMF, which can be 40 ms short, has its own receiver.
        if self._frames % 2 == 1 or self._tonal is None:
            self._tonal = self._tone_peaks()
        tonal_ratio, peaks, shares = self._tonal
        short = self._hist[-BAND_NFFT:] * self._band_win
        pspec = np.abs(np.fft.rfft(short)) ** 2 + _EPS
        bands = np.log10(self._mel @ pspec + 1.0)
        return FrameSpectrum(
            level_db=level_db(frame),
            tonal_ratio=tonal_ratio,
            peaks_hz=peaks,
            peak_shares=shares,
            bands=bands,
        )

    def _tone_peaks(self) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
        """Share of band power in the two strongest narrow peaks, their frequencies and individual shares."""
        spec = np.abs(np.fft.rfft(self._hist * self._tone_win, TONE_NFFT)) ** 2
        band = spec * self._band
        total = float(band.sum()) + _EPS
        peaks: list[float] = []
        shares: list[float] = []
        work = band.copy()
        for _ in range(2):
            k = int(np.argmax(work))
            p = float(work[k])
            if p <= 0 or (peaks and p < 0.05 * float(band[self._bin(peaks[0])])):
                break
            lo, hi = max(k - 3, 0), min(k + 4, work.size)
            share = float(band[lo:hi].sum())
            peaks.append(self._interp(spec, k))
            shares.append(share / total)
            work[lo:hi] = 0
        return sum(shares), tuple(peaks), tuple(shares)

    def _bin(self, hz: float) -> int:
        return min(max(round(hz * TONE_NFFT / SAMPLE_RATE), 0), TONE_NFFT // 2)

    def _interp(self, spec: npt.NDArray[np.float64], k: int) -> float:
        """Parabolic interpolation of a peak on log power for sub-bin frequency accuracy."""
        if 0 < k < spec.size - 1:
            a, b, c = (math.log(float(v) + _EPS) for v in spec[k - 1 : k + 2])
            den = a - 2 * b + c
            off = 0.5 * (a - c) / den if den != 0 else 0.0
            # A true local maximum puts the vertex within half a bin. The peak is the band's maximum, not always
            # the spectrum's (at the band's edge a louder neighbour lies outside it), and a near-flat top gives a
            # tiny denominator: either can throw the vertex far away (seen on real calls: bin 1934 of 513).
            off = min(max(off, -0.5), 0.5)
            return float((k + off) * SAMPLE_RATE / TONE_NFFT)
        return float(k * SAMPLE_RATE / TONE_NFFT)

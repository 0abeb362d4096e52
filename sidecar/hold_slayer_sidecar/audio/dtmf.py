"""In-band DTMF receiver after ITU-T Q.23 / Q.24.

Q.24 (North American / ETSI values): operate on tones of >= 40 ms within +-1.5 % of nominal, do not operate on
tones off by >= 3.5 % or shorter than ~25 ms, accept twist of +8 dB (low group louder, "normal") and -4 dB
("reverse"). Talk-off guards: both tones must hold most of the band power, each group must have a single
dominant peak and no strong second harmonic (speech and music are harmonic-rich).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")

SAMPLE_RATE = 8000
WINDOW = 200  # 25 ms analysis window
HOP = 40  # 5 ms: fine enough to measure tone duration
NFFT = 1024
FREQ_TOL = 0.025  # halfway between the must-accept 1.5 % and the must-reject 3.5 %
TWIST_NORMAL_DB = 10.0  # accept +8, reject +12
TWIST_REVERSE_DB = 6.0  # accept -4, reject -8
MIN_TONE_S = 0.033  # accept 40 ms, reject 25 ms
MIN_SHARE = 0.75  # share of 300-3400 Hz power in the two tones
MIN_TONE_DBM0 = -45.0  # Q.24 asks for -25..-29 dBm0; hard lines lose 10-15 dB more
DBM0_RMS = 15757.0  # 0 dBm0 sine RMS in int16 units (dtmf/index.json conventions)
GROUP_PURITY = 0.9  # share of a group band's power in its tone: one dominant frequency per group
LOBE = 9  # bins of 7.8 Hz either side of a peak: the Hann main lobe of a 25 ms window (+-80 Hz)
HARMONIC_DB = 12.0
GATE_FRAME = 160
GATE_NFFT = 256
END_GAP_WINDOWS = 2  # windows without the digit that end a tone (bridges one noisy window)


class DtmfDetector:
    """Streaming DTMF receiver: feed 8 kHz PCM, get (digit, t_s) once per tone."""

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        if sample_rate != SAMPLE_RATE:
            raise ValueError("DtmfDetector works on 8 kHz audio")
        self._buf = np.zeros(WINDOW - HOP + GATE_FRAME)
        self._gate_win = np.hanning(GATE_FRAME)
        gf = np.fft.rfftfreq(GATE_NFFT, 1 / SAMPLE_RATE)
        self._gate_band = (gf >= 300) & (gf <= 3400)
        self._gate_lo = (gf >= 650) & (gf <= 990)
        self._gate_hi = (gf >= 1150) & (gf <= 1700)
        self._prev_gated = False
        self._win = np.hanning(WINDOW)
        freqs = np.fft.rfftfreq(NFFT, 1 / SAMPLE_RATE)
        self._freqs = freqs
        self._band = (freqs >= 300) & (freqs <= 3400)
        self._lo_band = np.flatnonzero((freqs >= 650) & (freqs <= 990))
        self._hi_band = np.flatnonzero((freqs >= 1150) & (freqs <= 1700))
        # Power of a full-window sine of RMS 1 in this FFT, for absolute levels.
        ref = (
            np.abs(
                np.fft.rfft(np.sqrt(2) * np.sin(2 * np.pi * 1000 * np.arange(WINDOW) / SAMPLE_RATE) * self._win, NFFT)
            )
            ** 2
        )
        k_ref = int(np.argmax(ref))
        self._ref_power = float(ref[k_ref - LOBE : k_ref + LOBE + 1].sum())
        self._run_digit = ""
        self._run_powers: list[float] = []
        self._miss = 0
        self._t_last = 0.0
        self.tone_active = False

    def process(self, pcm: npt.NDArray[np.int16], t_s: float) -> list[tuple[str, float]]:
        """Feed one frame ending at stream time t_s; return digits whose tone ended in it."""
        x = np.concatenate((self._buf, pcm.astype(np.float64)))
        self._buf = x[-(WINDOW - HOP + GATE_FRAME) :]
        gated = self._run_digit != "" or self._could_be_dtmf(x[-GATE_FRAME:])
        out: list[tuple[str, float]] = []
        if gated:
            # A tone that began late in the previous (skipped) frame must be measured from its start.
            first = x.size - pcm.size - (0 if self._prev_gated else GATE_FRAME)
            starts = np.arange(first - (WINDOW - HOP), x.size - WINDOW + 1, HOP)
            starts = starts[starts >= 0]
            idx = starts[:, None] + np.arange(WINDOW)[None, :]
            spec = np.abs(np.fft.rfft(x[idx] * self._win, NFFT, axis=1)) ** 2
            for i, start in enumerate(starts):
                digit, power = self._classify(spec[i])
                t_end = t_s - (x.size - (start + WINDOW)) / SAMPLE_RATE
                out.extend(self._track(digit, power, float(t_end)))
        self._prev_gated = gated
        self.tone_active = bool(self._run_digit)
        return out

    def _could_be_dtmf(self, frame: npt.NDArray[np.float64]) -> bool:
        """Cheap gate: most of the frame's power sits in the two DTMF groups (skips silence, most speech/music)."""
        if float(np.max(np.abs(frame))) < 60:  # below -55 dBFS peak
            return False
        s = np.abs(np.fft.rfft(frame * self._gate_win, GATE_NFFT)) ** 2
        total = float(s[self._gate_band].sum()) + 1e-12
        lo = float(s[self._gate_lo].sum()) / total
        hi = float(s[self._gate_hi].sum()) / total
        return lo >= 0.05 and hi >= 0.05 and lo + hi >= 0.6

    def _peak(self, s: npt.NDArray[np.float64], band: npt.NDArray[np.intp]) -> tuple[float, float, float]:
        """Strongest peak in a group band: (interpolated Hz, power in its main lobe, power of the whole band)."""
        k = int(band[np.argmax(s[band])])
        a, b, c = np.log(s[k - 1 : k + 2] + 1e-12)
        den = a - 2 * b + c
        hz = (k + (0.5 * (a - c) / den if den != 0 else 0.0)) * SAMPLE_RATE / NFFT
        lobe = float(s[k - LOBE : k + LOBE + 1].sum())
        return hz, lobe, float(s[band[0] - LOBE : band[-1] + LOBE + 1].sum())

    def _classify(self, s: npt.NDArray[np.float64]) -> tuple[str, float]:  # noqa: PLR0911 - one exit per Q.24 check
        """Return the digit this window holds, or "" (with the tone power for duration measurement)."""
        f_lo, p_lo, group_lo = self._peak(s, self._lo_band)
        f_hi, p_hi, group_hi = self._peak(s, self._hi_band)
        row = int(np.argmin([abs(f_lo - f) for f in LOW]))
        col = int(np.argmin([abs(f_hi - f) for f in HIGH]))
        if abs(f_lo / LOW[row] - 1) > FREQ_TOL or abs(f_hi / HIGH[col] - 1) > FREQ_TOL:
            return "", 0.0
        total = float(s[self._band].sum()) + 1e-12
        if (p_lo + p_hi) / total < MIN_SHARE:
            return "", 0.0
        twist = 10 * np.log10(p_lo / p_hi)
        if twist > TWIST_NORMAL_DB or twist < -TWIST_REVERSE_DB:
            return "", 0.0
        for p in (p_lo, p_hi):
            if 10 * np.log10(p / self._ref_power / DBM0_RMS**2 + 1e-20) < MIN_TONE_DBM0:
                return "", 0.0
        if p_lo / (group_lo + 1e-12) < GROUP_PURITY or p_hi / (group_hi + 1e-12) < GROUP_PURITY:
            return "", 0.0
        for f, p in ((f_lo, p_lo), (f_hi, p_hi)):
            k2 = round(2 * f * NFFT / SAMPLE_RATE)
            # 2 x a low tone can fall within two main lobes (160 Hz) of the high tone: that energy is not a harmonic.
            if k2 + LOBE < s.size and abs(2 * f - f_hi) > 2 * LOBE * SAMPLE_RATE / NFFT + 20:
                harmonic = float(s[k2 - LOBE : k2 + LOBE + 1].sum())
                if 10 * np.log10(p / (harmonic + 1e-12)) < HARMONIC_DB:
                    return "", 0.0
        return KEYS[row][col], p_lo + p_hi

    def _track(self, digit: str, power: float, t_s: float) -> list[tuple[str, float]]:
        """One digit per tone: a run of windows holding the same digit, measured for duration when it ends."""
        if digit and digit == self._run_digit:
            self._run_powers.append(power)
            self._miss = 0
            self._t_last = t_s
            return []
        out: list[tuple[str, float]] = []
        if self._run_digit:
            self._miss += 1
            if self._miss < END_GAP_WINDOWS and not digit:
                return []
            out = self._finish(t_s)
        if digit:
            self._run_digit = digit
            self._run_powers = [power]
            self._miss = 0
            self._t_last = t_s
        return out

    def _finish(self, t_s: float) -> list[tuple[str, float]]:
        """Close the current run; report it if the tone lasted long enough."""
        digit, powers = self._run_digit, self._run_powers
        self._run_digit, self._run_powers, self._miss = "", [], 0
        # Sliding a window across a tone gives a power curve whose half-power width is the tone's length
        # (for tones at least a window long), whatever the window shape and the channel's edge smearing.
        peak = max(powers)
        length_s = sum(1 for p in powers if p >= 0.5 * peak) * HOP / SAMPLE_RATE
        if length_s + 1e-9 < MIN_TONE_S:
            return []
        return [(digit, t_s)]

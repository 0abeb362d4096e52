"""Call-progress tones and hold beeps from narrow spectral peaks and their cadence.

North American tones follow ANSI T1.401 / Bellcore GR-506 (ringback 440+480 Hz 2 s on 4 s off, busy 480+620 Hz
0.5/0.5 s, reorder 480+620 Hz 0.25/0.25 s); UK tones follow BT SIN 350 (ringing 400+450 Hz 0.4/0.2/0.4/2.0 s,
busy 400 Hz 0.375/0.375 s); CEPT countries use 425 Hz (ringing 1 s on 4 s off, busy 0.5/0.5 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .spectrum import FrameSpectrum

FRAME_S = 0.02
BEEP_ISOLATION_S = 1.0
_TOL = 0.03  # relative frequency tolerance for call-progress tones (they are generated, so accurate)


ToneData = dict[str, float | str]


class ToneEvent(StrEnum):
    """What the tone tracker can report."""

    RINGBACK = "ringback"
    BUSY = "busy"
    BEEP = "beep"


def _near(f: float, target: float) -> bool:
    return abs(f - target) <= target * _TOL


def _is_dtmf_pair(freqs: tuple[float, ...]) -> bool:
    """Tell whether a low-group plus high-group pair is present (the DTMF receiver's job, not ours)."""
    if len(freqs) != 2:
        return False
    lo, hi = sorted(freqs)
    return 680 <= lo <= 960 and 1180 <= hi <= 1660


def tone_family(freqs: tuple[float, ...]) -> str:  # noqa: PLR0911 - one exit per tone plan
    """Name the tone by its frequencies: na_ring, uk_ring, na_busy, single_425 (CEPT/UK single tone), beep, dtmf."""
    if _is_dtmf_pair(freqs):
        return "dtmf"
    if len(freqs) >= 2:
        a, b = sorted(freqs[:2])
        if _near(a, 480) and _near(b, 620):
            return "na_busy"
        if _near(a, 440) and _near(b, 480):
            return "na_ring"
        if _near(a, 400) and _near(b, 450):
            return "uk_ring"
        if abs(a - b) < 25:  # one tone seen as two close peaks (window edge)
            freqs = (freqs[0],)
        else:
            return "other"
    f = freqs[0]
    if 385 <= f <= 465:
        return "single_425"
    return "beep"


@dataclass(slots=True)
class _Burst:
    start_s: float
    end_s: float
    family: str
    freq: float


class ToneTracker:
    """Groups tonal frames into bursts and names them by frequency and cadence."""

    def __init__(self) -> None:
        self._burst: _Burst | None = None
        self._last: _Burst | None = None
        self._reported = False
        self._pending_beep: _Burst | None = None
        self._progress_family = ""  # the last ringback/busy plan recognised on this call
        self.tone_active = False
        self.progress_active = False  # the current burst continues a recognised ringback/busy tone

    def process(self, spec: FrameSpectrum, floor_db: float, t_s: float) -> list[tuple[ToneEvent, float, ToneData]]:
        """Feed one frame's spectrum; return tone events decided at t_s."""
        out: list[tuple[ToneEvent, float, ToneData]] = []
        tonal = (
            spec.tonal_ratio >= 0.8 and spec.level_db >= floor_db + 9 and spec.level_db >= -58 and bool(spec.peaks_hz)
        )
        family = ""
        freq = 0.0
        if tonal:
            freqs = tuple(f for f, s in zip(spec.peaks_hz, spec.peak_shares, strict=True) if s >= 0.08)
            family = tone_family(freqs or spec.peaks_hz[:1])
            freq = spec.peaks_hz[0]
        b = self._burst
        same = b is not None and tonal and family == b.family and (family != "beep" or abs(freq - b.freq) < 30)
        if b is not None and not same:
            b.end_s = t_s - FRAME_S
            out.extend(self._burst_ended(b))
            self._last = b
            self._burst = None
            b = None
        if tonal and family not in ("dtmf", "other"):
            if b is None:
                self._burst = b = _Burst(t_s - FRAME_S, t_s, family, freq)
                self._reported = False
            b.end_s = t_s
            out.extend(self._burst_ongoing(b, t_s))
        pending = self._pending_beep
        if pending is not None and self._burst is not None and self._burst is not pending:
            self._pending_beep = None  # another burst followed soon: a cadenced tone, not a beep
        elif pending is not None and t_s - pending.end_s >= BEEP_ISOLATION_S:
            self._pending_beep = None
            data: ToneData = {
                "tone": pending.family,
                "freq_hz": round(pending.freq, 1),
                "start_s": round(pending.start_s, 2),
                "on_s": round(pending.end_s - pending.start_s, 2),
            }
            out.append((ToneEvent.BEEP, t_s, data))
        for event, _, data in out:
            if event in (ToneEvent.RINGBACK, ToneEvent.BUSY):
                self._progress_family = str(data["tone"])
        self.tone_active = self._burst is not None
        self.progress_active = self._burst is not None and self._burst.family == self._progress_family
        return out

    def _burst_ongoing(self, b: _Burst, t_s: float) -> list[tuple[ToneEvent, float, ToneData]]:
        """Tones whose frequencies alone identify them are reported while still sounding."""
        dur = b.end_s - b.start_s
        if self._reported:
            return []
        event: ToneEvent | None = None
        if b.family in ("na_ring", "uk_ring") and dur >= 0.3:
            event = ToneEvent.RINGBACK
        elif b.family == "na_busy" and dur >= 0.2:
            event = ToneEvent.BUSY
        elif b.family == "single_425" and dur >= 0.8:
            event = ToneEvent.RINGBACK  # CEPT ringing: 1 s on; busy bursts are never this long
        if event is None:
            return []
        self._reported = True
        return [(event, t_s, {"tone": b.family, "freq_hz": round(b.freq, 1), "start_s": round(b.start_s, 2)})]

    def _burst_ended(self, b: _Burst) -> list[tuple[ToneEvent, float, ToneData]]:
        """Tones recognised by cadence are reported when a burst ends."""
        if self._reported:
            return []
        dur = b.end_s - b.start_s
        last = self._last
        data: ToneData = {
            "tone": b.family,
            "freq_hz": round(b.freq, 1),
            "start_s": round(b.start_s, 2),
            "on_s": round(dur, 2),
        }
        if b.family == "single_425" and 0.2 <= dur <= 0.65 and last is not None and last.family == b.family:
            gap = b.start_s - last.end_s
            last_dur = last.end_s - last.start_s
            if 0.2 <= gap <= 0.7 and 0.2 <= last_dur <= 0.65:
                return [(ToneEvent.BUSY, b.end_s + FRAME_S, data)]
        if b.family in ("beep", "single_425") and 0.1 <= dur <= 0.7:
            # A hold beep stands alone; bursts that repeat within a second are busy/ringing cadences.
            self._pending_beep = b
        return []

"""DTMF digit strings: validation, pauses and in-band tone synthesis (ITU-T Q.23 frequency pairs)."""

from __future__ import annotations

import numpy as np

from ..audio.types import Pcm
from ..dialplan import DTMF_PAUSES, DialPolicyError, check_dtmf
from .api import SipError

PAUSE_CHARS = DTMF_PAUSES
PAUSE_S = 0.5

_LOW = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770}
_LOW |= {"7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
_HIGH = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336, "0": 1336}
_HIGH |= {"3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633, "C": 1633, "D": 1633}

# Each tone at -7 dBm0-ish: loud enough for any detector, well clear of clipping when summed.
_AMPLITUDE = 0.3 * 32767


def parse_digits(digits: str) -> list[str]:
    """Check the digit string with the dialling policy and upper-case it; 'w', 'W' and ',' are 0.5 s pauses."""
    try:
        checked = check_dtmf(digits)
    except DialPolicyError as err:
        raise SipError(f"{err.message} (in {digits!r})") from err
    return ["," if ch in PAUSE_CHARS else ch for ch in checked]


def tone(digit: str, duration_s: float, sample_rate: int) -> Pcm:
    """Return the dual-tone signal for one digit."""
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    signal = np.sin(2 * np.pi * _LOW[digit] * t) + np.sin(2 * np.pi * _HIGH[digit] * t)
    return (signal * _AMPLITUDE).astype(np.int16)


def inband_pcm(tokens: list[str], duration_ms: int, gap_ms: int, sample_rate: int) -> Pcm:
    """Render the digit string as in-band audio: tone, gap, tone, ... with 0.5 s per pause."""
    gap = np.zeros(round(gap_ms * sample_rate / 1000), dtype=np.int16)
    pause = np.zeros(round(PAUSE_S * sample_rate), dtype=np.int16)
    parts: list[Pcm] = []
    for token in tokens:
        if token == ",":
            parts.append(pause)
        else:
            parts += [tone(token, duration_ms / 1000, sample_rate), gap]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

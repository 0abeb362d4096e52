"""DTMF receiver: Q.24 acceptance/rejection edges and talk-off, on synthetic tones and corpus vectors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hold_slayer_sidecar.audio.dtmf import HIGH, KEYS, LOW, DtmfDetector

from .helpers import clip

RATE = 8000
DBM0 = 15757.0


def tones(
    digits: str,
    on_ms: float,
    off_ms: float,
    *,
    low_dev: float = 0.0,
    high_dev: float = 0.0,
    low_dbm0: float = -8.0,
    high_dbm0: float = -6.0,
) -> npt.NDArray[np.int16]:
    """Digits as DTMF bursts (levels per frequency in dBm0, deviations in per cent)."""
    parts = [np.zeros(int(0.2 * RATE))]
    for d in digits:
        row = next(i for i, keys in enumerate(KEYS) if d in keys)
        col = KEYS[row].index(d)
        t = np.arange(int(on_ms / 1000 * RATE)) / RATE
        a_lo = DBM0 * np.sqrt(2) * 10 ** (low_dbm0 / 20)
        a_hi = DBM0 * np.sqrt(2) * 10 ** (high_dbm0 / 20)
        parts.append(
            a_lo * np.sin(2 * np.pi * LOW[row] * (1 + low_dev / 100) * t)
            + a_hi * np.sin(2 * np.pi * HIGH[col] * (1 + high_dev / 100) * t)
        )
        parts.append(np.zeros(int(off_ms / 1000 * RATE)))
    parts.append(np.zeros(int(0.2 * RATE)))
    rng = np.random.default_rng(3)
    x = np.concatenate(parts) + rng.normal(0, 10, sum(p.size for p in parts))
    return np.clip(x, -32768, 32767).astype(np.int16)


def heard(pcm: npt.NDArray[np.int16]) -> str:
    det = DtmfDetector()
    out = ""
    for k in range(pcm.size // 160):
        out += "".join(d for d, _ in det.process(pcm[k * 160 : (k + 1) * 160], (k + 1) * 0.02))
    return out


ALL = "123A456B789C*0#D"


def test_all_sixteen_keys_at_nominal_frequencies() -> None:
    assert heard(tones(ALL, 70, 70)) == ALL


def test_minimum_40ms_tones_with_50ms_pauses_and_repeats() -> None:
    assert heard(tones("1111##00", 40, 50)) == "1111##00"


@pytest.mark.parametrize("on_ms", [20, 25])
def test_too_short_tones_are_rejected(on_ms: float) -> None:
    assert heard(tones(ALL, on_ms, 50)) == ""


@pytest.mark.parametrize(("low", "high"), [(1.5, 1.5), (-1.5, -1.5), (1.5, -1.5), (-1.5, 1.5)])
def test_frequency_within_1_5_percent_is_accepted(low: float, high: float) -> None:
    assert heard(tones(ALL, 70, 70, low_dev=low, high_dev=high)) == ALL


@pytest.mark.parametrize(("low", "high"), [(3.5, 3.5), (-3.5, -3.5), (3.5, 0.0), (0.0, -3.5)])
def test_frequency_off_by_3_5_percent_is_rejected(low: float, high: float) -> None:
    assert heard(tones(ALL, 70, 70, low_dev=low, high_dev=high)) == ""


@pytest.mark.parametrize(
    ("low_dbm0", "high_dbm0", "ok"), [(-6, -14, True), (-10, -6, True), (-6, -18, False), (-14, -6, False)]
)
def test_twist_limits(low_dbm0: float, high_dbm0: float, ok: bool) -> None:
    """Normal twist (low group louder) up to +8 dB and reverse up to -4 dB; +12 and -8 are rejected."""
    assert heard(tones(ALL, 70, 70, low_dbm0=low_dbm0, high_dbm0=high_dbm0)) == (ALL if ok else "")


def test_quiet_tones_down_to_minus_29_dbm0() -> None:
    assert heard(tones(ALL, 70, 70, low_dbm0=-29, high_dbm0=-29)) == ALL


def test_corpus_vectors_through_the_telephone_channel() -> None:
    assert heard(clip("dtmf_dur40_pause50.wav")) == ALL
    assert heard(clip("dtmf_dur25_pause50.wav")) == ""


@pytest.mark.parametrize(
    "name",
    [
        "human_07.wav",
        "music_05.wav",
        "announcement_02.wav",
        "ivr_prompt_00.wav",
        "ringback_00_na.wav",
        "busy_00_na.wav",
        "beep_00.wav",
    ],
)
def test_no_talk_off_on_speech_music_and_tones(name: str) -> None:
    assert heard(clip(name)) == ""

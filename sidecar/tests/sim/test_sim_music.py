"""Procedural hold music is deterministic, loops of 30-60 s, and has the structure of music."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hold_slayer_sim.music import PIECES, SAMPLE_RATE, chord, render_piece, spec_for
from hold_slayer_sim.vad import SpeechDetector, SpeechEnd, SpeechStart


@cache
def rendered(name: str) -> np.ndarray:
    return render_piece(spec_for(name))


def _dominant_pitches(pcm: np.ndarray, window_s: float = 0.25) -> list[int]:
    """Strongest FFT bin (as a MIDI note) in each window above 100 Hz."""
    n = int(window_s * SAMPLE_RATE)
    notes = []
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    for i in range(0, pcm.size - n, n):
        spec = np.abs(np.fft.rfft(pcm[i : i + n] * np.hanning(n)))
        spec[freqs < 100] = 0
        f = freqs[int(np.argmax(spec))]
        notes.append(round(69 + 12 * np.log2(f / 440.0)))
    return notes


@pytest.mark.parametrize("name", [p.name for p in PIECES])
def test_piece_is_a_loop_of_music(name: str) -> None:
    pcm = rendered(name)
    assert 30.0 <= pcm.size / SAMPLE_RATE <= 60.0
    assert np.array_equal(pcm, render_piece(spec_for(name)))  # seeded: the same every time
    x = pcm.astype(np.float64) / 32768
    rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
    assert -24 < rms_db < -12
    # Many different notes, not one stationary tone.
    assert len(set(_dominant_pitches(pcm))) >= 8
    # Rhythm: the 20 ms energy envelope rises sharply (note onsets) at least every two seconds on average.
    frames = x[: x.size // 160 * 160].reshape(-1, 160)
    env = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    onsets = np.sum(np.diff(env) > 3.0)
    assert onsets >= 0.5 * pcm.size / SAMPLE_RATE
    # Seamless loop: no click where the end meets the start.
    assert abs(int(pcm[-1]) - int(pcm[0])) < 6000


def test_pieces_differ_from_each_other() -> None:
    a, b = rendered("lounge"), rendered("pop")
    n = min(a.size, b.size)
    corr = np.corrcoef(a[:n].astype(float), b[:n].astype(float))[0, 1]
    assert abs(corr) < 0.1


def test_chord_symbols() -> None:
    assert chord("Dm7") == [50, 53, 57, 60]
    assert chord("F#m7b5", octave=4)[0] == 66
    with pytest.raises(ValueError, match="unknown chord"):
        chord("H7")


def test_speech_detector_finds_a_burst() -> None:
    det = SpeechDetector(8000, hangover_s=0.4)
    t = np.arange(8000) / 8000
    burst = (np.sin(2 * np.pi * 220 * t) * 6000).astype(np.int16)
    audio = np.concatenate([np.zeros(4000, np.int16), burst, np.zeros(8000, np.int16)])
    events = [e for i in range(0, audio.size, 160) for e in det.process(audio[i : i + 160])]
    start, end = events
    assert isinstance(start, SpeechStart) and isinstance(end, SpeechEnd)
    assert start.t_s == pytest.approx(0.5, abs=0.05)
    assert end.duration_s == pytest.approx(1.0, abs=0.1)

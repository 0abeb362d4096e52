"""The company's voices on a call, and how far a new turn's voice is from them (bench/voice_stats.py)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.spectrum import SpectrumAnalyser
from hold_slayer_tools.bench.voice_stats import (
    MAX_VOICES,
    MIN_VOICED_FRAMES,
    VoiceBook,
    divergence,
    voiced_cepstra,
)
from hold_slayer_tools.bench.voices import measure, voice_of

from .helpers import FRAME, clip, join, silence

Frames = npt.NDArray[np.float64]


def bands_levels(pcm: npt.NDArray[np.int16]) -> tuple[Frames, list[float]]:
    """The detector's own per-frame mel bands and levels of a clip."""
    analyser = SpectrumAnalyser()
    bands, levels = [], []
    for k in range(pcm.size // FRAME):
        spec = analyser.analyse(pcm[k * FRAME : (k + 1) * FRAME].astype(np.float64))
        bands.append(spec.bands)
        levels.append(spec.level_db)
    return np.array(bands), levels


def synthetic_voice(envelope: Frames, frames: int, seed: int) -> tuple[Frames, list[float]]:
    """Frames of one spectral envelope with syllable-to-syllable variation, all at speech level."""
    rng = np.random.default_rng(seed)
    return envelope + rng.normal(0.0, 0.3, (frames, envelope.size)), [-20.0] * frames


def test_a_voice_is_close_to_itself_and_far_from_another() -> None:
    """Two draws of one envelope diverge little; a different envelope (another vocal tract) diverges much more."""
    tilt_a = np.linspace(6.0, 3.0, 16)
    tilt_b = np.linspace(4.0, 5.5, 16) + np.sin(np.arange(16))
    a1 = voiced_cepstra(*synthetic_voice(tilt_a, 120, 1))
    a2 = voiced_cepstra(*synthetic_voice(tilt_a, 120, 2))
    b = voiced_cepstra(*synthetic_voice(tilt_b, 120, 3))
    assert divergence(a1, a2) < 0.2
    assert divergence(a1, b) > 10 * divergence(a1, a2)
    assert divergence(a1, b) == divergence(b, a1) or abs(divergence(a1, b) - divergence(b, a1)) < 1e-9


def test_only_the_voiced_frames_count() -> None:
    """The line's quiet between words (far under the loud syllables) is not the voice."""
    bands, levels = synthetic_voice(np.linspace(6.0, 3.0, 16), 60, 1)
    quiet = np.zeros((40, 16))
    cep = voiced_cepstra(np.concatenate((bands, quiet)), levels + [-60.0] * 40)
    assert cep.shape == (60, 12)


def test_hostile_shapes_give_nothing_to_compare() -> None:
    """Empty or mismatched input is no voice (never an exception inside the per-frame judge)."""
    assert voiced_cepstra(np.zeros((0, 16)), []).shape[0] == 0
    assert voiced_cepstra(np.zeros((5, 16)), [-20.0] * 3).shape[0] == 0
    book = VoiceBook()
    book.add(np.zeros((0, 16)), [])
    assert len(book) == 0
    assert book.novelty(*synthetic_voice(np.linspace(6.0, 3.0, 16), 80, 1)) is None  # no company voice yet


def test_too_little_speech_is_not_judged() -> None:
    """Under a second of voiced speech neither makes a voice nor is compared with one."""
    book = VoiceBook()
    book.add(*synthetic_voice(np.linspace(6.0, 3.0, 16), MIN_VOICED_FRAMES - 1, 1))
    assert len(book) == 0
    book.add(*synthetic_voice(np.linspace(6.0, 3.0, 16), 200, 1))
    assert book.novelty(*synthetic_voice(np.linspace(6.0, 3.0, 16), MIN_VOICED_FRAMES - 1, 2)) is None


def test_the_same_voice_joins_its_model_and_a_new_one_is_kept_apart() -> None:
    """Sentences of one voice make one model; another voice makes a second; the book stays bounded."""
    book = VoiceBook()
    book.add(*synthetic_voice(np.linspace(6.0, 3.0, 16), 150, 1))
    book.add(*synthetic_voice(np.linspace(6.0, 3.0, 16), 150, 2))
    assert len(book) == 1
    book.add(*synthetic_voice(np.linspace(4.0, 5.5, 16) + np.sin(np.arange(16)), 150, 3))
    assert len(book) == 2
    for k in range(3 * MAX_VOICES):
        book.add(*synthetic_voice(np.full(16, 3.0) + 2 * np.cos(np.arange(16) * (k + 1)), 60, k + 10))
    assert len(book) <= MAX_VOICES


def test_a_recording_s_own_next_sentence_is_nearer_than_a_person() -> None:
    """Real clips: the second half of a TTS announcement is far nearer its first half than a person's line is."""
    bands, levels = bands_levels(clip("announcement_02.wav"))
    half = len(levels) // 2
    book = VoiceBook()
    book.add(bands[:half], levels[:half])
    own = book.novelty(bands[half:], levels[half:])
    person = book.novelty(*bands_levels(clip("human_07.wav")))
    assert own is not None and person is not None
    assert own[0] * 2 < person[0]


def test_the_voices_bench_measures_a_labelled_split(tmp_path: Path) -> None:
    """bench voices: same-voice pairs from a company's sentences, a person against them, a second announcer."""
    ann, ivr, person = clip("announcement_02.wav"), clip("ivr_prompt_00.wav"), clip("human_07.wav")
    gap = silence(0.5)
    parts = [("ivr_prompt", ivr, "espeak-ng:en-us", "a"), ("announcement", ann, "flite:kal", "b")]
    parts += [("announcement", ann[: ann.size // 2], "flite:kal", "c"), ("human", person, "fotaq", "d")]
    pcm, segments, at = [], [], 0
    for label, audio, source, text in parts:
        pcm += [gap, audio]
        start = at + gap.size
        at = start + audio.size
        segments.append({"start_s": start / 8000, "end_s": at / 8000, "label": label, "source": source, "text": text})
    (tmp_path / "scenarios").mkdir()
    with wave.open(str(tmp_path / "scenarios" / "s1.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(join(*pcm).tobytes())
    (tmp_path / "scenarios" / "s1.json").write_text(json.dumps({"id": "s1", "segments": segments}))
    rows = measure(tmp_path)["rows"]
    assert [r["window_s"] for r in rows] == [1.0, 2.0, 3.0]
    assert all(r["same_voice_pairs"] == 1 and r["people"] == 1 and r["new_recorded_voices"] == 1 for r in rows)


def test_the_bench_keys_a_voice_by_speaker_or_tts_voice() -> None:
    """Recorded speakers of one game are different voices; one TTS voice at two speaking rates is one voice."""
    assert voice_of("flight-of-the-amazon-queen:queen.1c/680006P3.SB (speaker BOB, BOB1.DOG)") == "speaker BOB"
    assert voice_of("flight-of-the-amazon-queen:queen.1c/670008P2.SB (speaker WEDGE, W.DOG)") == "speaker WEDGE"
    assert voice_of("espeak-ng:en-us (rate 160)") == voice_of("espeak-ng:en-us (rate 175)") == "espeak-ng:en-us"

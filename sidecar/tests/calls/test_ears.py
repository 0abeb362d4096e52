"""One call's ears (calls/listening.py): the same rules for the live call and for `scripts/run bench detect`."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FakeDetector
from hold_slayer_sidecar.audio.types import Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.calls.listening import Ears, WordsWanted, words_wanted
from hold_slayer_tools.bench.corpus import predict

AUDIO = np.zeros(800, dtype=np.int16)


@pytest.mark.parametrize(
    ("obs", "probing", "wanted"),
    [
        (Observation(K.SPEECH_SEGMENT, 1.0, data={"context": "hold"}, audio=AUDIO), False, WordsWanted(True, False)),
        (Observation(K.SPEECH_SEGMENT, 1.0, data={"context": "ivr"}, audio=AUDIO), False, WordsWanted(False, False)),
        (Observation(K.SPEECH_SEGMENT, 1.0, data={"context": "ivr"}, audio=AUDIO), True, WordsWanted(True, False)),
        (Observation(K.SPEECH_PARTIAL, 1.0, audio=AUDIO), False, WordsWanted(True, True)),
        (Observation(K.SPEECH_SEGMENT, 1.0), False, None),  # no audio, no words
        (Observation(K.MUSIC, 1.0, audio=AUDIO), False, None),
    ],
)
def test_which_speech_gets_words_and_which_decode(obs: Observation, probing: bool, wanted: WordsWanted | None) -> None:
    assert words_wanted(obs, probing=probing) == wanted


def test_partials_wait_for_a_free_speech_to_text_and_nothing_is_wanted_once_a_person_is_heard() -> None:
    detector = FakeDetector()
    ears = Ears(detector)
    partial = Observation(K.SPEECH_PARTIAL, 1.0, audio=AUDIO)
    assert ears.wants_words(partial, stt_busy=True) is None
    assert ears.wants_words(partial) == WordsWanted(True, True)
    detector.transcripts_useful = False
    assert ears.wants_words(Observation(K.SPEECH_SEGMENT, 1.0, data={"context": "hold"}, audio=AUDIO)) is None


def test_the_detection_benchmark_listens_through_the_same_ears(monkeypatch: pytest.MonkeyPatch) -> None:
    heard: list[tuple[int, bool]] = []
    real = Ears.wants_words

    def spy(self: Ears, obs: Observation, **kw: bool) -> WordsWanted | None:
        wanted = real(self, obs, **kw)
        if wanted is not None:
            heard.append((obs.audio.size if obs.audio is not None else 0, wanted.quick))
        return wanted

    frames = []
    real_hear = Ears.hear

    def hear(self: Ears, frame: object) -> list[Observation]:
        frames.append(frame)
        return real_hear(self, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(Ears, "wants_words", spy)
    monkeypatch.setattr(Ears, "hear", hear)
    rng = np.random.default_rng(3)
    t = np.arange(8000) / 8000
    voiced = (3000 * np.sin(2 * np.pi * 150 * t) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype(np.int16)
    pcm = np.concatenate([np.zeros(8000, np.int16), voiced + rng.normal(0, 50, 8000).astype(np.int16)])
    pcm = np.concatenate([pcm, np.zeros(16000, np.int16)])
    predict(pcm, lambda audio, quick: "hello")
    assert len(frames) == pcm.size // 160  # every frame went through the call's Ears ...
    assert all(size > 0 for size, _ in heard)  # ... and so did every request for words


def test_a_menu_partial_is_the_calls_not_the_judges() -> None:
    """The words so far of a menu segment go to the call's greeting rule (calls/greeting.py), not the detector."""
    obs = Observation(K.SPEECH_PARTIAL, 2.0, audio=np.zeros(800, np.int16), data={"context": "menu"})
    assert words_wanted(obs) is None
    hold = Observation(K.SPEECH_PARTIAL, 2.0, audio=np.zeros(800, np.int16), data={"context": "hold"})
    assert words_wanted(hold) == WordsWanted(quick=True, partial=True)

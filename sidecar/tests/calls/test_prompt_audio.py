"""PromptAudio: the menu audio since the last move, for whole-prompt transcription."""

from __future__ import annotations

import numpy as np
from hold_slayer_sidecar.calls.prompt_audio import PromptAudio


def _pcm(seconds: float, rate: int = 8000) -> np.ndarray:
    return np.ones(int(seconds * rate), np.int16)


def test_segments_of_one_epoch_are_joined_with_a_pause() -> None:
    buf = PromptAudio()
    assert buf.add(1, _pcm(1.0), 8000) and buf.add(1, _pcm(0.5), 8000)
    assert buf.pending()
    audio, _t_s = buf.take()
    assert audio.size == 8000 + 2400 + 4000  # a 0.3 s gap between the segments
    assert not buf.pending()


def test_a_new_epoch_starts_afresh_and_a_long_prompt_falls_back_to_segments() -> None:
    buf = PromptAudio(max_seconds=2.0)
    buf.add(1, _pcm(1.0), 8000)
    buf.update("for billing press one")
    assert buf.add(2, _pcm(1.5), 8000) and buf.text == ""
    assert not buf.add(2, _pcm(1.0), 8000)  # would exceed 2 s
    assert not buf.add(2, _pcm(0.1), 8000)  # stays in segment mode for this epoch
    assert buf.add(3, _pcm(0.1), 16000)  # a new epoch may use whole mode again


def test_update_returns_only_the_new_words() -> None:
    buf = PromptAudio()
    assert buf.update("For billing, press one.") == "For billing, press one."
    assert buf.update("For billing press one. For cards press two.") == "For cards press two."
    assert buf.update("For bills press one.") == "bills press one."  # revised: from the first changed word

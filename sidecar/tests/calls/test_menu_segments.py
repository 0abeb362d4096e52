"""A call's latest menu segments: which of them follow each other closely enough to hold one label."""

from __future__ import annotations

import numpy as np
from hold_slayer_sidecar.calls.menu_segments import HeardSegment, MenuSegments, joined_audio

RATE = 8000


def _segment(text: str, start_s: float, seconds: float, value: int = 1) -> HeardSegment:
    return HeardSegment(text, np.full(int(seconds * RATE), value, np.int16), RATE, start_s + seconds)


def test_close_segments_form_one_run_and_a_long_pause_ends_it() -> None:
    segments = MenuSegments()
    assert [s.text for s in segments.add(1, _segment("a", 0.0, 1.0))] == ["a"]
    assert [s.text for s in segments.add(1, _segment("b", 1.5, 1.0))] == ["a", "b"]  # 0.5 s pause
    assert [s.text for s in segments.add(1, _segment("c", 4.0, 1.0))] == ["c"]  # 1.5 s pause
    assert [s.text for s in segments.add(1, _segment("d", 5.2, 0.5))] == ["c", "d"]


def test_a_new_listen_epoch_starts_afresh_and_only_four_are_kept() -> None:
    segments = MenuSegments()
    for i in range(6):
        run = segments.add(1, _segment(str(i), i * 1.2, 1.0))
    assert [s.text for s in run] == ["2", "3", "4", "5"]
    assert [s.text for s in segments.add(2, _segment("x", 7.4, 1.0))] == ["x"]


def test_joined_audio_puts_a_short_pause_between_segments() -> None:
    audio = joined_audio([_segment("a", 0.0, 0.5, 3), _segment("b", 1.0, 0.25, 5)])
    assert audio.size == int(0.5 * RATE) + int(0.3 * RATE) + int(0.25 * RATE)
    assert audio[0] == 3 and audio[int(0.6 * RATE)] == 0 and audio[-1] == 5
    assert joined_audio([]).size == 0

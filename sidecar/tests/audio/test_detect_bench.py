"""The detect benchmark streams audio as a live call does, transcripts arriving late by their compute time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hold_slayer_tools.bench.corpus import Item, perturb, predict
from hold_slayer_tools.bench.detect import main as detect_main

from .helpers import clip, join, silence


def test_transcripts_reach_the_detector_after_their_segment_and_are_costed() -> None:
    heard: list[int] = []
    quick: list[bool] = []

    def slow_stt(audio: npt.NDArray[np.int16], queue: bool) -> str:
        heard.append(audio.size)
        quick.append(queue)
        time.sleep(0)  # wall time is not what delays it; the thread's CPU time is
        sum(range(200_000))  # some CPU, like a real model
        return "Your call is important to us."

    pcm = join(clip("music_05.wav"), silence(0.4), clip("announcement_02.wav"), silence(0.4), clip("music_05.wav"))
    pred = predict(pcm, slow_stt)
    transcripts = [e for e in pred["events"] if e["type"] in ("transcript", "transcript_partial")]
    assert heard and len(transcripts) == len(heard)
    assert any(e["type"] == "transcript_partial" for e in transcripts)  # the announcement is long: partials too
    assert all(e["t_s"] >= e["at_s"] for e in transcripts)
    ready = [e["t_s"] for e in transcripts]
    assert ready == sorted(ready)  # one speech-to-text worker: each text waits for the one before it
    assert pred["stt_cpu_s"] > 0
    assert all(quick)  # all of it is hold speech: the quick decode, as a live call asks for
    assert not any(e["type"] == "human_detected" for e in pred["events"])


def test_without_speech_to_text_the_prediction_is_acoustics_only() -> None:
    pred = predict(join(clip("music_05.wav"), silence(0.4), clip("human_07.wav")))
    assert "stt_cpu_s" not in pred
    assert not any(e["type"] == "transcript" for e in pred["events"])


def test_a_frame_shift_keeps_event_times_on_the_files_clock() -> None:
    """A robustness run starts the call's frames partway into a frame: events stay where they are in the file."""
    pcm = join(clip("music_05.wav"), silence(0.4), clip("human_07.wav"), silence(1.0))
    item = Item("x", Path("x.wav"), "scenario", shift=80)
    shifted = perturb(pcm, item)
    assert shifted.size == pcm.size - 80
    plain = predict(pcm)["events"]
    moved = predict(shifted, start_s=item.shift / 8000)["events"]

    def first(events: list[dict[str, Any]], kind: str) -> float:
        return next(float(e["t_s"]) for e in events if e["type"] == kind)

    for kind in ("music", "hold_detected", "silence"):
        assert abs(first(moved, kind) - first(plain, kind)) <= 0.1  # frames cut elsewhere: a frame or two apart
    assert all(round(float(e["t_s"]) * 1000) % 20 == 10 for e in moved)  # each frame ends 10 ms later in the file


@pytest.mark.parametrize("shift_ms", ["-5", "20"])
def test_a_frame_shift_outside_one_frame_is_refused(shift_ms: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        detect_main(["--shift-ms", shift_ms])
    assert stop.value.code == 2
    assert "--shift-ms must be from 0 to under 20" in capsys.readouterr().err

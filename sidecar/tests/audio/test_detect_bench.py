"""The detect benchmark streams audio as a live call does, transcripts arriving late by their compute time."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.bench.corpus import predict

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

"""When the segmenter confirms speech from the VAD's probabilities, and that it does not depend on frame alignment."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.audio.speech import MIN_ON_FRAMES, MIN_SPEECH_S, SpeechSegmenter
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import clip, join, stream

FRAME_S = 0.02
RATE = 8000
FRAME = 160


def _onset(probs: list[float]) -> float | None:
    """Feed a voice-level frame per probability (then quiet); return the first confirmed onset, if any."""
    seg = SpeechSegmenter(RATE)
    voice = np.full(FRAME, 3000, np.int16)
    for k, prob in enumerate([*probs, *[0.0] * 30]):
        onset, _ = seg.process(voice if k < len(probs) else np.zeros(FRAME, np.int16), prob, (k + 1) * FRAME_S)
        if onset is not None:
            return onset
    return None


def test_a_voice_the_vad_scores_unsteadily_is_speech() -> None:
    """Silero's score on a short word swings around ON_PROB from one 32 ms window to the next.

    These are its scores on "Not yet." (dev corpus) with the call's frames starting 10 ms later than the file's:
    never 0.15 s above 0.5 in a row, so the word was not speech at all; with the file's own frame grid it was.
    """
    probs = [0.55, 0.55, 0.74, 0.74, 0.41, 0.51, 0.51, 0.45, 0.55, 0.55, 0.38, 0.30, 0.30]
    onset = _onset(probs)
    assert onset == pytest.approx(0.0, abs=1e-9)  # from the frame before the first one at ON_PROB


@pytest.mark.parametrize(
    "probs",
    [
        [0.45] * 30,  # never sure: music the VAD half believes
        [0.6] * (MIN_ON_FRAMES - 1) + [0.35] * 20,  # a blip of speech-like score, then doubt
        [0.6, 0.2] * 15,  # every other window falls below OFF_PROB: no run of speech
    ],
    ids=["never-on", "too-few-sure-frames", "broken-run"],
)
def test_doubtful_scores_are_not_speech(probs: list[float]) -> None:
    assert _onset(probs) is None


def test_a_steady_voice_is_confirmed_as_before() -> None:
    frames = round(MIN_SPEECH_S / FRAME_S) + 1
    assert _onset([0.9] * frames) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("shift", [0, 40, 80, 120])
def test_where_the_frames_fall_does_not_decide_whether_a_person_speaks(shift: int) -> None:
    """A live call's 20 ms frames fall anywhere on the audio: a short "Not yet." is speech at every alignment.

    With the frames 80 samples later, Silero's scores on it swing between 0.4 and 0.7 (above), and it used to be no
    speech segment at all, only a lone burst (whose words must be a greeting to count).
    """
    lead = clip("music_05.wav")
    pcm = join(lead, clip("not_yet_12.wav"))[shift:]
    segments = [o for o in stream(pcm) if o.kind == K.SPEECH_SEGMENT]
    assert len(segments) == 1 and not segments[0].data.get("lone")
    onset_s = float(segments[0].data["start_s"]) + shift / RATE  # on the file's clock
    word_s = lead.size / RATE + 0.735  # where "Not" begins; the VAD calls it speech 0.2-0.25 s in at every alignment
    assert word_s <= onset_s <= word_s + 0.3

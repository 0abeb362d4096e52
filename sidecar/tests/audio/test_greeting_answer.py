"""A probe said in the menus after a greeting: speech right after it, in a person's words, is a person."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hold_slayer_sidecar.audio import judge as judge_module
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.types import AudioFrame, Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import FRAME, RATE, clip, first, join, kinds, silence

Pcm = npt.NDArray[np.int16]
GREETING = "Hi, this is Sam."


def call(
    gap_s: float,
    answer_words: str,
    *,
    probe: bool = True,
    late_s: float = 0.0,
    more: bool = False,
    then_words: str | None = None,
) -> list[Observation]:
    """Ringback is over: a greeting, 2 s of quiet, our probe (noted at its end), ``gap_s`` of quiet, an answer.

    ``late_s``: the probe's end is noted this much later (speech that began while we still spoke). ``more``: the
    answer goes on after a short pause, in ``then_words`` (default: ``answer_words`` again).
    """
    greeting = join(silence(0.5), clip("human_07.wav"), silence(2.0))
    probe_s = greeting.size / RATE + late_s
    # Talks on in other words than the greeting (the same audio again would replay what was said before).
    tail = (
        join(silence(0.3, seed=3), clip("announcement_04_humanvoice.wav")[: int(2.95 * RATE)])
        if more
        else np.zeros(0, np.int16)
    )
    pcm = join(greeting, silence(gap_s, seed=1), clip("not_yet_12.wav"), tail, silence(2.0, seed=2))
    answer_from_s = greeting.size / RATE + gap_s
    det = HoldDetector(RATE)
    out: list[Observation] = []
    noted = not probe
    for k in range(pcm.size // FRAME):
        t = (k + 1) * FRAME / RATE
        if not noted and t >= probe_s:
            det.note_probe_sent(t)
            noted = True
        for o in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
            out.append(o)
            if o.kind is K.SPEECH_SEGMENT:
                start_s = float(o.data["start_s"])
                words = answer_words if start_s >= answer_from_s - 0.3 else GREETING
                if then_words is not None and start_s >= answer_from_s + clip("not_yet_12.wav").size / RATE:
                    words = then_words
                if float(o.data["end_s"]) - float(o.data["start_s"]) < 0.3:
                    words = ""  # a breath before the words: speech-to-text hears nothing in it
                out.extend(det.note_transcript(words, o.t_s))
    return out


@pytest.mark.parametrize("words", ["Yes, hello?", "Hi, can you hear me?", "Hello, this is Sam, how can I help?"])
def test_an_answer_in_a_persons_words_is_a_person(words: str) -> None:
    obs = call(0.6, words)
    human = first(obs, K.HUMAN_DETECTED)
    assert human is not None and "answered our hello" in human.data["reason"]


def test_other_words_then_a_pause_are_a_person() -> None:
    """A short answer in words that are neither a person's nor the company's, then the speaker waits."""
    human = first(call(0.6, "Let me pull that up for you."), K.HUMAN_DETECTED)
    assert human is not None and "then waited" in human.data["reason"]


def test_an_answer_in_two_breath_groups_is_a_person_by_its_second_words() -> None:
    """ "I am here." (neither kind), a short pause, then "How can I help you?": the person talks on, and is one."""
    human = first(call(0.6, "I am here.", more=True, then_words="How can I help you?"), K.HUMAN_DETECTED)
    assert human is not None and "answered our hello" in human.data["reason"]


def test_an_answer_that_goes_on_in_the_companys_words_is_not_a_person() -> None:
    obs = call(0.6, "I am here.", more=True, then_words="For billing, press 1. For support, press 2.")
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_speech_too_soon_after_the_probe_uses_up_its_answer() -> None:
    """A menu that starts right after our "Hello?" (its welcome merely paused): its next breath group, in words that
    lost their "press 2", is no answer either, however it waits after it."""
    obs = call(0.15, "For the following.", more=True, then_words="In the pharmacy.")
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_other_words_that_go_on_are_not_a_person() -> None:
    """The same words followed by more speech (a message going on after its pause) decide nothing."""
    obs = call(0.6, "Let me pull that up for you.", more=True)
    assert K.HUMAN_DETECTED not in kinds(obs)


@pytest.mark.parametrize(
    "words",
    [
        "Please listen carefully, as our menu options have changed.",  # the welcome merely paused
        "Sorry, I didn't get that. You can say billing or support.",  # a speech menu took our hello as its answer
        "For billing, press 1.",
    ],
)
def test_the_company_going_on_is_not_an_answer(words: str) -> None:
    assert K.HUMAN_DETECTED not in kinds(call(0.6, words))


def test_an_answer_with_no_words_then_a_pause_is_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speech-to-text found no words in the answer (an accent, a lossy line): its timing and the pause decide."""
    monkeypatch.setattr(judge_module, "SECOND_PROBE_FOR_WORDLESS", False)
    human = first(call(0.6, ""), K.HUMAN_DETECTED)
    assert human is not None and "then waited" in human.data["reason"]


def twice(second_answer: bool) -> list[Observation]:
    """A greeting, our probe, a wordless answer and quiet; our second probe, then a wordless answer or nothing."""
    det = HoldDetector(RATE)
    out: list[Observation] = []
    t = 0.0

    def feed(pcm: Pcm, *, probe_at_start: bool = False) -> None:
        nonlocal t
        if probe_at_start:
            det.note_probe_sent(t)
        for k in range(pcm.size // FRAME):
            t = round(t + FRAME / RATE, 6)
            for o in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
                out.append(o)
                if o.kind is K.SPEECH_SEGMENT:
                    words = GREETING if float(o.data["start_s"]) < 3.0 else ""
                    out.extend(det.note_transcript(words, o.t_s))

    feed(join(silence(0.5), clip("human_07.wav"), silence(2.0)))
    feed(join(silence(0.6, seed=1), clip("not_yet_12.wav"), silence(2.0, seed=2)), probe_at_start=True)
    assert any(o.data.get("again") for o in out if o.kind is K.HUMAN_UNCERTAIN)
    new = clip("announcement_04_humanvoice.wav")[: 2 * RATE]  # not a replay of what was said before
    second = join(silence(0.6, seed=4), new) if second_answer else np.zeros(0, np.int16)
    feed(join(second, silence(6.0, seed=5)), probe_at_start=True)
    return out


@pytest.mark.parametrize("second_answer", [True, False])
def test_with_the_second_probe_on_a_wordless_answer_is_settled_by_a_second_hello(
    second_answer: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(judge_module, "SECOND_PROBE_FOR_WORDLESS", True)
    human = first(twice(second_answer=second_answer), K.HUMAN_DETECTED)
    assert (human is not None and "answered our hello twice" in human.data["reason"]) is second_answer


def test_an_answer_with_no_words_that_goes_on_is_not_a_person() -> None:
    assert K.HUMAN_DETECTED not in kinds(call(0.6, "", more=True))


def test_an_answer_with_no_words_is_not_a_person_without_a_probe_or_out_of_its_window() -> None:
    assert K.HUMAN_DETECTED not in kinds(call(0.6, "", probe=False))
    assert K.HUMAN_DETECTED not in kinds(call(4.0, ""))


def replayed_answer(answer: Pcm) -> list[Observation]:
    """The company said a line, then a greeting; our probe; then ``answer`` in garbled words, then quiet."""
    said_before = join(silence(0.5), clip("ivr_prompt_00.wav"), silence(2.0, seed=6))
    greeting = join(clip("human_07.wav"), silence(2.0))
    probe_s = (said_before.size + greeting.size) / RATE
    pcm = join(said_before, greeting, silence(0.6, seed=1), answer, silence(3.0, seed=2))
    det = HoldDetector(RATE)
    out: list[Observation] = []
    for k in range(pcm.size // FRAME):
        t = (k + 1) * FRAME / RATE
        if abs(t - probe_s) < FRAME / RATE / 2:
            det.note_probe_sent(t)
        for o in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
            out.append(o)
            if o.kind is K.SPEECH_SEGMENT:
                start_s = float(o.data["start_s"])
                words = "I remember we can vacuum." if start_s > probe_s else GREETING if start_s > 2.5 else ""
                out.extend(det.note_transcript(words, o.t_s))
    return out


def test_an_answer_that_replays_what_the_company_said_before_is_its_recording() -> None:
    """A queue line said again 1.3 s after our "Hello?" (issue #22's heldout5), garbled, then quiet: no person."""
    obs = replayed_answer(clip("ivr_prompt_00.wav")[: 2 * RATE])
    assert K.HUMAN_DETECTED not in kinds(obs)
    replay = [o for o in obs if o.data.get("reason") == "the answer replays the company's words"]
    assert replay and replay[0].data["corr"] >= 0.62


def test_a_new_answer_after_the_company_spoke_is_still_judged_by_its_timing() -> None:
    obs = replayed_answer(clip("announcement_04_humanvoice.wav")[: 2 * RATE])
    assert not any(o.data.get("reason") == "the answer replays the company's words" for o in obs)


def test_an_answer_whose_second_breath_group_replays_the_company_is_its_recording() -> None:
    """ "Thank you." (too short to test), then words the company said before: the answer is the company's."""
    obs = replayed_answer(
        join(clip("human_07.wav")[: int(0.4 * RATE)], silence(0.3, seed=8), clip("ivr_prompt_00.wav"))
    )
    assert K.HUMAN_DETECTED not in kinds(obs)
    assert any(o.data.get("reason") == "the answer replays the company's words" for o in obs)

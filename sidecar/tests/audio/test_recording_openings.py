"""Recordings that open like a person ("Hi there!") over a hold bed, or right after our probe, never ring the user."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.judge import HumanJudge, Scene
from hold_slayer_sidecar.audio.speech import SpeechSegment
from hold_slayer_sidecar.audio.types import AudioFrame, Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import FRAME, RATE, clip, first, join, kinds, silence, stream_answering
from .test_turn_taking import known_hold

Pcm = npt.NDArray[np.int16]


def bed(seconds: float, under: Pcm | None = None, duck_db: float = -14.0) -> Pcm:
    """Hold music lowered ``duck_db`` under a voice's level (broadcast ducking); ``under`` is that voice, if any."""
    music = clip("music_05.wav").astype(np.float64)
    n = int(seconds * RATE) if under is None else under.size
    out = np.resize(music, n)
    voice = clip("human_07.wav").astype(np.float64) if under is None else under.astype(np.float64)
    out *= 10 ** (duck_db / 20) * np.sqrt(np.mean(voice**2)) / np.sqrt(np.mean(music**2))
    if under is not None:
        out += under
    return np.clip(out, -32767, 32767).astype(np.int16)


def hear_words(det: HoldDetector, pcm: Pcm, words: list[str], after_s: float) -> list[Observation]:
    """Stream audio; the speech segments that start after ``after_s`` are transcribed as ``words``, in turn."""
    left = list(words)

    def answer(o: Observation) -> list[Observation]:
        if o.kind is K.SPEECH_SEGMENT and float(o.data["start_s"]) >= after_s and left:
            return det.note_transcript(left.pop(0), o.t_s)
        return []

    return stream_answering(pcm, det, answer)


# ----------------------------------------------------------------------- a bare greeting needs the wait after it


def test_a_bare_greeting_over_a_ducked_bed_that_plays_on_is_not_a_person() -> None:
    """An announcement's "Hi there!" over lowered music: the bed plays on after the words, so nobody is waiting."""
    lead = clip("music_05.wav")
    pcm = join(lead, bed(0.5), bed(0, clip("human_07.wav")), bed(3.0))
    obs = hear_words(HoldDetector(RATE), pcm, ["Hi there!"] * 2, lead.size / RATE)
    assert K.HOLD_STARTED in kinds(obs)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_a_short_turn_over_a_ducked_bed_in_a_known_hold_is_not_a_person() -> None:
    """ "Hello, thanks for holding." then a pause in which the lowered music plays on: the turn-taking rule waits
    for quiet, and a bed is not quiet."""
    lead = known_hold()
    pcm = join(lead, bed(0.5), bed(0, clip("human_07.wav")), bed(3.0))
    obs = hear_words(HoldDetector(RATE), pcm, ["Hello, thanks for holding."] * 2, lead.size / RATE)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_a_bare_greeting_then_quiet_is_a_person_once_they_wait() -> None:
    lead = clip("music_05.wav")
    pcm = join(lead, silence(0.5), clip("human_07.wav"), silence(2.0))
    obs = hear_words(HoldDetector(RATE), pcm, ["Yes?", "Joe?"], lead.size / RATE)  # one greeting in two breaths
    human = first(obs, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"].startswith("greeted, then waited in quiet")
    segment = next(o for o in obs if o.kind is K.SPEECH_SEGMENT and float(o.data["start_s"]) >= lead.size / RATE)
    assert human.t_s >= float(segment.data["end_s"]) + 0.8 - 1e-6  # not on the words alone


def test_a_greeting_that_goes_on_into_more_words_is_not_decided_by_its_greeting() -> None:
    """ "Hello!" then, after a breath, more of the message: the greeting was not followed by a wait."""
    lead = clip("music_05.wav")
    pcm = join(lead, silence(0.5), clip("human_07.wav"), silence(0.4), clip("announcement_04_humanvoice.wav"))
    det = HoldDetector(RATE)
    first_end = (lead.size + int(0.5 * RATE) + clip("human_07.wav").size) / RATE

    def answer(o: Observation) -> list[Observation]:
        if o.kind is K.SPEECH_SEGMENT and float(o.data["start_s"]) >= lead.size / RATE:
            return det.note_transcript("Hello!" if float(o.data["end_s"]) <= first_end + 0.2 else "", o.t_s)
        return []

    obs = stream_answering(join(pcm, silence(0.3)), det, answer)
    assert K.HUMAN_DETECTED not in kinds(obs)


# ------------------------------------------------------------ a probe's answer comes on a line the music has left


def probe_call(gap: Pcm, answer: Pcm, words: str, *, transcript_at_end: bool = True) -> list[Observation]:
    """In the menus: a greeting, 2 s of quiet, our probe, ``gap`` (what the line carries), an answer, 3 s of quiet.

    ``transcript_at_end``: the answer's words come for its whole segment; else only for its first half second (a
    partial cut while it went on) and the rest never arrives.
    """
    greeting = join(silence(0.5), clip("human_07.wav"), silence(2.0))
    probe_s = greeting.size / RATE
    answer_from_s = probe_s + gap.size / RATE
    pcm = join(greeting, gap, answer, silence(3.0, seed=2))
    det = HoldDetector(RATE)
    out: list[Observation] = []
    probed = cut = False
    for k in range(pcm.size // FRAME):
        t = (k + 1) * FRAME / RATE
        if not probed and t >= probe_s:
            det.note_probe_sent(t)
            probed = True
        for o in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
            out.append(o)
            if o.kind is K.SPEECH_SEGMENT:
                late = float(o.data["start_s"]) >= answer_from_s - 0.3
                if not late:
                    out.extend(det.note_transcript("Hi, this is Sam.", o.t_s))
                elif transcript_at_end:
                    out.extend(det.note_transcript(words, o.t_s))
        if not transcript_at_end and not cut and t >= answer_from_s + 0.6:
            cut = True
            out.extend(det.note_transcript(words, t))
    return out


def test_an_answer_after_quiet_following_the_probe_is_a_person() -> None:
    human = first(probe_call(silence(0.6, seed=1), clip("not_yet_12.wav"), "Let me check."), K.HUMAN_DETECTED)
    assert human is not None and "answered our hello" in human.data["reason"]


def _line(t_s: float, *, bed: bool = False, speaking: bool = False) -> Scene:
    """One frame of the line: a person's speech, a music bed (music detector on), or quiet at the floor."""
    return Scene(
        t_s,
        music=bed,
        quiet=not (bed or speaking),
        tone=False,
        speaking=speaking,
        level_db=60.0 if speaking else 45.0 if bed else 21.0,
        floor_db=20.0,
        bands=np.zeros(8),
        sounding=bed,
    )


def _menu_probe(gap_bed: bool, words: str, *, words_at_end: bool = True) -> list[Observation]:
    """In the menus: our probe at 10 s, 1 s of bed or quiet, 1 s of speech (its words end at 12 s), 3 s of quiet.

    ``words_at_end``: the answer's words are for its whole segment; else cut 0.5 s into it and the rest never come.
    """
    judge = HumanJudge()
    judge.note_probe_sent(10.0)
    out: list[Observation] = []
    for k in range(1, 251):
        t = 10.0 + k * 0.02
        speaking = 11.0 < t <= 12.0 + 1e-9
        onset = 11.0 if abs(t - 11.02) < 1e-6 else None
        # The segment closes after the segmenter's 0.3 s hangover, its speech having ended at 12 s.
        segment = SpeechSegment(11.0, 12.0, np.zeros(8000, np.int16), 0.9) if abs(t - 12.3) < 1e-6 else None
        scene = _line(t, bed=gap_bed and t <= 11.0, speaking=speaking or 12.0 < t < 12.3 - 1e-6)
        out += judge.step(scene, onset, segment, [])
        if not words_at_end and abs(t - 11.5) < 1e-6:
            out += judge.note_transcript(words, t)
        if words_at_end and abs(t - 12.0) < 1e-6:
            out += judge.note_transcript(words, t)
    return out


def test_speech_after_quiet_that_followed_the_probe_answers_it() -> None:
    human = first(_menu_probe(False, "Let me check."), K.HUMAN_DETECTED)
    assert human is not None and "answered our hello" in human.data["reason"]


def test_speech_over_a_bed_that_played_on_through_the_probe_is_no_answer() -> None:
    """The music never stopped between our "Hello?" and the speech: nothing switched the call to a person."""
    assert K.HUMAN_DETECTED not in kinds(_menu_probe(True, "Let me check."))


def test_a_wordless_judgement_waits_for_the_words_of_the_whole_answer() -> None:
    """Only the first words of the answer are in ("Your call is"); the rest is still on its way: no decision."""
    judge_out = _menu_probe(False, "Your call is", words_at_end=False)
    assert K.HUMAN_DETECTED not in kinds(judge_out)


def test_queue_wording_in_the_answer_vetoes_it() -> None:
    obs = probe_call(silence(0.6, seed=1), clip("not_yet_12.wav"), "Your call is in a queue. Thank you for waiting.")
    assert K.HUMAN_DETECTED not in kinds(obs)

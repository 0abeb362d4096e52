"""Partial transcripts: the words of a possible person's turn while it goes on (judge.PARTIAL_FIRST_S)."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.audio.content import classify_text
from hold_slayer_sidecar.audio.detector import (
    MENU_PARTIAL_EVERY_S,
    MENU_PARTIAL_FIRST_S,
    MENU_PARTIAL_MAX,
    HoldDetector,
)
from hold_slayer_sidecar.audio.judge import PARTIAL_FIRST_S, PARTIAL_MAX, PAUSE_PARTIAL_S, TURN_WAIT_S
from hold_slayer_sidecar.audio.types import Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import RATE, clip, first, join, silence, stream, stream_answering
from .test_turn_taking import known_hold


def _hold_then(speech_clip: str) -> tuple[HoldDetector, list, float]:  # type: ignore[type-arg]
    """Music (the hold), then a voice; return the detector, its observations and when the voice began."""
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    obs = stream(join(lead, clip(speech_clip)), det)
    return det, obs, lead.size / RATE


def _speaking_partial(obs: list[Observation]) -> Observation:
    """The first partial cut while a word was being voiced."""
    return next(o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["cut"] == "speaking")


def test_a_long_turn_in_the_hold_hands_out_growing_partials() -> None:
    _, obs, onset_s = _hold_then("announcement_04_humanvoice.wav")
    partials = [o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["cut"] == "speaking"]
    assert 1 <= len(partials) <= PARTIAL_MAX
    assert partials[0].t_s >= onset_s + PARTIAL_FIRST_S  # a second of speech first: fewer words say nothing
    sizes = [p.audio.size for p in partials if p.audio is not None]
    assert len(sizes) == len(partials) and sizes == sorted(sizes) and sizes[0] >= PARTIAL_FIRST_S * RATE


def test_ivr_speech_gets_no_partials_for_the_judge() -> None:
    obs = stream(join(silence(0.5), clip("ivr_prompt_00.wav"), silence(1.0)))
    assert not [o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["context"] != "menu"]


def test_menu_speech_gets_a_partial_each_second_from_its_first_for_the_call() -> None:
    """The call reads a menu segment while it goes on, for a person's long opening (calls/greeting.py)."""
    obs = stream(join(silence(0.5), clip("ivr_prompt_00.wav"), silence(1.0)))
    menu = [o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["context"] == "menu"]
    segments = [o for o in obs if o.kind is K.SPEECH_SEGMENT]
    assert menu and segments
    for seg in segments:
        start, end = float(seg.data["start_s"]), float(seg.data["end_s"])
        mine = [o for o in menu if o.data["start_s"] == pytest.approx(start)]
        assert len(mine) <= MENU_PARTIAL_MAX
        assert all(o.t_s <= end + 0.5 for o in mine)  # no partial once the segment is over (its hangover aside)
        assert all(o.audio is not None and o.audio.size >= (MENU_PARTIAL_FIRST_S - 0.05) * RATE for o in mine)
        times = [o.t_s - start for o in mine]
        expected = [MENU_PARTIAL_FIRST_S + i * MENU_PARTIAL_EVERY_S for i in range(len(times))]
        assert times == pytest.approx(expected, abs=0.03)
    long = max(segments, key=lambda o: float(o.data["end_s"]) - float(o.data["start_s"]))
    spoken = float(long.data["end_s"]) - float(long.data["start_s"])
    due = int((spoken - MENU_PARTIAL_FIRST_S) / MENU_PARTIAL_EVERY_S) + 1
    assert len([o for o in menu if o.data["start_s"] == pytest.approx(float(long.data["start_s"]))]) >= due >= 1


def test_no_menu_partials_once_the_call_is_in_the_queue() -> None:
    _, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    assert not [o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["context"] == "menu" and o.t_s > 8.0]


def test_a_name_while_speaking_is_a_person() -> None:
    det, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    partial = _speaking_partial(obs)
    extra = det.note_transcript("Thanks for holding, this is Dana.", partial.t_s, partial=True)
    human = first(extra, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"].startswith("agent's words while speaking")


def test_a_greeting_alone_or_a_company_name_while_speaking_is_not_enough() -> None:
    det, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    partial = _speaking_partial(obs)
    for text in ("Hello, this is", "Hi there.", "This is Northwind Bank.", "Yes."):
        assert det.note_transcript(text, partial.t_s, partial=True) == []


def test_hold_wording_in_a_partial_marks_the_turn_a_recording() -> None:
    """Once a partial reads like a hold message, the turn's later words cannot make it a person."""
    det, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    partial = _speaking_partial(obs)
    extra = det.note_transcript("Your call is important to us.", partial.t_s, partial=True)
    assert [o.kind for o in extra] == [K.ANNOUNCEMENT]
    assert det.note_transcript("How can I help you?", partial.t_s + 0.5, partial=True) == []


def test_a_partial_of_an_earlier_turn_is_ignored() -> None:
    det, _, onset_s = _hold_then("announcement_04_humanvoice.wav")
    assert det.note_transcript("This is Dana.", onset_s - 2.0, partial=True) == []


def test_partial_wording_rules() -> None:
    assert classify_text("Hello, this is Kim.", partial=True) == "agent"
    assert classify_text("this is Dana from billing", partial=True) == "agent"
    assert classify_text("how can I help", partial=True) == "agent"
    assert classify_text("Hello?", partial=True) == "unknown"  # needs the pause after it
    assert classify_text("Hello?") == "agent"
    assert classify_text("This is Acme Insurance.", partial=True) == "unknown"
    assert classify_text("This is Dana. Your call is important to us.", partial=True) == "recording"


# ---------------------------------------------------------------- partials cut in a pause (judge.PAUSE_PARTIAL_S)


def _answer_after_known_hold(words: dict[str, str]) -> tuple[list[Observation], Observation]:
    """Stream a known hold, then a short answer; a partial's text (by its cut) is given back at once.

    Returns every observation and the answer's speech segment.
    """
    det = HoldDetector(RATE)
    lead = known_hold()

    def answer(o: Observation) -> list[Observation]:
        if o.kind is K.SPEECH_PARTIAL and o.t_s > lead.size / RATE and o.data["cut"] in words:
            return det.note_transcript(words[o.data["cut"]], o.t_s, partial=True)
        return []

    out = stream_answering(join(lead, clip("human_07.wav"), silence(2.0)), det, answer)
    segment = next(o for o in out if o.kind is K.SPEECH_SEGMENT and float(o.data["start_s"]) > lead.size / RATE)
    return out, segment


def test_a_short_answer_is_handed_out_in_its_pause_before_its_segment_ends() -> None:
    obs, segment = _answer_after_known_hold({})
    pauses = [o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["cut"] == "pause"]
    assert pauses, "a short answer's words go to speech-to-text as soon as the speaker pauses"
    last = [p for p in pauses if p.t_s <= segment.t_s + 0.3][-1]
    # Cut after the last voiced frame (all the words are in), before the segmenter's hangover ends the segment.
    assert segment.data["end_s"] + PAUSE_PARTIAL_S - 1e-6 <= last.t_s < segment.t_s + 0.3
    assert last.audio is not None and last.audio.size >= (segment.data["end_s"] - segment.data["start_s"]) * RATE


def test_pause_words_are_judged_whole_when_the_segment_ends_there() -> None:
    """'Yes?' heard in the pause is a bare greeting once that pause ends the segment: no wait for its transcript.

    A bare greeting is a person's only once they wait after it (an announcement opens with "Hi there!" too).
    """
    obs, segment = _answer_after_known_hold({"pause": "Yes?"})
    human = first(obs, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"].startswith("greeted, then waited in quiet: 'Yes?'")
    assert human.t_s >= float(segment.data["end_s"]) + TURN_WAIT_S - 1e-6  # the wait after the words decides


def test_a_pause_partial_arriving_after_the_segment_ended_is_its_transcript() -> None:
    det = HoldDetector(RATE)
    lead = known_hold()
    obs = stream(join(lead, clip("human_07.wav"), silence(0.5)), det)
    pause = [o for o in obs if o.kind is K.SPEECH_PARTIAL and o.data["cut"] == "pause" and o.t_s > lead.size / RATE]
    assert pause and first(obs, K.HUMAN_DETECTED) is None
    extra = det.note_transcript("Hello?", pause[-1].t_s, partial=True)
    assert first(extra, K.HUMAN_DETECTED) is None  # a bare greeting: the wait after it decides
    end_s = (lead.size + clip("human_07.wav").size) / RATE + 0.5
    human = first(stream(silence(1.0), det, start_s=end_s), K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"].startswith("greeted, then waited in quiet")


def test_a_greeting_heard_in_a_pause_inside_a_longer_turn_is_not_enough() -> None:
    """The pause was not the turn's end (the voice went on): 'Hello.' is then the start of a message."""
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    pcm = join(lead, clip("announcement_04_humanvoice.wav"), silence(1.0))
    given: list[Observation] = []

    def answer(o: Observation) -> list[Observation]:
        if o.kind is K.SPEECH_PARTIAL and o.data["cut"] == "pause" and not given:
            given.append(o)
            return det.note_transcript("Hello.", o.t_s, partial=True)
        return []

    out = stream_answering(pcm, det, answer)
    assert given, "the message has a pause inside it"
    assert first(out, K.HUMAN_DETECTED) is None


def test_a_pause_partial_still_counts_when_the_next_words_have_begun() -> None:
    """The words cut in the pause after "Yes?" are in only once the next words have begun a turn: still its words.

    (A bare "Yes?" would need the wait after it, which the next words took away: an offer of help decides alone.)
    """
    lead = known_hold()
    det = HoldDetector(RATE)
    cut: list[Observation] = []
    decided: list[Observation] = []

    def answer(o: Observation) -> list[Observation]:
        if o.kind is K.SPEECH_PARTIAL and o.data["cut"] == "pause" and o.t_s > lead.size / RATE and not cut:
            cut.append(o)
        began = float(o.data.get("onset_s", o.data.get("start_s", -1.0)))
        if cut and not decided and began > cut[0].t_s:  # the next turn is under way
            decided.extend(det.note_transcript("Yes? How can I help?", cut[0].t_s, partial=True))
            return decided
        return []

    stream_answering(join(lead, clip("human_07.wav"), silence(2.0)), det, answer)
    human = first(decided, K.HUMAN_DETECTED)
    assert human is not None and float(human.data["onset_s"]) == float(cut[0].data["start_s"])


@pytest.mark.parametrize(("cut_before_end_s", "decided"), [(0.06, True), (0.3, False)])
def test_an_empty_segment_transcript_keeps_the_words_of_a_partial_cut_at_its_end(
    cut_before_end_s: float, decided: bool
) -> None:
    """Speech-to-text may hear nothing in the segment's wider clip where the partial cut at its end heard "Hello?".

    A partial cut well before the end may be missing words: the empty decode then decides nothing.
    """
    lead = known_hold()
    det = HoldDetector(RATE)
    pcm = join(lead, clip("human_07.wav"), silence(0.5))
    obs = stream(pcm, det)
    obs_end_s = pcm.size / RATE
    segment = [o for o in obs if o.kind is K.SPEECH_SEGMENT and o.t_s > lead.size / RATE][-1]
    end_s = float(segment.data["end_s"])
    assert det.note_transcript("Hello?", end_s - cut_before_end_s, partial=True) == []  # the turn may yet go on
    assert first(det.note_transcript("", end_s), K.HUMAN_DETECTED) is None  # a bare greeting: the wait decides
    human = first(stream(silence(1.0), det, start_s=obs_end_s), K.HUMAN_DETECTED)
    assert (human is not None and human.data["reason"].startswith("greeted, then waited in quiet")) is decided

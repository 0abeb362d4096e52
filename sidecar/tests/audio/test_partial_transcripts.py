"""Partial transcripts: the words of a possible person's turn while it goes on (judge.PARTIAL_FIRST_S)."""

from __future__ import annotations

from hold_slayer_sidecar.audio.content import classify_text
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.judge import PARTIAL_FIRST_S, PARTIAL_MAX
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import RATE, clip, first, join, kinds, silence, stream


def _hold_then(speech_clip: str) -> tuple[HoldDetector, list, float]:  # type: ignore[type-arg]
    """Music (the hold), then a voice; return the detector, its observations and when the voice began."""
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    obs = stream(join(lead, clip(speech_clip)), det)
    return det, obs, lead.size / RATE


def test_a_long_turn_in_the_hold_hands_out_growing_partials() -> None:
    _, obs, onset_s = _hold_then("announcement_04_humanvoice.wav")
    partials = [o for o in obs if o.kind is K.SPEECH_PARTIAL]
    assert 1 <= len(partials) <= PARTIAL_MAX
    assert partials[0].t_s >= onset_s + PARTIAL_FIRST_S  # a second of speech first: fewer words say nothing
    sizes = [p.audio.size for p in partials if p.audio is not None]
    assert len(sizes) == len(partials) and sizes == sorted(sizes) and sizes[0] >= PARTIAL_FIRST_S * RATE


def test_ivr_speech_gets_no_partials() -> None:
    obs = stream(join(silence(0.5), clip("ivr_prompt_00.wav"), silence(1.0)))
    assert K.SPEECH_PARTIAL not in kinds(obs)


def test_a_name_while_speaking_is_a_person() -> None:
    det, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    partial = first(obs, K.SPEECH_PARTIAL)
    assert partial is not None
    extra = det.note_transcript("Thanks for holding, this is Dana.", partial.t_s, partial=True)
    human = first(extra, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"].startswith("agent's words while speaking")


def test_a_greeting_alone_or_a_company_name_while_speaking_is_not_enough() -> None:
    det, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    partial = first(obs, K.SPEECH_PARTIAL)
    assert partial is not None
    for text in ("Hello, this is", "Hi there.", "This is Northwind Bank.", "Yes."):
        assert det.note_transcript(text, partial.t_s, partial=True) == []


def test_hold_wording_in_a_partial_marks_the_turn_a_recording() -> None:
    """Once a partial reads like a hold message, the turn's later words cannot make it a person."""
    det, obs, _ = _hold_then("announcement_04_humanvoice.wav")
    partial = first(obs, K.SPEECH_PARTIAL)
    assert partial is not None
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

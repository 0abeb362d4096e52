"""Closed-set correction of misheard menu labels: frames, candidates and the acceptance rule."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hold_slayer_sidecar.nav.relabel import LabelFrame, Relabeler, RelabelPlan, load_lexicon, split_label


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ("Press 1 for tremendous and damage cards.", LabelFrame("Press 1 ", "for", "tremendous and damage cards", ".")),
        ("Press 2. To get you to charge.", LabelFrame("Press 2. ", "to", "get you to charge", ".")),
        ("For this trip, shouldn't reveal.", LabelFrame("", "for", "this trip, shouldn't reveal", ".")),
        ("And speak with a noise.", LabelFrame("", "and", "speak with a noise", ".")),
        ("And for this trip, shouldn't reveal.", LabelFrame("And ", "for", "this trip, shouldn't reveal", ".")),
        (
            "To make a payment, say payment or press 1.",
            LabelFrame("", "to", "make a payment", ", say payment or press 1."),
        ),
        ("For billing, press 2.", LabelFrame("", "for", "billing", ", press 2.")),
    ],
)
def test_split_label_finds_the_label_and_keeps_the_frame(text: str, frame: LabelFrame) -> None:
    assert split_label(text) == frame


@pytest.mark.parametrize(
    "text",
    [
        "Press 4.",
        "Card services.",
        "Thank you for calling. Calls may be recorded for quality.",
        "I'll put them in your term.",
    ],
)
def test_split_label_leaves_sentences_without_a_label(text: str) -> None:
    assert split_label(text) is None


def test_fill_keeps_the_frame_and_the_phrase_intro() -> None:
    after = LabelFrame("Press 3 ", "to", "talk", ".")
    assert after.fill("to start, stop or move your service") == "Press 3 to start, stop or move your service."
    assert after.fill("for billing") == "Press 3 for billing."
    assert LabelFrame("Press 2. ", "to", "x", ".").fill("to dispute a charge") == "Press 2. To dispute a charge."
    assert (
        LabelFrame("", "for", "x", ", press 2.").fill("for prescription refills")
        == "For prescription refills, press 2."
    )


def _plan(*texts: str, strict: frozenset[int] = frozenset(), phrases: tuple[str, ...] = ()) -> RelabelPlan:
    frame = split_label(texts[0])
    assert frame is not None
    return RelabelPlan(frame, texts, phrases or ("",) * len(texts), strict)


def test_pick_takes_the_best_candidate_within_the_tolerance() -> None:
    relabeler = Relabeler([], tolerance=3.0)
    plan = _plan(
        "Press 1 for tremendous and damage cards.", "Press 1 for credit and debit cards.", "Press 1 for billing."
    )
    chosen = relabeler.pick(plan, [-9.7, -12.0, -30.0])
    assert chosen.text == "Press 1 for credit and debit cards." and chosen.changed
    assert chosen.margin == pytest.approx(-2.3)


def test_a_shorter_text_needs_a_word_bonus_to_win() -> None:
    relabeler = Relabeler([], tolerance=0.5, word_bonus=1.0)
    plan = _plan("For baggage fees and allowances.", "For baggage.")
    assert not relabeler.pick(plan, [-9.0, -7.0]).changed  # 2 nats likelier, but 3 words shorter
    assert relabeler.pick(plan, [-9.0, -4.0]).changed


def test_an_unsure_decode_gets_the_clear_favourite_as_a_second_hearing() -> None:
    relabeler = Relabeler([], tolerance=4.0, word_bonus=0.0, hint_below=0.7, hint_band=10.0)
    texts = ("For a trip, shouldn't reveal.", "For prescription refills.", "To make an appointment.", "For trips.")
    plan = _plan(*texts, phrases=("", "for prescription refills", "to make an appointment", "for trips"))
    hinted = relabeler.pick(plan, [-10.0, -18.0, -21.0, -25.0], confidence=0.35)
    assert hinted.hint and hinted.text == "For a trip, shouldn't reveal / prescription refills."
    assert not relabeler.pick(plan, [-10.0, -18.0, -21.0, -25.0], confidence=0.9).changed  # a sure decode stays
    assert not relabeler.pick(plan, [-10.0, -18.0, -18.1, -18.2], confidence=0.35).changed  # no clear favourite
    assert not relabeler.pick(plan, [-10.0, -25.0, -30.0, -30.0], confidence=0.35).changed  # too far from the audio
    again = _plan("Press 9 to hear the motion again.", "Press 9 for feedback.", phrases=("", "for feedback"))
    assert not relabeler.pick(again, [-5.0, -12.0], confidence=0.5).changed  # already a "repeat" option
    noise = _plan("And speak with a noise.", "To speak with a nurse.", phrases=("", "to speak with a nurse"))
    assert relabeler.pick(noise, [-5.0, -12.0], confidence=0.5).text == "To speak with a noise / speak with a nurse."


def test_pick_keeps_the_decoded_text_when_nothing_fits() -> None:
    relabeler = Relabeler([], tolerance=3.0)
    plan = _plan("Press 5 for pet insurance.", "Press 5 for billing.", "Press 5 for claims.")
    assert relabeler.pick(plan, [-6.0, -14.0, -20.0]).text == "Press 5 for pet insurance."
    # Candidates left unscored (budget spent) or a failed decoded score never replace the text.
    assert relabeler.pick(plan, [-6.0, None, None]).text == "Press 5 for pet insurance."
    assert relabeler.pick(plan, [None, -1.0, -1.0]).text == "Press 5 for pet insurance."


def test_the_callers_own_words_must_beat_the_decoded_text_outright() -> None:
    relabeler = Relabeler([], tolerance=3.0)
    plan = _plan("Press 2 for bad charges.", "Press 2 for your card was stolen.", strict=frozenset({1}))
    # Each text gets a bonus per word (1.0): -8 + 5 words = -3 for the decoded text.
    assert not relabeler.pick(plan, [-8.0, -11.0]).changed
    assert relabeler.pick(plan, [-8.0, -9.5]).text == "Press 2 for your card was stolen."


def test_plan_shortlists_lexicon_phrases_and_the_intent() -> None:
    relabeler = Relabeler(load_lexicon(), by_intent=4, by_meaning=4, by_sound=4)
    plan = relabeler.plan("Press 3 for more again and long.", "I have a question about my mortgage")
    assert plan is not None
    assert plan.texts[0] == "Press 3 for more again and long."
    assert "Press 3 for mortgages and loans." in plan.texts
    assert 2 < len(plan.texts) <= 1 + 12 + 2
    assert [plan.texts[i] for i in plan.strict] == [
        "Press 3 for you have a question about your mortgage.",
        "Press 3 to you have a question about your mortgage.",
    ]
    assert relabeler.plan("Press 4.", "billing") is None
    assert relabeler.plan("Press 1. To report a power outage.", "my power is out") is None  # already a known label


def test_correct_blocking_scores_with_the_given_scorer() -> None:
    relabeler = Relabeler(["for credit and debit cards", "for report fraud"], tolerance=2.0)

    def score(texts: Sequence[str]) -> list[float | None]:
        return [-10.0 if "debit" in t else -9.0 if "damage" in t else -40.0 for t in texts]

    result = relabeler.correct_blocking("Press 1 for credit and damage cards.", "my debit card", score)
    assert result.text == "Press 1 for credit and debit cards."
    assert result.scored == len(relabeler.plan("Press 1 for credit and damage cards.", "my debit card").texts)  # type: ignore[union-attr]


def test_lexicon_excludes_labels_on_request() -> None:
    full = load_lexicon()
    assert "for billing" in full and len(full) > 300
    ablated = load_lexicon(["billing", "Report fraud"])
    assert "for billing" not in ablated and "to report fraud" not in ablated
    assert "for billing questions" in ablated and "to report suspicious activity" in ablated

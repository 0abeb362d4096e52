"""Closed-set correction of misheard menu labels: frames, candidates and the acceptance rule."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hold_slayer_sidecar.nav.relabel import LabelFrame, Relabeled, Relabeler, RelabelPlan, load_lexicon, split_label


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
        "Press 3. For other questions, press 0.",  # two keys: a label running over the second would drop it
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


def test_pick_takes_the_best_candidate_within_the_tolerance_when_told_to_replace() -> None:
    relabeler = Relabeler([], tolerance=3.0)
    plan = _plan(
        "Press 1 for tremendous and damage cards.", "Press 1 for credit and debit cards.", "Press 1 for billing."
    )
    chosen = relabeler.pick(plan, [-9.7, -12.0, -30.0], replace=True)  # a span: fed as a second hearing anyway
    assert chosen.text == "Press 1 for credit and debit cards." and chosen.changed
    assert chosen.margin == pytest.approx(-2.3)


def test_a_known_label_replaces_the_heard_one_only_when_the_audio_clearly_prefers_it() -> None:
    relabeler = Relabeler([], tolerance=3.0, word_bonus=0.0, replace_above=1.0)
    texts = ("Press 1 for tremendous and damage cards.", "Press 1 for credit and debit cards.", "Press 1 for billing.")
    plan = _plan(*texts, phrases=("", "for credit and debit cards", "for billing"))
    # Within the tolerance, less likely than the decoded words: both are kept, the heard words first.
    kept = relabeler.pick(plan, [-9.7, -12.0, -30.0])
    assert kept.hint and kept.text == "Press 1 for tremendous and damage cards / credit and debit cards."
    # Likelier, but by less than a nat: still both.
    assert relabeler.pick(plan, [-9.7, -9.2, -30.0]).hint
    # At least a nat likelier than the recogniser's own words: the audio clearly says the known label.
    replaced = relabeler.pick(plan, [-9.7, -8.5, -30.0])
    assert replaced.text == "Press 1 for credit and debit cards." and not replaced.hint
    # Outside the tolerance: nothing.
    assert not relabeler.pick(plan, [-9.7, -13.0, -30.0]).changed


def test_a_lone_key_with_no_label_heard_takes_the_known_label_within_the_tolerance() -> None:
    relabeler = Relabeler([], tolerance=3.0, word_bonus=0.0)
    frame = LabelFrame("Press 2 ", "to", "", ".")
    plan = RelabelPlan(frame, ("Press 2.", "Press 2 to dispute a charge."), ("", "to dispute a charge"), frozenset())
    assert relabeler.pick(plan, [-6.0, -7.5]).text == "Press 2 to dispute a charge."


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


def test_a_rescoring_never_changes_what_an_option_is() -> None:
    relabeler = Relabeler([], tolerance=3.0)
    texts = ("Press 3 for good, I'm feeling remain.", "Press 3 to go back.", "Press 3 to speak to an agent.")
    plan = _plan(*texts, phrases=("", "to go back", "to speak to an agent"))
    # Far likelier than the decoded words, yet a department heard must not become plumbing or a person.
    assert not relabeler.pick(plan, [-20.0, -8.0, -9.0]).changed


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
    # 0.5 nat likelier with its bonus: not clearly, and the caller's own words never become a second hearing.
    assert not relabeler.pick(plan, [-8.0, -9.5]).changed
    assert relabeler.pick(plan, [-8.0, -8.5]).text == "Press 2 for your card was stolen."


def test_plan_shortlists_lexicon_phrases_and_the_intent() -> None:
    relabeler = Relabeler(load_lexicon(), by_intent=4, by_meaning=4, by_sound=4)
    plan = relabeler.plan("Press 3 for more again and long.", "I have a question about my mortgage")
    assert plan is not None
    assert plan.texts[0] == "Press 3 for more again and long."
    assert "Press 3 for mortgages and loans." in plan.texts
    assert 2 < len(plan.texts) <= 1 + 12 + 2
    strict = [plan.texts[i] for i in plan.strict]
    # The caller's own words, and lexicon labels drawn only for being close to them, must beat the decoded text.
    assert strict[-2:] == [
        "Press 3 for you have a question about your mortgage.",
        "Press 3 to you have a question about your mortgage.",
    ]
    assert all(plan.phrases[i] for i in sorted(plan.strict)[:-2])
    assert relabeler.plan("Press 4.", "billing") is None
    assert relabeler.plan("Press 1. To report a power outage.", "my power is out") is None  # already a known label


def test_correct_blocking_scores_with_the_given_scorer() -> None:
    relabeler = Relabeler(["for credit and debit cards", "for report fraud"], tolerance=2.0)

    def score(texts: Sequence[str]) -> list[float | None]:
        return [-10.0 if "debit" in t else -9.0 if "damage" in t else -40.0 for t in texts]

    result = relabeler.correct_blocking("Press 1 for credit and damage cards.", "my debit card", score, confidence=0.5)
    assert result.text == "Press 1 for credit and damage cards / credit and debit cards."  # within 2 nats: both
    assert result.scored == len(relabeler.plan("Press 1 for credit and damage cards.", "my debit card").texts)  # type: ignore[union-attr]


def test_lexicon_excludes_labels_on_request() -> None:
    full = load_lexicon()
    assert "for billing" in full and len(full) > 300
    ablated = load_lexicon(["billing", "Report fraud"])
    assert "for billing" not in ablated and "to report fraud" not in ablated
    assert "for billing questions" in ablated and "to report suspicious activity" in ablated


# --- labels cut in two by a pause (plan_span) ------------------------------------------------------------


def _span_relabeler() -> Relabeler:
    return Relabeler(load_lexicon(), by_intent=4, by_meaning=4, by_sound=4)


def test_a_keyed_label_continued_in_the_next_segment_is_rescored_whole() -> None:
    relabeler = _span_relabeler()
    span = relabeler.plan_span(["Press 3 to talk.", "I'll put a move your term is."], "I'm moving house", 0.5)
    assert span is not None and span.after_key and span.parts == 2
    assert span.plan.texts[0] == "Press 3 to talk. I'll put a move your term is."
    assert "Press 3 to move your service." in span.plan.texts
    # The call already has "Press 3 to talk.": it gets only the rest of the corrected label.
    chosen = Relabeled("Press 3 to start, stop or move your service.", span.plan.texts[0], True)
    assert span.feed(chosen) == "/ Start, stop or move your service."  # a second hearing of "talk"
    assert span.feed(Relabeled(span.plan.texts[0], span.plan.texts[0], False)) is None


def test_a_lone_key_takes_its_label_from_the_segments_before_it() -> None:
    relabeler = _span_relabeler()
    parts = ["Please hang up and dial in one.", "Check out the schedule.", "Get in, go cancel, and avoid intimate."]
    span = relabeler.plan_span([*parts, "Press 1."], "I need to book a checkup")
    assert span is not None and not span.after_key
    assert span.parts == 3  # the notice before the menu is too long to be part of the label
    assert span.plan.texts[0] == "Check out the schedule. Get in, go cancel, and avoid intimate. Press 1."
    assert "To make an appointment, press 1." in span.plan.texts
    chosen = Relabeled("To make an appointment, press 1.", span.plan.texts[0], True)
    # The key was not given to the call yet; the label's pieces were, so the correction is a second hearing.
    assert span.feed(chosen) == "/ To make an appointment, press 1."


def test_a_label_heard_right_before_its_lone_key_is_not_given_twice() -> None:
    span = _span_relabeler().plan_span(["For garden gnomes.", "Press 2."], "a flight to Paris")
    assert span is not None
    same = Relabeled("For garden gnomes, press 2.", span.plan.texts[0], True)
    assert span.feed(same) is None  # the call keeps "Press 2." after the label it already has


@pytest.mark.parametrize(
    "parts",
    [
        ["Press 3 to talk."],  # nothing before it
        ["press 1.", "To report a lost or stolen card.", "Press 2."],  # labels follow their keys here
        ["Press 2 for billing and payments.", "Please have your account ready."],  # a complete known label
        ["Press 3 to talk.", "For water service, press 4."],  # the next option, not a continuation
        ["Press 3 to talk.", "For water service."],  # a label of its own
        ["Press 3 to talk.", "Please note that our offices will be closed on Monday for the holiday."],  # too long
        ["For billing, press 1.", "Press 2."],  # the segment before the lone key has its own key
    ],
)
def test_plan_span_leaves_segments_that_are_not_one_label(parts: list[str]) -> None:
    assert _span_relabeler().plan_span(parts, "my bill", 0.75) is None  # unsure, not enough for a missing key


def test_a_decode_the_recogniser_was_sure_of_is_not_rescored() -> None:
    relabeler = _span_relabeler()
    assert relabeler.plan("Press 3 for more again and long.", "my mortgage", confidence=0.9) is None
    assert relabeler.plan("Press 3 for more again and long.", "my mortgage", confidence=0.5) is not None
    assert relabeler.plan_span(["Press 3 to talk.", "I'll put a move your term is."], "moving", 0.9) is None


def test_a_hint_or_an_unchanged_pick_feeds_nothing() -> None:
    span = _span_relabeler().plan_span(["Press 3 to talk.", "I'll put a move."], "moving", 0.5)
    assert span is not None
    hinted = Relabeled("Press 3 to talk / move your service.", span.plan.texts[0], True, hint=True)
    assert span.feed(hinted) is None


@pytest.mark.parametrize(
    ("before", "key"),
    [
        ("Press 1 to report a lost or stolen card.", "Press 2 "),
        ("press 1.", "Press 2. "),
        ("For lost cards, press 1.", ", press 2."),
    ],
)
def test_an_unsure_sentence_after_option_k_is_tried_as_option_k_plus_one(before: str, key: str) -> None:
    relabeler = _span_relabeler()
    misheard = "Let's do this new challenge for a trend action."
    assert relabeler.plan_span([before, misheard], "I was double charged") is None  # sure of its words: a notice
    span = relabeler.plan_span([before, misheard], "I was double charged", confidence=0.4)
    assert span is not None and span.parts == 1 and not span.after_key
    assert span.plan.texts[0] == misheard
    assert all(key in text for text in span.plan.texts[1:])
    assert any("dispute a charge" in text for text in span.plan.texts)


def test_a_lone_key_decoded_from_long_speech_is_rescored_with_labels_after_it() -> None:
    relabeler = _span_relabeler()
    assert relabeler.plan("Press 2.", "I was double charged", audio_s=0.7) is None  # just the key: nothing lost
    plan = relabeler.plan("Press 2.", "I was double charged", audio_s=2.6)
    assert plan is not None and plan.texts[0] == "Press 2."
    assert "Press 2 to dispute a charge." in plan.texts


def test_a_label_drawn_for_the_caller_s_intent_never_becomes_a_hint() -> None:
    relabeler = Relabeler([], tolerance=2.0, word_bonus=0.0, hint_below=0.7, hint_band=10.0)
    texts = ("For a little bit off.", "For orders.", "For appointments.")
    plan = _plan(*texts, strict=frozenset({1}), phrases=("", "for orders", "for appointments"))
    hinted = relabeler.pick(plan, [-10.0, -14.0, -25.0], confidence=0.3)
    assert "orders" not in hinted.text  # close to what the caller wants, not to what was heard


def test_a_hint_never_turns_a_department_into_a_person() -> None:
    # Real call (festival voice): "To speak with a pharmacist" heard "And speak with a photo message".
    relabeler = Relabeler([], tolerance=2.0, word_bonus=0.0, hint_below=0.7, hint_band=10.0)
    plan = _plan(
        "And speak with a photo message.",
        "To speak with a representative.",
        "For store hours.",
        phrases=("", "to speak with a representative", "for store hours"),
    )
    assert not relabeler.pick(plan, [-10.0, -13.0, -30.0], confidence=0.47).changed

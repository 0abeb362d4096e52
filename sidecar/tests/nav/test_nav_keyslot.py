"""Closed-set correction of misheard menu keys: where the slots are, and when the audio may change a key."""

from __future__ import annotations

import asyncio

import pytest
from hold_slayer_sidecar.nav.keyslot import (
    KEYS,
    KeySlot,
    KeyTuning,
    choose_key,
    correct_keys,
    correct_keys_async,
    find_slots,
    plan_texts,
    slots_to_check,
)
from hold_slayer_sidecar.nav.parser import parse_options


def _slots(text: str) -> list[tuple[str, str | None, bool]]:
    return [(text[s.start : s.end], s.heard, s.verb_heard) for s in find_slots(text)]


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("For billing, press 1.", [("press 1", "1", True)]),
        ("Press one for sales.", [("Press one", "1", True)]),
        ("To go back, press star.", [("press star", "star", True)]),
        ("Press pound to finish.", [("Press pound", "pound", True)]),
        ("Press R.", [("Press R", None, True)]),  # a key heard as a letter
        ("If you are calling about a wire transfer, press it.", [("press it", None, True)]),
        ("For claims, press for.", [("press for", None, True)]),  # "press 4" heard as "press for."
        ("Thanks one.", [("Thanks one", "1", False)]),  # a clipped "press" at a sentence's start
        ("For billing. Pressed 1 for sales.", [("Pressed 1", "1", False)]),
        ("For billing, Chris 2.", [("Chris 2", "2", False)]),
        ("Press 1 for sales. Press 2 for billing.", [("Press 1", "1", True), ("Press 2", "2", True)]),
    ],
)
def test_key_slots_are_found_where_a_menu_says_a_key(text: str, slots: list[tuple[str, str | None, bool]]) -> None:
    assert _slots(text) == slots


@pytest.mark.parametrize(
    "text",
    [
        "Press for billing questions.",  # "press for X" is English: the key comes later or not at all
        "Please press a key.",
        "Press and hold the button.",
        "Press here.",
        "Option 1.",  # "option 1" / "extension 5" name a number, not a misheard "press"
        "Our office opens at 8.",
        "Please wait 2 minutes.",
        "You are caller 3 in the queue.",
        "Thank you for calling.",
        "",
    ],
)
def test_sentences_without_a_key_slot_are_left_alone(text: str) -> None:
    assert find_slots(text) == []


def test_candidates_put_each_of_the_twelve_keys_in_the_slot_up_to_its_sentences_end() -> None:
    text = "For billing, thanks one. For claims, press 2."
    first, _second = find_slots(text)
    texts = plan_texts(text, first)
    # What follows the slot's sentence is the same in every candidate: it is not scored.
    assert texts[0] == "For billing, thanks one." and len(texts) == 1 + len(KEYS)
    assert texts[1:3] == ["For billing, press 1.", "For billing, press 2."]
    assert texts[-2:] == ["For billing, press star.", "For billing, press pound."]


def test_a_sure_decode_keeps_its_press_n_unscored_but_not_a_lost_key() -> None:
    text = "For billing, press 1. For claims, press R. Thanks 3."
    unsure = [text[s.start : s.end] for s in slots_to_check(text, 0.6)]
    assert unsure == ["press 1", "press R", "Thanks 3"]
    sure = [text[s.start : s.end] for s in slots_to_check(text, 0.9)]
    assert sure == ["press R", "Thanks 3"]  # a letter in a key's place or a misheard verb is checked anyway


def _scores(base: float, **by_key: float) -> list[float | None]:
    """Scores for plan_texts: the decoded text, then KEYS in order (keys not named get -40)."""
    named = {k.replace("k", ""): v for k, v in by_key.items()}
    return [base, *(named.get(k, -40.0) for k in KEYS)]


_HEARD_1 = KeySlot(0, 7, "Press", "1", verb_heard=True)


def test_the_heard_key_stands_unless_the_audio_clearly_prefers_another() -> None:
    near = choose_key(_HEARD_1, _scores(-10.0, k1=-10.0, k6=-8.5))  # 1.5 nats: a near tie keeps what was heard
    assert near.key == "1" and not near.changed
    clear = choose_key(_HEARD_1, _scores(-10.0, k1=-10.0, k6=-6.7))
    assert clear.key == "6" and clear.changed and clear.margin == pytest.approx(3.3)


def test_star_heard_as_zero_is_corrected() -> None:
    slot = KeySlot(12, 19, "press", "0", verb_heard=True)
    scores: list[float | None] = [-20.0, *(-30.0 for _ in KEYS)]
    scores[1 + KEYS.index("0")] = -20.0
    scores[1 + KEYS.index("star")] = -15.2
    choice = choose_key(slot, scores)
    assert choice.key == "star" and choice.changed


def test_a_slot_heard_as_no_key_takes_the_audios_favourite() -> None:
    slot = KeySlot(0, 7, "Press", None, verb_heard=True)
    assert choose_key(slot, _scores(-10.0, k4=-12.0, k1=-14.0)).key == "4"
    # A key far less likely than the decoded word (beyond fill_within) is refused: the word stays.
    refused = choose_key(slot, _scores(-10.0, k4=-25.0))
    assert refused.key is None and not refused.changed


def test_a_word_in_the_place_of_press_becomes_press_only_when_the_audio_takes_it() -> None:
    slot = KeySlot(0, 10, "Thanks", "1", verb_heard=False)
    taken = choose_key(slot, _scores(-12.0, k1=-12.5))
    assert taken.changed and taken.key == "1"
    refused = choose_key(slot, _scores(-12.0, k1=-16.0), KeyTuning(verb_within=1.0))
    assert not refused.changed and refused.key is None


@pytest.mark.parametrize(
    "scores",
    [
        [],
        [None] * 13,
        [-10.0] + [None] * 12,  # the budget ran out before any key was scored
        [-10.0, None, -5.0, *([None] * 10)],  # the heard key itself went unscored
    ],
)
def test_missing_scores_keep_the_heard_key(scores: list[float | None]) -> None:
    choice = choose_key(_HEARD_1, scores)
    assert choice.key == "1" and not choice.changed


def _scorer(best: dict[str, float]) -> object:
    def score(texts: list[str]) -> list[float | None]:
        return [best.get(t, -30.0) for t in texts]

    return score


def test_correct_keys_fixes_each_slot_and_the_parser_then_reads_the_option() -> None:
    text = "Press 1 for sales. Press R for billing."
    fits = {
        text: -20.0,
        "Press 1 for sales. Press 2 for billing.": -12.0,  # the second slot: "R" was a 2
        "Press 1 for sales. Press 4 for billing.": -15.0,
    }
    fixed_second = "Press 1 for sales. Press 2 for billing."
    fits[fixed_second] = -12.0
    out, choices = correct_keys(text, _scorer(fits))  # type: ignore[arg-type]
    assert out == fixed_second
    assert [c.key for c in choices] == ["1", "2"]
    assert [o.digit for o in parse_options(out)] == ["1", "2"]


def test_correct_keys_async_matches_the_blocking_form() -> None:
    text = "For billing, Thanks one."
    fits = {text: -11.0, "For billing, Press 1.": -11.2}

    async def score(texts: list[str]) -> list[float | None]:
        return [fits.get(t, -30.0) for t in texts]

    out, _ = asyncio.run(correct_keys_async(text, score))
    assert out == correct_keys(text, _scorer(fits))[0]  # type: ignore[arg-type]
    assert [o.digit for o in parse_options(out)] == ["1"]


@pytest.mark.parametrize(
    "text",
    [
        "press " * 400,
        "Press 1" * 300,
        "Press \u0661.",  # an Arabic-Indic digit: no key of a phone pad
        "press\x00 1",
        "Thanks one, thanks one, thanks one." * 50,
    ],
)
def test_hostile_transcripts_are_handled_without_error(text: str) -> None:
    out, choices = correct_keys(text, _scorer({}))  # type: ignore[arg-type]
    assert isinstance(out, str) and len(choices) == len(find_slots(text))

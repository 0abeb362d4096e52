"""Sound keys let a misheard label word still meet the caller's word (real tiny.en mishearings)."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.matcher import lexical_bonus
from hold_slayer_sidecar.nav.phonetic import sound_key, sound_keys, sounds_alike


@pytest.mark.parametrize(
    ("said", "heard"),
    [("refill", "reveal"), ("stolen", "stillin"), ("cancel", "council"), ("account", "count")],
)
def test_misheard_words_share_a_sound_key(said: str, heard: str) -> None:
    assert sound_key(said) == sound_key(heard)


@pytest.mark.parametrize(("a", "b"), [("refill", "billing"), ("charge", "card"), ("nurse", "service")])
def test_different_words_keep_different_keys(a: str, b: str) -> None:
    assert sound_key(a) != sound_key(b)


def test_short_skeletons_are_too_vague_to_count() -> None:
    assert sound_keys(["bill"]) == set()  # "pl" would match half the dictionary ("ball", "pool", "apple")


def test_neighbouring_words_may_sound_like_one_word() -> None:
    assert sound_key("stolen") in sound_keys(["still", "in"])


def test_a_sound_alike_word_earns_less_than_the_same_word() -> None:
    intent = "I need a refill of my blood pressure medication"
    same, alike, none = (lexical_bonus(intent, label) for label in ("prescription refill", "a trip reveal", "billing"))
    assert same > alike > none == 0.0


def test_two_long_words_joined_are_no_sound_alike() -> None:
    # Stemmed, "these options" joined has the skeleton of "dispute": only a short word may be a split-off piece.
    assert lexical_bonus("I want to dispute a transaction", "hear these options again") == 0.0


@pytest.mark.parametrize(
    ("heard", "meant", "alike"),
    [
        ("noise", "nurse", True),  # New York's coil-curl merger: the r is not said
        ("reveal", "refill", True),  # three consonants agree
        ("nurse", "nurse", False),  # the same word is a shared word, not a sound-alike
        ("noise", "nice", False),  # two consonants and no r lost: too little to go on
        ("bill", "ball", False),
        ("bags", "book", False),
    ],
)
def test_sounds_alike_allows_for_accents_without_matching_everything(heard: str, meant: str, alike: bool) -> None:
    assert sounds_alike(heard, meant) is alike

"""One table of key words (nav.keywords): the menu parser and the key-slot check read every word as the same key."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.keyslot import KEYS, find_slots
from hold_slayer_sidecar.nav.keywords import DIGIT_WORDS, SOUNDALIKES, SYMBOL_WORDS
from hold_slayer_sidecar.nav.parser import parse_options

WORDS = {**DIGIT_WORDS, **SOUNDALIKES, **SYMBOL_WORDS}
AS_KEYSLOT = {"*": "star", "#": "pound"}  # keyslot.KEYS spells the symbol keys as words


@pytest.mark.parametrize(("word", "key"), sorted(WORDS.items()))
def test_both_readers_take_a_key_word_as_its_key(word: str, key: str) -> None:
    other = "6" if key == "5" else "5"
    text = f"For billing, press {word}. For claims, press {other}."
    assert [option.digit for option in parse_options(text)] == [key, other]
    assert find_slots(text)[0].heard == AS_KEYSLOT.get(key, key)
    assert AS_KEYSLOT.get(key, key) in KEYS

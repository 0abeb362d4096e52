"""The words for phone keys, one table for everything that reads keys out of speech (nav.parser, nav.keyslot)."""

from __future__ import annotations

DIGIT_WORDS: dict[str, str] = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
# What a recogniser writes for a digit said on its own in a key's place: "press oh", "press won".
SOUNDALIKES: dict[str, str] = {"oh": "0", "won": "1"}
# The pad's two other keys by their spoken names (ITU-T E.161 calls them star and square; US menus say pound).
SYMBOL_WORDS: dict[str, str] = {"star": "*", "asterisk": "*", "pound": "#", "hash": "#"}

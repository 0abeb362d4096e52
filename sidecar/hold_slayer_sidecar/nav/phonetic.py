"""A crude sound key for English words, so a misheard label word still meets the caller's word.

Speech-to-text on telephone audio swaps similar sounds ("refill" -> "reveal", "stolen" -> "still in"). A key
that keeps only the consonant skeleton, with voiced and voiceless pairs merged (b/p, d/t, g/k, v/f, z/s),
survives most of those swaps while staying specific enough for words of three or more consonants.
"""

from __future__ import annotations

import re
from itertools import pairwise

# "J" stands for the affricates (ch, j, soft g), which STT confuses with each other but not with k or s.
_DIGRAPHS = (("ph", "f"), ("ck", "k"), ("sh", "s"), ("ch", "J"), ("th", "t"), ("gh", ""), ("qu", "k"), ("wr", "r"))
_SOFT = re.compile(r"c(?=[eiy])")  # "cancel": the second c sounds like s
_SOFT_G = re.compile(r"g(?=[eiy])")  # "charge", "damage": g before e/i/y sounds like j
_CLASSES = str.maketrans({"b": "p", "d": "t", "g": "k", "c": "k", "q": "k", "v": "f", "z": "s", "x": "s", "j": "J"})
_DROP = re.compile(r"[aeiouwhy']")
MIN_KEY = 3  # shorter skeletons ("bill" -> "pl") match too many unrelated words
_SHORT = 2  # letters of a word that may be a piece split off a longer word ("in", "on", "up")


def sound_key(text: str) -> str:
    """Consonant skeleton of ``text`` (spaces ignored): "refill" and "reveal" both give "rfl"."""
    word = re.sub(r"[^a-z']", "", text.lower())
    for pair, sound in _DIGRAPHS:
        word = word.replace(pair, sound)
    word = _SOFT_G.sub("J", _SOFT.sub("s", word))
    word = _DROP.sub("", word.translate(_CLASSES))
    return re.sub(r"(.)\1+", r"\1", word)


def sound_keys(words: list[str]) -> set[str]:
    """Keys of each word and of a word joined with a short neighbour ("still in" sounds like "stolen")."""
    keys = {sound_key(w) for w in words}
    # Only a short word may be a split-off piece of a longer one: two long words joined ("these options")
    # make skeletons that meet unrelated words ("dispute").
    keys |= {sound_key(a + b) for a, b in pairwise(words) if min(len(a), len(b)) <= _SHORT}
    return {k for k in keys if len(k) >= MIN_KEY}

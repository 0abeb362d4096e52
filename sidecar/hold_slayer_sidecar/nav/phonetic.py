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


# An r after a vowel is not pronounced in non-rhotic accents (much of England, New York, Boston): "nurse" is said
# close to "noise" in New York (the coil-curl merger), "card" like "cod". Dropping it lets such words meet.
_POSTVOCALIC_R = re.compile(r"(?<=[aeiouy])r+(?![aeiouy])")


def _rless_key(word: str) -> str:
    return sound_key(_POSTVOCALIC_R.sub("", word.lower()))


def sounds_alike(heard: str, meant: str) -> bool:
    """Tell whether a recognised word may be ``meant`` said in another accent or slightly misheard.

    Either both share a consonant skeleton of three or more ("reveal" / "refill"), or the skeletons agree once
    an unpronounced r is dropped ("noise" / "nurse"); two consonants are too few on their own, so the words must
    also start alike and one of them must have lost an r.
    """
    heard, meant = heard.lower(), meant.lower()
    if heard == meant or min(len(heard), len(meant)) < 4:
        return False
    key = sound_key(heard)
    if len(key) >= MIN_KEY and key == sound_key(meant):
        return True
    rless = _rless_key(heard)
    dropped = rless != key or _rless_key(meant) != sound_key(meant)
    return dropped and len(rless) >= 2 and rless == _rless_key(meant) and heard[0] == meant[0]

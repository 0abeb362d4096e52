"""Closed-set correction of misheard menu keys: the twelve keys of a phone pad, scored against the segment's audio.

A small recogniser hears "press 4" in an unfamiliar voice as "Press R." or "press for", and a clipped "press" as
"Thanks one." or "Pressed 1". A key is one of twelve things (0-9, star, pound), so unlike a label it can be
checked exhaustively: in each key slot of a decoded menu segment ("press N", or a word in the place of "press"
right before a number) we put each of the twelve keys, score every text against the audio (forced decoding,
``voice.api.TextScorer``), and keep the heard key unless the audio clearly prefers another. A slot whose key was
not heard as a key at all ("Press R.") takes the audio's favourite; a word heard in the place of "press" becomes
"Press" only when the audio supports it as well as what was decoded.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from .keywords import DIGIT_WORDS, SOUNDALIKES, SYMBOL_WORDS

# Each key as the recogniser writes it after "press" with the menu prompt (voice/stt.py IVR_PROMPT): digits as
# digits, star and pound as words. One spelling per key, so every candidate text differs from the others only there.
KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "star", "pound")
_KEY_NAMES = {"*": "star", "#": "pound"}  # KEYS spells the two symbol keys as words
_SPOKEN = {
    **DIGIT_WORDS,
    **SOUNDALIKES,
    **{word: _KEY_NAMES[key] for word, key in SYMBOL_WORDS.items()},
    **{str(d): str(d) for d in range(10)},
}
_NUMBER = "|".join(["[0-9]", *DIGIT_WORDS, *SOUNDALIKES])
_SYMBOL = "|".join(SYMBOL_WORDS)
_VERB = r"press|dial|push|select"
# Where a key's word ends: the end of a phrase, or the option's "for"/"to" after it ("Press 3 for claims").
_SLOT_END = r"(?=\s*(?:[.,;:!?]|$)|\s+(?:for|to|or|and)\b)"
# "Press 1", "press one", "press star" anywhere; "Press R." / "press for." only where a key's word ends: a short
# token in the key's place that is not a key ("press for billing" is English, "press for." is a misheard 4).
_KEYED = re.compile(
    rf"\b(?P<verb>{_VERB})\s+(?:(?P<key>{_NUMBER}|{_SYMBOL})(?![0-9])\b|(?P<odd>[a-z]{{1,5}}){_SLOT_END})",
    re.IGNORECASE,
)
# A sentence that starts with one word and a number, the number ending a phrase: "Thanks one." / "Pressed 1 for
# billing." / "And, Chris 2." The word is in the place of "press" (its onset clipped by the speech detector or
# misheard in an unfamiliar voice); the sentence shape says a key follows.
_VERBLESS = re.compile(
    rf"(?:^|(?<=[.!?;,]\s))(?:(?:and|or),?\s+)?(?P<verb>[a-z']{{2,9}}),?\s+(?P<key>{_NUMBER})(?![0-9]){_SLOT_END}",
    re.IGNORECASE,
)
# Words that legitimately stand before a number in a menu ("option 1", "extension 5", "at 8", "in 2 minutes"):
# with them the number is no key in a misheard "press".
_NOT_A_VERB_WORDS = """
    option options number extension ext at in of is are was be by about than from after before within until
    under over up to for and or the a an your our my its his her their only just all every each page step level
    line chapter room suite floor unit apartment gate terminal flight route bus train zone region district
    minute minutes hour hours day days week weeks month months year years am pm ward phase part section
    card cards digit digits item items menu menus queue caller callers you we they it there here"""
_NOT_A_VERB = frozenset(_NOT_A_VERB_WORDS.split())


# Words that follow "press" at a phrase's end in menus without being a key.
_PRESS_WORDS = frozenset({"here", "enter", "now", "send", "hard"})


@dataclass(frozen=True, slots=True)
class KeySlot:
    """One key slot of a decoded segment: ``text[start:end]`` is its verb and key ("Press R")."""

    start: int
    end: int
    verb: str  # as decoded ("Press", "Thanks")
    heard: str | None  # the key as heard (one of KEYS), None when the slot's word is no key ("R")
    verb_heard: bool  # the verb is a press-verb as decoded (else a word in its place)

    def fill(self, text: str, key: str) -> str:
        """Return ``text`` with this slot saying "press ``key``" (keeping the decoded verb when it was one)."""
        verb = self.verb if self.verb_heard else ("Press" if self.verb[:1].isupper() else "press")
        return f"{text[: self.start]}{verb} {key}{text[self.end :]}"


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """The outcome for one slot: the key taken, and the audio's evidence for it (nats over the heard text)."""

    slot: KeySlot
    key: str | None  # None: the slot's word stays as decoded (no key was heard and the audio named none)
    margin: float  # best candidate's score minus the heard text's score
    changed: bool


class Scorer(Protocol):
    """Scores texts against one segment's audio (blocking), higher fits better; None where a budget ran out."""

    def __call__(self, texts: list[str]) -> list[float | None]:
        """Log-probability of each text."""
        ...


def find_slots(text: str) -> list[KeySlot]:
    """Key slots of a decoded segment, left to right (at most one per position)."""
    slots: list[KeySlot] = []
    taken: list[tuple[int, int]] = []
    for match in _KEYED.finditer(text):
        key = match.group("key")
        heard = _SPOKEN.get(key.lower()) if key else None
        if match.group("odd") is not None and match.group("odd").lower() in _PRESS_WORDS:
            continue  # "press here." / "press enter.": words that do follow "press" in a menu
        slots.append(KeySlot(match.start(), match.end(), match.group("verb"), heard, verb_heard=True))
        taken.append((match.start(), match.end()))
    for match in _VERBLESS.finditer(text):
        verb = match.group("verb")
        if verb.lower() in _NOT_A_VERB or re.fullmatch(_VERB, verb, re.IGNORECASE) or verb.lower() in _SPOKEN:
            continue
        start = match.start("verb")
        if any(a <= start < b for a, b in taken):
            continue
        slots.append(KeySlot(start, match.end(), verb, _SPOKEN[match.group("key").lower()], verb_heard=False))
    return sorted(slots, key=lambda s: s.start)


@dataclass(frozen=True, slots=True)
class KeyTuning:
    """How clearly the audio must prefer a change; each value's reason is what it guards against."""

    # The heard key is the recogniser's own greedy choice with the menu prompt: another key replaces it only when
    # forced decoding finds it clearly likelier (e^2, over seven times) for the same audio, so a near tie between
    # two keys (a noisy or clipped digit) keeps what was heard instead of flipping on a fraction of a nat.
    change_above: float = 2.0
    # A slot whose word is no key ("Press R.", "press it.") takes the audio's favourite key: after "press", at a
    # phrase's end, a menu says a key, and the recogniser's own word for it there ("it", "R") is no word a menu says
    # (words that are: _PRESS_WORDS). Only a key far less likely than the decoded word (e^-10) is refused.
    fill_within: float = 10.0
    # A word heard in the place of "press" ("Thanks one.") becomes "Press" when "Press N" fits the audio no worse
    # than this below the decoded words: the decoded text used the menu prompt, forced scoring does not.
    verb_within: float = 1.0
    # A decode the recogniser was sure of (mean token probability) keeps its "press N" unscored: on the tuned six and
    # heldout every key the audio changed was in a decode of 0.43-0.79, and a quarter of keyed decodes are at 0.85 or
    # more; each check costs 0.6-1.5 s of a speech-to-text lane at load 14 (heldout4 real calls).
    sure_above: float = 0.85


DEFAULT_KEY_TUNING = KeyTuning()


_SENTENCE_END = re.compile(r"[.!?;]")


def plan_texts(text: str, slot: KeySlot) -> list[str]:
    """Candidate texts for one slot: the decoded text first, then the slot filled with each key in KEYS order.

    Each text stops at the end of the slot's sentence: what follows is the same in every candidate, and scoring
    it costs decoder steps on a loaded machine without telling the keys apart.
    """
    after = _SENTENCE_END.search(text, slot.end)
    cut = after.end() if after else len(text)
    head = text[:cut]
    return [head, *(slot.fill(head, key) for key in KEYS)]


def slots_to_check(text: str, confidence: float, tuning: KeyTuning | None = None) -> list[KeySlot]:
    """Return the slots worth scoring: any not heard as "press" and a key, the rest only when the decode was unsure."""
    sure = confidence >= (tuning or DEFAULT_KEY_TUNING).sure_above
    return [s for s in find_slots(text) if not (sure and s.verb_heard and s.heard is not None)]


def choose_key(slot: KeySlot, scores: list[float | None], tuning: KeyTuning = DEFAULT_KEY_TUNING) -> KeyChoice:
    """Decide one slot from the scores of ``plan_texts`` (decoded text first, then KEYS in order)."""
    base = scores[0] if scores else None
    keyed = [(s, k) for s, k in zip(scores[1:], KEYS, strict=False) if s is not None]
    if base is None or not keyed:
        return KeyChoice(slot, slot.heard, 0.0, changed=False)
    best_score, best = max(keyed, key=lambda pair: pair[0])  # a tie goes to the earlier key of KEYS
    if slot.heard is not None:
        heard_score = next((s for s, k in keyed if k == slot.heard), None)
        if heard_score is None:
            return KeyChoice(slot, slot.heard, 0.0, changed=False)
        margin = best_score - heard_score
        if best != slot.heard and margin >= tuning.change_above:
            return KeyChoice(slot, best, round(margin, 2), changed=True)
        # The heard key stands; a misheard verb becomes "press" when the audio takes "press N" as well.
        verb_ok = not slot.verb_heard and heard_score >= base - tuning.verb_within
        return KeyChoice(slot, slot.heard if slot.verb_heard or verb_ok else None, round(margin, 2), changed=verb_ok)
    margin = best_score - base
    if margin >= -tuning.fill_within:
        return KeyChoice(slot, best, round(margin, 2), changed=True)
    return KeyChoice(slot, None, round(margin, 2), changed=False)


def correct_keys(
    text: str, score: Scorer, tuning: KeyTuning = DEFAULT_KEY_TUNING, confidence: float = 0.0
) -> tuple[str, list[KeyChoice]]:
    """Check the key slots of ``text`` against the audio (blocking); return the corrected text and the choices.

    ``confidence``: the recogniser's own for the decode (slots_to_check).
    """
    choices: list[KeyChoice] = []
    out = text
    # Right to left, so a corrected slot's new length does not move the slots before it.
    for slot in reversed(slots_to_check(text, confidence, tuning)):
        choice = choose_key(slot, score(plan_texts(out, slot)), tuning)
        choices.insert(0, choice)
        if choice.changed and choice.key is not None:
            out = slot.fill(out, choice.key)
    return out, choices


async def correct_keys_async(
    text: str,
    score: Callable[[list[str]], Awaitable[list[float | None]]],
    tuning: KeyTuning = DEFAULT_KEY_TUNING,
    confidence: float = 0.0,
) -> tuple[str, list[KeyChoice]]:
    """``correct_keys`` with an awaitable scorer (a call's speech-to-text engine, in its worker thread)."""
    choices: list[KeyChoice] = []
    out = text
    for slot in reversed(slots_to_check(text, confidence, tuning)):
        choice = choose_key(slot, await score(plan_texts(out, slot)), tuning)
        choices.insert(0, choice)
        if choice.changed and choice.key is not None:
            out = slot.fill(out, choice.key)
    return out, choices

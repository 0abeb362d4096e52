"""Pick the menu option closest in meaning to the caller's intent (MiniLM embeddings plus shared words)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .api import MenuOption
from .embedder import MiniLmEmbedder
from .glossary import glosses_for
from .parser import is_repeat, label_hearings, reaches_person
from .phonetic import sound_keys, sounds_alike
from .places import place_bonus, trip_scope
from .stance import intent_stance, stance_bonus

_WORD = re.compile(r"[a-z0-9']+")
_STOP_WORDS = (
    "a an and the to for of in on my i i'm i've im me is are was be it this that with about at from or your you "
    "want need would like have has had do does can can't cant please some any our we us get got just"
)
_STOP = frozenset(_STOP_WORDS.split())
_WORD_BONUS = 0.12  # per shared content word: MiniLM underrates exact domain words ("claim", "refill")
_MAX_BONUS = 0.16
_SOUND_BONUS = 0.08  # per caller word that only sounds like a label word ("refill" / misheard "reveal")
_GLOSS_WEIGHT = 1.0  # the company's own words count a little more than our descriptions of them
# A label read with the caller's word in place of one that only sounds like it ("speak with a noise" in a New
# York accent: "speak with a nurse") is a guess about what was said, so it counts a little less than a label
# heard as it is.
_SOUND_FIX_WEIGHT = 0.9


# A caller's reason often carries its point in one clause ("I'm moving abroad and need to end my gym contract"):
# the whole sentence's embedding averages the point with the story. A clause is matched too, discounted by a
# little less than half a shared word (it lost the rest of the sentence's context).
_CLAUSE_SPLIT = re.compile(r",|;|\b(?:and|because|but|so|while|since|as)\b")
_CLAUSE_PENALTY = 0.05
_MAX_CLAUSES = 4


def reason_clauses(intent: str) -> list[str]:
    """Clauses of a caller's reason with two content words or more (none when the reason is one clause)."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(intent) if p.strip()]
    if len(parts) < 2:
        return []
    return [p for p in parts if len(content_words(p)) >= 2][:_MAX_CLAUSES]


def _stem(word: str) -> str:
    """Crude suffix stripping, enough to equate "charged"/"charges", "cancelled"/"cancellations", "payment"/"pay"."""
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ions", "ion", "ies", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "cancell" -> "cancel"
    return word


def content_words(text: str) -> set[str]:
    """Stemmed content words of ``text`` (for the lexical bonus)."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def without_company_words(intent: str, name: str) -> str:
    """Drop the words of the company's own name from the intent ("gas" at Harbor Gas and Electric).

    Every option of a gas company is about gas, so the caller's "gas" tells none of them apart; but MiniLM and the
    shared-word bonus both pull hard towards the one label that says it ("gas leaks and emergencies" for "I need
    the gas connected at my new place"). The intent is kept whole when fewer than two content words would remain.
    """
    # Exact words only: "banking" at First City Bank names a service ("online banking"), not the trade.
    domain = {w for w in _WORD.findall(name.lower()) if w not in _STOP}
    if not domain:
        return intent
    kept = [w for w in intent.split() if not set(_WORD.findall(w.lower())) & domain]
    return " ".join(kept) if len(content_words(" ".join(kept))) >= 2 else intent


def sound_fixed(intent: str, label: str) -> str | None:
    """Return the label with each word that sounds like a caller's content word replaced by it (None: no such word)."""
    wanted = [w for w in _WORD.findall(intent.lower()) if w not in _STOP]
    words = _WORD.findall(label.lower())
    fixed = [w if w in _STOP or w in wanted else next((c for c in wanted if sounds_alike(w, c)), w) for w in words]
    return " ".join(fixed) if fixed != words else None


def lexical_bonus(intent: str, label: str) -> float:
    """Bonus for caller words in the label: exact (stemmed) words, then words that only sound alike."""
    intent_words, label_words = content_words(intent), content_words(label)
    shared = intent_words & label_words
    # Misheard label words keep their consonants more often than their spelling: compare sound keys of
    # the words not already shared (and of neighbouring label words: "still in" for "stolen").
    intent_keys = sound_keys([w for w in intent_words - shared])
    raw = _WORD.findall(label.lower())
    label_keys = sound_keys([_stem(w) for w in raw if _stem(w) not in shared])
    alike = len(intent_keys & label_keys)
    return min(_MAX_BONUS, _WORD_BONUS * len(shared) + _SOUND_BONUS * alike)


@dataclass(frozen=True, slots=True)
class ScoredOption:
    """An option with its similarity to the intent."""

    option: MenuOption
    score: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's choice: ``option`` is None when nothing fits and no person option exists."""

    option: MenuOption | None
    confidence: float
    ranked: tuple[ScoredOption, ...]
    reason: str
    clear: bool = False  # the best option passed the threshold and beat the runner-up by the margin


class MenuMatcher:
    """Embedding matcher with a confidence threshold; when unsure it prefers the option that reaches a person."""

    def __init__(
        self,
        embedder: MiniLmEmbedder | None = None,
        *,
        threshold: float = 0.30,
        margin: float = 0.02,
        home_country: str = "US",
    ) -> None:
        self._embedder = embedder or MiniLmEmbedder.shared()
        self.threshold = threshold
        self.margin = margin
        self.home_country = home_country  # where "domestic" is (nav/places.py)

    def rank(self, intent: str, options: list[MenuOption]) -> list[ScoredOption]:
        """Options scored by cosine similarity plus a small shared-word bonus, best first (blocking)."""
        if not options:
            return []
        # Each option is read as it was heard, and as the caller's words where one only sounded different.
        hearings = [label_hearings(o.label) for o in options]
        readings = [
            [(h, 1.0) for h in heard] + [(f, _SOUND_FIX_WEIGHT) for h in heard if (f := sound_fixed(intent, h))]
            for heard in hearings
        ]
        glosses = [[(g, _GLOSS_WEIGHT * w) for text, w in group for g in glosses_for(text)] for group in readings]
        # A description shared by several options of this menu ("my credit card" for every card option)
        # cannot tell them apart: keep only the ones unique to one option.
        owners = Counter(g for group in glosses for g in {g for g, _w in group})
        texts = [readings[k] + [(g, w) for g, w in glosses[k] if owners[g] == 1] for k in range(len(options))]
        parts = reason_clauses(intent)
        vectors = self._embedder.embed([intent, *parts, *(t for group in texts for t, _w in group)])
        heads = len(parts) + 1
        # The whole reason, or one clause of it ("... and need to end my gym contract") a little discounted.
        offsets = np.array([0.0] + [_CLAUSE_PENALTY] * len(parts), dtype=np.float32)
        sims = (vectors[heads:] @ vectors[:heads].T - offsets).max(axis=1)
        scope = trip_scope(intent, self.home_country)  # the intent's, the same for every option
        stance = intent_stance(intent)
        scored = []
        at = 0
        for option, group in zip(options, texts, strict=True):
            # Any reading of the label or any description of it may carry the meaning: take the closest.
            weights = np.array([w for _t, w in group])
            sim = float((weights * sims[at : at + len(group)]).max())
            at += len(group)
            bonus = lexical_bonus(intent, option.label) + place_bonus(scope, option.label)
            bonus += stance_bonus(stance, option.label)
            scored.append(ScoredOption(option, sim + bonus))
        return sorted(scored, key=lambda s: s.score, reverse=True)

    def choose(self, intent: str, options: list[MenuOption], *, exclude: frozenset[str] = frozenset()) -> MatchResult:
        """Choose the best option for ``intent`` (blocking); ``exclude`` holds digits already tried without success."""
        usable = [o for o in options if o.digit not in exclude and not is_repeat(o)]
        ranked = self.rank(intent, usable)
        if not ranked:
            return MatchResult(None, 0.0, (), "no usable option")
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else -1.0
        person = next((s for s in ranked if reaches_person(s.option)), None)
        confident = best.score >= self.threshold and best.score - runner_up >= self.margin
        if confident or person is None:
            conf = float(np.clip(best.score, 0.0, 1.0))
            why = "best match" if confident else "best match (low confidence, no person option)"
            return MatchResult(best.option, conf, tuple(ranked), why, clear=confident)
        return MatchResult(person.option, float(np.clip(person.score, 0.0, 1.0)), tuple(ranked), "unsure: person")

"""Closed-set correction of misheard menu labels, with the decoded text as the open-set fallback.

A small recogniser garbles option labels in synthetic or noisy voices ("Press 1 for tremendous and damage
cards."), yet the same model, asked how likely a GIVEN text is for the audio (forced decoding, see
``voice.api.TextScorer``), often finds the true label nearly as likely as its own greedy words. So for one
menu segment we keep the decoded frame ("Press 1 for", "..., press 2."), put in its place label phrases from
a general lexicon of phone-menu labels (``menu_labels.txt``) shortlisted by meaning and sound, plus the
caller's own words, score them all against the audio, and take the best one when it is within ``tolerance``
of the decoded text's own score: a known label is a likelier thing for a menu to say than words the
recogniser made up, which is worth a few nats. When no candidate comes close the decoded text stays, so a
company whose labels are not in the lexicon is heard as before. Only when the recogniser was itself unsure
of its words and the audio clearly prefers one known label over the others is that label added beside the
decoded one as a second hearing ("For a trip, shouldn't reveal / prescription refills."), never instead.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import math
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

from .api import MenuOption
from .embedder import MiniLmEmbedder
from .parser import HEARD_AGAIN as _HEARD_AGAIN
from .parser import is_repeat, reaches_person

_LOGGER = logging.getLogger(__name__)
_LEXICON = "menu_labels.txt"
# MiniLM vectors of the lexicon's labels, precomputed (embedding ~440 phrases takes 20-60 s on one core):
# rebuild with ``python -m hold_slayer_sidecar.nav.relabel`` after editing the lexicon; a stale file is
# noticed by its digest and the vectors are then computed on first use instead.
_VECTORS = "menu_labels.npz"

_KEY = r"(?:press|dial|push|select)\s+(?:\d|star|pound|zero|one|two|three|four|five|six|seven|eight|nine)\b"
# "Press 1 for X." / "Press 1. To X."
_AFTER_KEY = re.compile(rf"^(?P<head>(?:.*?\s)?{_KEY}[.,]?\s+)(?P<intro>for|to)\s+(?P<label>[^.!?]+?)(?P<tail>[.!?]*)$")
# "For X, press 1." / "To X, say X or press 1."
_BEFORE_KEY = re.compile(
    rf"^(?P<head>(?:and\s+(?=(?:for|to)\b))?)(?P<intro>for|to|and)\s+(?P<label>[^.!?]+?)"
    rf"(?P<tail>[,.]?\s+(?:say\s+\w+(?:\s+\w+)?,?\s+)?(?:or\s+)?{_KEY}[.!?]*)$"
)
# A sentence that is only a label, its key said in the next segment: "For prescription refills." The
# recogniser often turns a clipped "to" into "and" ("And speak with a nurse").
_BARE = re.compile(
    r"^(?P<head>(?:and\s+(?=(?:for|to)\b))?)(?:(?P<intro>for|to|and)\s+)?(?P<label>[^.!?]+?)(?P<tail>[.!?]*)$"
)
_KEY_WORD = re.compile(rf"\b{_KEY}")
# A segment that is only a key ("Press 1."): its label was said in the segments before it.
_LONE_KEY = re.compile(rf"^(?:and\s+|or\s+)?{_KEY}[.!?]*$")
_LEADING_INTRO = re.compile(r"^(?:and\s+)?(?P<intro>for|to|and)\s+", re.IGNORECASE)
_MAX_SPAN_PARTS = 3  # segments a label may be spread over before its lone key ("To schedule, | change or ...")
_MAX_CONTINUATION_WORDS = 8
_MAX_SPAN_WORDS = 12  # a label longer than this is more likely a notice before the menu than one option
# "Press 2." decoded from 2.5 s of speech: the recogniser dropped the label that followed the key.
_CLIPPED_KEY_S = 1.6
_KEY_DIGIT = re.compile(r"\b(?P<verb>press|dial|push|select)\s+(?P<digit>[1-8])\b")
_MIN_MISSING_KEY_WORDS = 4
_MAX_BARE_WORDS = 7  # a longer sentence without a key is a greeting or notice, not a label
_FIRST_PERSON = (("i'm", "you're"), ("i am", "you are"), ("my", "your"), ("i", "you"), ("me", "you"))


@dataclass(frozen=True, slots=True)
class LabelFrame:
    """A decoded segment split around its option label: ``head + intro + label + tail``."""

    head: str
    intro: str  # "for" / "to" / "and" as decoded, "" when the sentence has none
    label: str
    tail: str

    def fill(self, phrase: str) -> str:
        """Put ``phrase`` ("for billing") in the label's place (without its intro when the frame has none)."""
        words = phrase.split(maxsplit=1)
        body = phrase if self.intro else (words[1] if len(words) > 1 else phrase)
        if not self.head or self.head.rstrip().endswith((".", "!", "?")):
            body = body[0].upper() + body[1:]  # a sentence of its own ("Press 1. To report ...")
        return f"{self.head}{body}{self.tail or '.'}"

    def with_hint(self, phrase: str) -> str:
        """Keep the decoded label and add ``phrase``'s label as a second hearing ("a trip / prescription refills")."""
        intro, _, label = phrase.partition(" ")
        # The parser reads " / " as two hearings of one label (nav/parser.py _HEARD_AGAIN); the matcher
        # takes whichever fits the caller best. A misheard "to" ("And speak with ...") takes the phrase's.
        return self.fill(f"{intro if self.intro in ('', 'and') else self.intro} {self.label}{_HEARD_AGAIN}{label}")


@dataclass(frozen=True, slots=True)
class RelabelPlan:
    """The segment's frame and the texts to score: ``texts[0]`` is the decoded text itself."""

    frame: LabelFrame
    texts: tuple[str, ...]
    phrases: tuple[str, ...]  # the lexicon phrase behind each text ("" for the decoded text and the caller's words)
    strict: frozenset[int]  # candidates (the caller's own words) that must beat the decoded text outright


@dataclass(frozen=True, slots=True)
class Relabeled:
    """Outcome of one correction: ``text`` is what navigation uses."""

    text: str
    decoded: str
    changed: bool
    scored: int = 0
    margin: float = 0.0  # best candidate's score minus the decoded text's
    hint: bool = False  # the decoded label kept, the audio's favourite known label added beside it


@dataclass(frozen=True, slots=True)
class SpanPlan:
    """Candidates for one label spoken over several segments (a pause inside it cut the speech in two).

    ``parts`` is how many of the latest segments the label covers: their audio is scored together.
    ``after_key``: "Press 3 to start, | stop or move your service." (the call already has the first segment,
    so it gets only the rest of the label); otherwise "To schedule, | change or cancel an appointment, |
    press 1." (the call gets the whole corrected sentence with the lone key).
    """

    plan: RelabelPlan
    parts: int
    after_key: bool

    def feed(self, chosen: Relabeled) -> str | None:
        """Return the text to give the call for the latest segment, or None to keep its own transcript."""
        if not chosen.changed or chosen.hint or _words_of(chosen.text) == _words_of(chosen.decoded):
            return None  # nothing new: only the punctuation between the segments differs
        if self.parts == 1:
            return chosen.text  # one segment's words replaced (a lost key and its label)
        if self.after_key:
            rest = _LEADING_INTRO.sub("", chosen.text[len(self.plan.frame.head) :].strip(), count=1).strip()
            chosen_text = rest[:1].upper() + rest[1:]
        else:
            chosen_text = chosen.text
        # The call already has the earlier pieces as they were decoded: the correction follows them as a second
        # hearing of the same label (nav/parser.py), or the parser would read both as one longer label.
        return f"{_HEARD_AGAIN.strip()} {chosen_text}" if chosen_text else None


def split_label(text: str) -> LabelFrame | None:
    """Find the option label in one decoded segment, or None when it holds no label to correct."""
    flat = " ".join(text.split())
    lower = flat.lower()
    for pattern in (_AFTER_KEY, _BEFORE_KEY):
        match = pattern.match(lower)
        if match and _KEY_WORD.search(match.group("label")):
            # "Press 3. For other questions, press 0.": two options in one segment, and a label that ran over the
            # second key would drop that key if replaced ("Press 3. For all other questions.").
            return None
        if match:
            return _frame(flat, match)
    match = _BARE.match(lower)
    # Without "for"/"to" a short sentence is as likely a heading or a greeting as a label: leave it be
    # (scored without an end-of-text token, a short lexicon phrase would too easily beat it).
    if match is None or not match.group("intro") or _KEY_WORD.search(lower):
        return None
    if len(match.group("label").split()) > _MAX_BARE_WORDS:
        return None
    return _frame(flat, match)


def _frame(text: str, match: re.Match[str]) -> LabelFrame | None:
    label = text[match.start("label") : match.end("label")].strip(" ,")
    if not label:
        return None
    intro = match.group("intro") or ""
    return LabelFrame(text[: match.end("head")], intro, label, text[match.end("label") :])


def _lexicon_text() -> str:
    return files(__package__).joinpath(_LEXICON).read_text(encoding="utf-8")


def _digest(phrases: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(phrases).encode()).hexdigest()


def load_lexicon(exclude: Sequence[str] = ()) -> tuple[str, ...]:
    """Phrases of the bundled menu-label lexicon ("for billing"), minus those whose label is in ``exclude``."""
    raw = _lexicon_text()
    banned = {label.strip().lower() for label in exclude}
    phrases = []
    for line in raw.splitlines():
        phrase = " ".join(line.lower().split())
        if phrase and not phrase.startswith("#") and _label_of(phrase) not in banned:
            phrases.append(phrase)
    return tuple(dict.fromkeys(phrases))


def _label_of(phrase: str) -> str:
    return phrase.split(maxsplit=1)[1] if " " in phrase else phrase


def _words_of(label: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", label.lower()))


def _second_person(intent: str) -> str:
    """Turn the caller's words into a menu's: "my card" -> "your card"."""
    words = intent.lower().strip(" .!?").split()
    out = " ".join(words)
    for first, second in _FIRST_PERSON:
        out = re.sub(rf"\b{re.escape(first)}\b", second, out)
    return out


_SHARED: dict[str, Relabeler] = {}
_SHARED_LOCK = threading.Lock()


class Relabeler:
    """Builds candidate texts for a menu segment and picks the one the audio supports."""

    def __init__(
        self,
        lexicon: Sequence[str] | None = None,
        embedder: MiniLmEmbedder | None = None,
        *,
        tolerance: float = 2.0,
        word_bonus: float = 1.0,
        hint_below: float = 0.7,
        sure_above: float = 0.8,
        hint_band: float = 10.0,
        replace_above: float = 1.0,
        # The scorer stops at its time budget (voice/stt.py score_texts, 1.5 s in a call): on a loaded 2-core
        # machine that is about ten candidates, so the shortlist is about that long, and what sounds or reads like
        # the heard label comes before what is merely close to the caller's intent (which must win outright).
        by_intent: int = 2,
        by_meaning: int = 4,
        by_sound: int = 4,
    ) -> None:
        self._phrases = tuple(lexicon) if lexicon is not None else load_lexicon()
        self._embedder = embedder
        self._vectors: np.ndarray | None = None
        self.tolerance = tolerance
        self.word_bonus = word_bonus
        self.hint_below, self.hint_band = hint_below, hint_band
        # A known label replaces the decoded one only when the audio clearly prefers it: at least one nat (e times)
        # likelier than the recogniser's own words, which are its greedy best guess for this very audio. Within the
        # tolerance but not clearly likelier, both are kept as two hearings of the label (nav/parser.py): a replaced
        # label that was right hid the caller's department ("-> 'To go back, press 3.'" in issue #21's logs).
        self.replace_above = replace_above
        # A decode the recogniser was sure of (mean token probability >= 0.8) is not rescored: in real calls to six
        # companies none of 30 such segments changed, and each cost 3.9 s of scoring under load, time in which the
        # menu's own no-input timeout ran out before the navigator heard the transcript.
        self.sure_above = sure_above
        self._labels = frozenset(_words_of(_label_of(p)) for p in self._phrases)
        self._by_intent, self._by_meaning, self._by_sound = by_intent, by_meaning, by_sound

    @classmethod
    def shared(cls) -> Relabeler:
        """One process-wide instance over the bundled lexicon (its vectors load once)."""
        with _SHARED_LOCK:
            if "default" not in _SHARED:
                _SHARED["default"] = cls()
            return _SHARED["default"]

    def _lexicon_vectors(self, embedder: MiniLmEmbedder) -> np.ndarray:
        if self._vectors is None:
            stored = _stored_vectors()
            if all(p in stored for p in self._phrases):
                self._vectors = np.stack([stored[p] for p in self._phrases])
            else:
                _LOGGER.info("menu label vectors are stale: embedding %d phrases", len(self._phrases))
                self._vectors = embedder.embed([_label_of(p) for p in self._phrases])
        return self._vectors

    def warm_up(self) -> None:
        """Load the lexicon vectors and the embedder now (blocking), so the first menu segment does not wait."""
        embedder = self._embedder or MiniLmEmbedder.shared()
        self._lexicon_vectors(embedder)
        embedder.embed(["billing"])

    def shortlist(self, label: str, intent: str) -> list[str]:
        """Lexicon phrases worth scoring for a decoded ``label``: close in meaning to it or the intent, or in sound."""
        return self._shortlist(label, intent)[0]

    def _shortlist(self, label: str, intent: str) -> tuple[list[str], set[str]]:
        """Return the shortlist, and the phrases on it only because they are close to the caller's intent."""
        if not self._phrases:
            return [], set()
        embedder = self._embedder or MiniLmEmbedder.shared()
        vectors = self._lexicon_vectors(embedder)
        heard, wanted = embedder.embed([label, intent or label])
        by_intent = [int(i) for i in np.argsort(-(vectors @ wanted))[: self._by_intent]]
        by_label = [int(i) for i in np.argsort(-(vectors @ heard))[: self._by_meaning]]
        # Meaning cannot see through a garbled label ("more again and long"): its sounds often survive.
        spelled = label.lower()
        ratios = [difflib.SequenceMatcher(None, spelled, _label_of(p)).ratio() for p in self._phrases]
        by_label += [int(i) for i in np.argsort(ratios)[::-1][: self._by_sound]]
        picks = list(dict.fromkeys(by_label + by_intent))
        return [self._phrases[i] for i in picks], {self._phrases[i] for i in set(by_intent) - set(by_label)}

    def plan(
        self, decoded: str, intent: str, audio_s: float | None = None, confidence: float | None = None
    ) -> RelabelPlan | None:
        """Candidate texts for one decoded menu segment, or None when it holds no label (blocking: embeds).

        ``audio_s``, the segment's length, lets a lone key decoded from far more speech than it takes to say
        ("Press 2." from "Press 2 to dispute a charge or a transaction.") be rescored with labels after it.
        """
        flat = " ".join(decoded.split())
        sure = confidence is not None and confidence >= self.sure_above
        if audio_s is not None and audio_s >= _CLIPPED_KEY_S and _LONE_KEY.match(flat.lower()):
            clipped = LabelFrame(f"{flat.rstrip(' .!?,')} ", "to", "", ".")
            return self._candidates(decoded, clipped, intent, heard=intent)
        frame = split_label(decoded)
        if sure or frame is None or _words_of(frame.label) in self._labels:
            return None  # heard with confidence, no label, or one the lexicon knows: nothing to correct
        return self._candidates(decoded, frame, intent)

    def plan_span(self, parts: Sequence[str], intent: str, confidence: float = 1.0) -> SpanPlan | None:
        """Candidates for a label cut by a pause, from the decoded texts of the latest segments (oldest first).

        None unless the latest segment continues a keyed label that the lexicon does not know ("Press 3 to
        talk." + "I'll put a move your term is.") or is a lone key after up to three segments without one
        ("Check out the schedule." + "Get in, go cancel, and avoid intimate." + "Press 1."), or, when the
        recogniser was unsure of it (``confidence``), is a sentence without a key where the next option's key
        and label may have been misheard. Blocking: embeds.
        """
        texts = [" ".join(p.split()) for p in parts if p.strip()]
        if len(texts) < 2:
            return None
        current = texts[-1]
        if _LONE_KEY.match(current.lower()):
            return self._plan_before_key(texts, intent)  # the key is sure; its label, said before it, may not be
        if confidence >= self.sure_above:
            return None
        after = self._plan_after_key(texts[-2], current, intent)
        # Clear speech decoded without a key is a notice ("Please have your account number ready."), not a lost key.
        return after or (self._plan_missing_key(texts, intent) if confidence < self.hint_below else None)

    def _plan_after_key(self, previous: str, current: str, intent: str) -> SpanPlan | None:
        first = split_label(previous)
        lower = current.lower()
        if (
            first is None
            or not first.intro
            or not _KEY_WORD.search(first.head.lower())
            or _words_of(first.label) in self._labels  # a complete known label: the next sentence is not in it
            or _KEY_WORD.search(lower)
            or _LEADING_INTRO.match(lower)  # "For X." starts the next option's label
            or len(current.split()) > _MAX_CONTINUATION_WORDS
        ):
            return None
        label = f"{first.label}, {current.strip(' .!?,')}"
        frame = LabelFrame(first.head, first.intro, label, ".")
        return SpanPlan(self._candidates(f"{previous} {current}", frame, intent), 2, after_key=True)

    def _plan_missing_key(self, texts: list[str], intent: str) -> SpanPlan | None:
        """Try a sentence with no key after option K as option K+1, in the wording of the menu so far.

        "Let's do this new challenge for a trend action." was "Press 2 to dispute a charge or a transaction."
        """
        current = texts[-1]
        lower = current.lower()
        if _KEY_WORD.search(lower) or split_label(current) is not None or len(current.split()) < _MIN_MISSING_KEY_WORDS:
            return None
        keyed = next((t for t in reversed(texts[:-1]) if _KEY_DIGIT.search(t.lower())), None)
        if keyed is None:
            return None
        found = list(_KEY_DIGIT.finditer(keyed.lower()))[-1]
        key = f"{found.group('verb').capitalize()} {int(found.group('digit')) + 1}"
        if _LONE_KEY.match(keyed.lower()):  # "Press 1." then "To X.": this menu says "Press 2. To Y."
            frame = LabelFrame(f"{key}. ", "to", current, ".")
        elif (first := split_label(keyed)) is not None and _KEY_WORD.search(first.head.lower()):
            frame = LabelFrame(f"{key} ", "to", current, ".")  # "Press 1 to X." -> "Press 2 to Y."
        else:
            frame = LabelFrame("", "to", current, f", {key.lower()}.")  # "For X, press 1." -> "For Y, press 2."
        return SpanPlan(self._candidates(current, frame, intent), 1, after_key=False)

    def _plan_before_key(self, texts: list[str], intent: str) -> SpanPlan | None:
        run: list[str] = []
        for text in reversed(texts[:-1]):
            words = sum(len(t.split()) for t in run) + len(text.split())
            if _KEY_WORD.search(text.lower()) or len(run) == _MAX_SPAN_PARTS or words > _MAX_SPAN_WORDS:
                break
            run.insert(0, text)
        before = len(texts) - 1 - len(run)
        if not run or (before >= 0 and _LONE_KEY.match(texts[before].lower())):
            return None  # "Press 1." then "To X.": this menu says its labels after the keys
        joined = " ".join(t.strip(" .!?,") for t in run)
        lead = _LEADING_INTRO.match(joined)
        # No "for"/"to" heard: any intro marks the frame as one that takes the lexicon phrase whole.
        intro, label = (lead.group("intro"), joined[lead.end() :]) if lead else ("for", joined)
        if not label or _words_of(label) in self._labels:
            return None
        key = texts[-1]
        frame = LabelFrame("", intro, label, f", {key[0].lower()}{key[1:]}")
        return SpanPlan(self._candidates(" ".join([*run, key]), frame, intent), len(run) + 1, after_key=False)

    def _candidates(self, decoded: str, frame: LabelFrame, intent: str, heard: str | None = None) -> RelabelPlan:
        # Text -> its lexicon phrase ("" for the decoded text and the caller's own words, scored strictly).
        entries = {decoded.strip(): ""}
        strict = set()
        phrases, wanted_only = self._shortlist(heard if heard is not None else frame.label, intent)
        for phrase in phrases:
            text = frame.fill(phrase)
            if text in entries:
                continue
            if phrase in wanted_only:
                # Drawn only because it is close to what the caller wants, not to what was heard: rescoring must not
                # turn a garbled label into the caller's own department on weak evidence, so it must beat the
                # decoded text outright, as the caller's own words must.
                strict.add(len(entries))
            entries[text] = phrase
        if intent.strip():
            own = _second_person(intent)
            for intro in ("for", "to") if frame.intro else ("for",):
                text = frame.fill(f"{intro} {own}")
                if text not in entries:
                    strict.add(len(entries))
                    entries[text] = ""
        return RelabelPlan(frame, tuple(entries), tuple(entries.values()), frozenset(strict))

    def pick(
        self, plan: RelabelPlan, scores: Sequence[float | None], confidence: float = 1.0, *, replace: bool = False
    ) -> Relabeled:
        """Choose what the audio supports: replace the label, add a second hearing beside it, or keep it.

        A candidate clearly likelier than the decoded text replaces it; one within ``tolerance`` is added beside the
        decoded label as a second hearing; else the decoded text stays. ``confidence`` is the recogniser's own (mean
        token probability of its decode): below ``hint_below`` the audio's clear favourite among the known labels is
        added beside the decoded label as a hint. ``replace``: take the best candidate within the tolerance outright
        (a label cut across segments, whose correction the call receives as a second hearing anyway:
        ``SpanPlan.feed``).
        """
        decoded = plan.texts[0]
        if not scores or scores[0] is None:
            return Relabeled(decoded, decoded, False)
        # Scored without an end-of-text token, a text that stops short of the audio ("For baggage." for
        # "For baggage fees and allowances.") looks likely; a bonus per word offsets that, as the word
        # insertion bonus of a speech decoder does.
        pairs = zip(plan.texts, scores, strict=False)
        values = [None if s is None else s + self.word_bonus * len(t.split()) for t, s in pairs]
        base = values[0]
        assert base is not None
        scored = sum(s is not None for s in scores)
        best, best_value = 0, base
        kind = _kind(plan.frame.label)
        for index, value in enumerate(values):
            if index == 0 or value is None:
                continue
            if plan.phrases[index] and _kind(_label_of(plan.phrases[index])) != kind:
                # "To go back" or "an operator" in place of a heard department would hide that department from
                # the navigator (and the reverse would invent one): a rescoring never changes what an option is.
                continue
            allowed = base if index in plan.strict else base - self.tolerance
            if value >= allowed and (best == 0 or value > best_value):
                best, best_value = index, value
        # No label was heard at all (a lone key decoded from longer speech): there is nothing to keep.
        unheard = not plan.frame.label.strip()
        if best and (replace or unheard or best_value >= base + self.replace_above):
            return Relabeled(plan.texts[best], decoded, True, scored, round(best_value - base, 2))
        if best and plan.phrases[best] and best not in plan.strict:
            # Close to the decoded words but not clearly likelier: keep what was heard, add the known label beside it.
            hinted = plan.frame.with_hint(plan.phrases[best])
            return Relabeled(hinted, decoded, True, scored, round(best_value - base, 2), hint=True)
        return self._favourite_beside(plan, values, scored, confidence)

    def _favourite_beside(
        self, plan: RelabelPlan, values: list[float | None], scored: int, confidence: float
    ) -> Relabeled:
        """Add the audio's clear favourite among the known labels beside an unsure decode, else keep the decode."""
        decoded, base = plan.texts[0], values[0]
        assert base is not None
        # Labels drawn only for being close to the caller's intent never become a hint: the navigator would take
        # the caller's own department for heard ("For orders" beside a garbled "Appointments" for a food order).
        known = sorted(
            ((v, i) for i, v in enumerate(values) if v is not None and plan.phrases[i] and i not in plan.strict),
            reverse=True,
        )
        if confidence >= self.hint_below or not known or known[0][0] < base - self.hint_band:
            return Relabeled(decoded, decoded, False, scored)
        heard = MenuOption("", plan.frame.label)
        if is_repeat(heard) or reaches_person(heard):
            return Relabeled(decoded, decoded, False, scored)  # its words already say what it does: no hint
        top, index = known[0]
        # The favourite must outweigh every other known label together (closed-set posterior above 0.5), and a
        # hint never makes a department heard into a person or menu plumbing ("a photo message" / "a representative").
        crowded = sum(math.exp(v - top) for v, _ in known) >= 2.0
        if crowded or _kind(_label_of(plan.phrases[index])) != _kind(heard.label):
            return Relabeled(decoded, decoded, False, scored)
        hinted = plan.frame.with_hint(plan.phrases[index])
        return Relabeled(hinted, decoded, True, scored, round(top - base, 2), hint=True)

    def correct_blocking(
        self,
        decoded: str,
        intent: str,
        score: Callable[[Sequence[str]], Sequence[float | None]],
        confidence: float = 1.0,
        audio_s: float | None = None,
    ) -> Relabeled:
        """Plan, score with ``score`` and pick, all in the calling thread (for benchmarks), as a call does."""
        plan = self.plan(decoded, intent, audio_s, confidence)
        if plan is None:
            return Relabeled(decoded, decoded, False)
        return self.pick(plan, score(plan.texts), confidence)


def _kind(label: str) -> tuple[bool, bool]:
    """Tell what an option is: menu plumbing (repeat, go back), a person, or (neither) a department."""
    option = MenuOption("", label)
    return is_repeat(option), reaches_person(option)


def _stored_vectors() -> dict[str, np.ndarray]:
    """Phrase -> vector from the bundled file, empty when it is missing or was built from another lexicon."""
    try:
        with files(__package__).joinpath(_VECTORS).open("rb") as fh, np.load(fh) as data:
            phrases = [str(p) for p in data["phrases"]]
            if str(data["digest"]) != _digest(phrases) or phrases != list(load_lexicon()):
                return {}
            vectors = data["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        return {}
    return dict(zip(phrases, vectors, strict=True))


def build_vectors(path: str) -> int:
    """Embed every lexicon label and write phrases, vectors and digest to ``path`` (an .npz)."""
    phrases = load_lexicon()
    vectors = MiniLmEmbedder.shared().embed([_label_of(p) for p in phrases])
    np.savez_compressed(path, phrases=np.array(phrases), vectors=vectors.astype(np.float16), digest=_digest(phrases))
    return len(phrases)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(files(__package__).joinpath(_VECTORS))
    print(f"{build_vectors(target)} phrases -> {target}")

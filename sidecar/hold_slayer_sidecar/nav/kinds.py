"""What kind of thing a caller names: WordNet's hypernyms ("suitcase" is a bag, "golf clubs" are sports equipment).

Callers name the thing ("my suitcase never showed up", "can I bring my golf clubs"); menus name its kind ("a
delayed or missing bag", "sports equipment"). MiniLM knows the words but not that one is a kind of the other
well enough to beat a neighbouring label. Princeton WordNet 3.0 (Debian ``wordnet-base``, read from
``/usr/share/wordnet``; no network, nothing downloaded) says so: each noun of the reason is looked up (as a
compound with its neighbour first: "golf club", "oil change"), and the lemmas of its first two senses' nearest
hypernyms are its kinds. Without the files there are no kinds and matching is as before.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

DEFAULT_DIR = Path("/usr/share/wordnet")
# A word's most common senses come first in WordNet; the third and later are rare meanings ("dog" as a frump).
_SENSES = 2
# Two steps up is still a kind a menu would name ("suitcase" > "bag" > "baggage"); three reaches classes no
# menu names ("container", "instrumentality") and that every object shares.
_LEVELS = 1
# Kinds so broad that they say nothing about a department (and are in many labels' words: "person", "service").
TOO_GENERAL = frozenset(
    (
        "entity physical_entity abstraction abstract_entity object whole unit thing matter substance artifact "
        "artefact instrumentality instrumentation device container structure construction person individual "
        "someone somebody mortal human soul organism being living_thing animate_thing act deed human_action "
        "action event activity group grouping social_group organization organisation attribute property state "
        "condition communication message content subject_matter location region part portion piece measure "
        "quantity amount time period process change relation psychological_feature cognition knowledge idea "
        "worker employee adult man woman male female food nutrient solid fluid liquid"
    ).split()
)
# Plural endings WordNet's own morphology strips (wndb(5WN) "morphy"), longest first.
_SUFFIXES = (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("s", ""))
_MAX_CACHED = 20_000  # lemmas; a call's reason has a dozen nouns, so this is every reason of a long uptime
_WORD = re.compile(r"[a-z][a-z'-]*")
_STOP = frozenset(
    "a an and the to for of in on my i i'm me is are was be it this that with about at from or your you want need "
    "would like have has had do does can our we us get got just some any there their they he she his her its not "
    "no yes what when where why how which who will would could should been being am were also than then too very "
    "one two three four five six seven eight nine ten next last this month week year day today tomorrow".split()
)


class WordNet:
    """A reader of WordNet's noun index and data files (wndb(5WN)): lemma -> senses -> hypernyms."""

    def __init__(self, directory: Path = DEFAULT_DIR) -> None:
        self._dir = directory
        self._index: dict[str, tuple[int, ...]] | None = None
        self._noun_uses: dict[str, int] = {}
        self._other_uses: dict[str, int] | None = None
        self._kinds: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Tell whether the noun files are there."""
        return (self._dir / "index.noun").is_file() and (self._dir / "data.noun").is_file()

    def _senses(self, lemma: str) -> tuple[int, ...]:
        with self._lock:
            if self._index is None:
                self._index = _read_index(self._dir / "index.noun", self._noun_uses)
        return self._index.get(lemma, ())

    def mostly_noun(self, word: str) -> bool:
        """Tell whether ``word`` is used as a noun at least as often as as a verb, adjective or adverb.

        The counts are WordNet's tagged-corpus sense counts (SemCor): "need", "keep", "cost" and "low" are mostly
        something else, and their noun senses ("a necessity", "a stronghold") would only add noise.
        """
        self._senses(word)
        with self._lock:
            if self._other_uses is None:
                other: dict[str, int] = {}
                for pos in ("verb", "adj", "adv"):
                    path = self._dir / f"index.{pos}"
                    if path.is_file():
                        counts: dict[str, int] = {}
                        _read_index(path, counts)
                        for lemma, n in counts.items():
                            other[lemma] = max(other.get(lemma, 0), n)
                self._other_uses = other
        return self._noun_uses.get(word, 0) >= self._other_uses.get(word, 0)

    def _synset(self, offset: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Lemmas and hypernym offsets of the noun synset at byte ``offset`` of data.noun."""
        with (self._dir / "data.noun").open("rb") as data:
            data.seek(offset)
            line = data.readline().decode("latin-1")
        fields = line.split(" | ", 1)[0].split()
        count = int(fields[3], 16)
        lemmas = tuple(fields[4 + 2 * k].lower() for k in range(count))
        at = 4 + 2 * count
        pointers = int(fields[at])
        hypernyms = []
        for k in range(pointers):
            symbol, target, pos = fields[at + 1 + 4 * k : at + 4 + 4 * k]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append(int(target))
        return lemmas, tuple(hypernyms)

    def kinds(self, lemma: str) -> tuple[str, ...]:
        """Kinds of ``lemma`` (underscores for spaces): its senses' synonyms and hypernyms up to ``_LEVELS`` up, broad ones out."""
        cached = self._kinds.get(lemma)
        if cached is not None:
            return cached
        out: list[str] = []
        for sense in self._senses(lemma)[:_SENSES]:
            synonyms, hypernyms = self._synset(sense)
            out.extend(x for x in synonyms if x not in TOO_GENERAL and x != lemma and x not in out)
            frontier = list(hypernyms)
            for _level in range(_LEVELS):
                above: list[int] = []
                for offset in frontier:
                    lemmas, hypernyms = self._synset(offset)
                    out.extend(x for x in lemmas if x not in TOO_GENERAL and x != lemma and x not in out)
                    above.extend(hypernyms)
                frontier = above
        if len(self._kinds) < _MAX_CACHED:
            self._kinds[lemma] = tuple(out)
        return tuple(out)


def _read_index(path: Path, uses: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """index.<pos>: ``lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...``.

    Returns lemma -> synset offsets; fills ``uses`` with lemma -> tagged-corpus count (tagsense_cnt).
    """
    index: dict[str, tuple[int, ...]] = {}
    with path.open(encoding="latin-1") as lines:
        for line in lines:
            if line.startswith(" "):
                continue  # the licence header
            fields = line.split()
            pointers = int(fields[3])
            index[fields[0]] = tuple(int(x) for x in fields[4 + pointers + 2 :])
            uses[fields[0]] = int(fields[4 + pointers + 1])
    return index


def _base_forms(word: str) -> list[str]:
    """The word and its singular forms by WordNet's plural rules ("clubs" -> "club", "batteries" -> "battery")."""
    forms = [word]
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            forms.append(word[: -len(suffix)] + replacement)
    return forms


class KindFinder:
    """Kinds of the things a caller's reason names (empty when WordNet is not installed)."""

    def __init__(self, wordnet: WordNet | None = None) -> None:
        self._wordnet = wordnet or WordNet()
        self._ok = self._wordnet.available
        if not self._ok:
            _LOGGER.info("WordNet not found in %s: menu matching without kinds of things", DEFAULT_DIR)

    @lru_cache(maxsize=512)  # noqa: B019 - one finder per process; reasons repeat at every menu of a call
    def kinds(self, text: str) -> tuple[str, ...]:
        """Kinds (spaces, not underscores) of the nouns in ``text``; a compound with its neighbour is tried first."""
        if not self._ok:
            return ()
        words = _WORD.findall(text.lower())
        out: list[str] = []
        used: set[int] = set()
        for k in range(len(words) - 1):  # "golf club", "oil change", "tap water": the compound is the thing
            if words[k] in _STOP or words[k + 1] in _STOP:
                continue
            for second in _base_forms(words[k + 1]):
                found = self._wordnet.kinds(f"{words[k]}_{second}")
                if found:
                    out.extend(x for x in found if x not in out)
                    used.update((k, k + 1))
                    break
        for k, word in enumerate(words):
            if k in used or word in _STOP or len(word) < 3:
                continue
            for form in _base_forms(word):
                if not self._wordnet.mostly_noun(form):
                    break  # "keeps", "need", "low": a verb or an adjective here
                found = self._wordnet.kinds(form)
                if found:
                    out.extend(x for x in found if x not in out)
                    break
        return tuple(x.replace("_", " ") for x in out)


_SHARED: KindFinder | None = None
_SHARED_LOCK = threading.Lock()


def shared_finder() -> KindFinder:
    """The process's one finder (the index is read once, lazily, on first use)."""
    global _SHARED  # noqa: PLW0603 - a process-wide cache of a read-only file
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = KindFinder()
        return _SHARED

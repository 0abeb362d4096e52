"""Restore the apostrophes of contractions that speech-to-text writes without them ("ive", "youll").

Recognisers that do not punctuate (and some that do) write "ive added a bag youll get an email": the
promise is in "I've" and "you'll", which the extractor's patterns read. Only spellings that are not English
words of their own are restored everywhere; "ill", "well", "its", "were", "shell", "hell" are words too, and
are restored only where a word cannot stand: "ill"/"well" before a verb in subject position.
"""

from __future__ import annotations

import re
from typing import Final

# Spellings that are never words of their own.
_ALWAYS: Final = {
    "ive": "i've", "youll": "you'll", "itll": "it'll", "theyll": "they'll", "weve": "we've", "youve": "you've",
    "theyve": "they've", "youre": "you're", "theyre": "they're", "theres": "there's", "thats": "that's",
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "cant": "can't", "wont": "won't", "isnt": "isn't",
    "arent": "aren't", "wasnt": "wasn't", "havent": "haven't", "hasnt": "hasn't", "im": "i'm", "shes": "she's",
    "hes": "he's", "whats": "what's", "shouldnt": "shouldn't", "wouldnt": "wouldn't", "couldnt": "couldn't",
    "itd": "it'd", "youd": "you'd", "theyd": "they'd", "lets": "let's",
}  # fmt: skip
_ALWAYS_RE: Final = re.compile(r"\b(" + "|".join(_ALWAYS) + r")\b", re.I)
# "ill" and "well" are contractions when a subject cannot precede them as adjective/adverb: at the start of a
# clause (sentence start, after and/so/then/ok/okay/sure/now/once/when/if or a pronoun object "it"), and
# followed by a word (a verb), not by punctuation: "ill send it", "once they approve it well fill it".
# After an interjection "well" comes a clause (a pronoun, article, conjunction), not a bare verb.
_NOT_VERBS: Final = (
    "as|be|done|known|then|i|i'm|you|you're|we|it|it's|that|that's|this|there|there's|the|a|an|so|ok|okay|"
    "let|let's|um|uh|actually|now|in|yes|no|sure|if|what|how|my|your|our|his|her|they|he|she|anyway"
)
_ILL_WELL: Final = re.compile(
    r"(^|[.!?,;]\s+|\b(?:and|so|then|ok|okay|sure|now|once|when|if|it|them|that)\s+)"
    rf"(ill|well)\b(?=\s+(?!(?:{_NOT_VERBS})\b)[a-z])",
    re.I,
)


_SUBJECT_FORMS: Final = {"ill": "i'll", "well": "we'll"}


def restore(text: str) -> str:
    """Return ``text`` with the apostrophes of contractions restored."""
    text = _ALWAYS_RE.sub(lambda m: _cased(m.group(1), _ALWAYS[m.group(1).lower()]), text)
    return _ILL_WELL.sub(lambda m: m.group(1) + _cased(m.group(2), _SUBJECT_FORMS[m.group(2).lower()]), text)


def _cased(original: str, replacement: str) -> str:
    return replacement.capitalize() if original[:1].isupper() else replacement

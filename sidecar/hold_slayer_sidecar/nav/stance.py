"""New or existing: the split almost every menu makes, which sentence embeddings do not see.

Menus divide callers who want something new ("book a new holiday", "join", "get a quote") from callers about
something they already have ("manage a booking you already have", "an existing claim", "freeze or cancel your
membership"). MiniLM scores "I have to cancel my holiday" closer to "book a new holiday" than to "manage a booking
you already have" because both say "holiday". A caller who wants to change, move, cancel or follow up on *their*
thing stands on the existing side; one who wants to buy, book, join or open something stands on the new side.
The bonus is small (one shared word's worth): it breaks a near tie between the two sides, never overrides meaning.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Verbs and phrases about something the caller already holds: change it, end it, ask where it stands.
_CHANGE = re.compile(
    r"\b(?:cancel(?:l?ing)? (?:my|our|the|it|this|that)|chang(?:e|ing) (?:my|our|the|it|this|that|when|where)"
    r"|reschedul\w*|postpon\w*|modif\w*|mov(?:e|ing) (?:my|our|the) \w+ (?:back|forward|up|to)"
    r"|push (?:\w+ )?back|end (?:my|our)|terminat\w*|quit|freez\w*|pause|renew\w*|extend\w*|follow(?:ing)? up"
    r"|hear(?:d)? back|already|existing|still (?:waiting|haven't|have not|no)|waiting (?:on|for|to hear)"
    r"|add (?:\w+ )?to (?:my|our)|remove (?:\w+ )?from (?:my|our))\b"
)
_NEW = re.compile(
    r"\b(?:book (?:a|an|some)|buy\w*|purchas\w*|join|sign(?:ing)? up|open (?:a|an)|get (?:a|an) (?:quote|price)"
    r"|price for|quote|new (?:customer|member|patient|client|account|policy)|organi[sz]e|plan(?:ning)? (?:a|an)"
    r"|looking (?:to|for) (?:a|an)|interested in)\b"
)
# Labels on each side. "your X" names something the caller has; "new" / "book a" / "join" something they do not.
_LABEL_EXISTING = re.compile(
    r"\b(?:existing|already|current|manage|change|cancel\w*|modify|reschedul\w*|status|follow[- ]?up|renew\w*"
    r"|freeze|your (?:\w+ )?(?:booking|reservation|trip|account|policy|membership|appointment|order|claim|plan"
    r"|service))\b"
)
_LABEL_NEW = re.compile(
    r"\b(?:new|book (?:a|an)|join|sign up|open (?:a|an)|quotes?|buy|purchase|sales|enrol\w*|schedul\w*"
    r"|make (?:a|an) (?:appointment|booking|reservation))\b"
)
_STANCE_BONUS = 0.15  # a shared content word and a bit (matcher._WORD_BONUS): the side outweighs one shared topic word


class Stance(StrEnum):
    """Which side of the new/existing split a caller or a label stands on."""

    NEW = "new"
    EXISTING = "existing"
    NONE = "none"


def intent_stance(intent: str) -> Stance:
    """Tell whether the caller wants something new or is calling about something they already have."""
    text = intent.lower()
    change, new = bool(_CHANGE.search(text)), bool(_NEW.search(text))
    if change == new:
        return Stance.NONE  # neither, or both ("cancel my booking and book a new one"): no evidence
    return Stance.EXISTING if change else Stance.NEW


def label_stance(label: str) -> Stance:
    """Tell which side a menu label serves (NONE for labels that name a topic only)."""
    text = label.lower()
    existing, new = bool(_LABEL_EXISTING.search(text)), bool(_LABEL_NEW.search(text))
    if existing == new:
        return Stance.NONE  # "join or upgrade", "new and existing customers": both sides
    return Stance.EXISTING if existing else Stance.NEW


def stance_bonus(caller: Stance, label: str) -> float:
    """Plus for a label on the caller's side, minus for one on the other side, zero when either is unknown."""
    if caller is Stance.NONE:
        return 0.0
    side = label_stance(label)
    if side is Stance.NONE:
        return 0.0
    return _STANCE_BONUS if side is caller else -_STANCE_BONUS

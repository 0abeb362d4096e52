"""New or existing: the caller's side of the split, the label's side, and the small bonus between them."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.matcher import reason_clauses
from hold_slayer_sidecar.nav.stance import Stance, intent_stance, label_stance, stance_bonus


@pytest.mark.parametrize(
    ("intent", "want"),
    [
        ("I have to cancel my holiday because I'm ill", Stance.EXISTING),
        ("I need to move my trip to Rome back by a week", Stance.EXISTING),
        ("I'm waiting to hear back about the fender bender I reported", Stance.EXISTING),
        ("I'd like to reschedule my cleaning", Stance.EXISTING),
        ("I'd like to organise a tour for my choir", Stance.NEW),
        ("I want to book a cruise in March", Stance.NEW),
        ("I'd like to join the gym", Stance.NEW),
        # Adjectives and nouns are not the caller's act: "cancelled flight", "oil change".
        ("I want a refund for my cancelled flight", Stance.NONE),
        ("My check engine light came on and I need an oil change too", Stance.NONE),
        ("Cancel my booking and book a new one", Stance.NONE),  # both sides: no evidence
        ("My wifi keeps dropping", Stance.NONE),
    ],
)
def test_intent_stance(intent: str, want: Stance) -> None:
    assert intent_stance(intent) is want


@pytest.mark.parametrize(
    ("label", "want"),
    [
        ("manage a booking you already have", Stance.EXISTING),
        ("an existing claim", Stance.EXISTING),
        ("freeze or cancel your membership", Stance.EXISTING),
        ("book a new holiday", Stance.NEW),
        ("quotes", Stance.NEW),
        ("join or upgrade", Stance.NEW),
        ("schedule, change or cancel an appointment", Stance.NONE),  # both sides
        ("billing", Stance.NONE),
    ],
)
def test_label_stance(label: str, want: Stance) -> None:
    assert label_stance(label) is want


def test_the_bonus_breaks_ties_only() -> None:
    assert stance_bonus(Stance.EXISTING, "an existing reservation") > 0
    assert stance_bonus(Stance.EXISTING, "book a new trip") < 0
    assert stance_bonus(Stance.NONE, "book a new trip") == 0
    assert stance_bonus(Stance.NEW, "billing") == 0
    # Never more than about one shared word: meaning decides, the side only tips a near tie.
    assert abs(stance_bonus(Stance.NEW, "book a new trip")) <= 0.15


def test_reason_clauses() -> None:
    assert reason_clauses("I'm moving abroad and need to end my gym contract") == [
        "I'm moving abroad",
        "need to end my gym contract",
    ]
    assert reason_clauses("My daughter needs braces") == []  # one clause: the whole reason is enough
    assert len(reason_clauses("a, b and c, d and e because f, g h, i j, k l")) <= 4

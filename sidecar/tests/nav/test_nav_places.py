"""Places named in an intent: home or abroad for the caller's country."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.places import PLACE_BONUS, place_bonus, places_named, trip_scope


def test_longest_names_win_and_regions_count() -> None:
    assert places_named("From New York City to Mexico City, then Europe") == [
        ("new york city", "US"),
        ("mexico city", "MX"),
        ("europe", "XE"),
    ]


@pytest.mark.parametrize(
    ("text", "home", "scope"),
    [
        ("I want to book a flight to Paris", "US", "abroad"),
        ("I want to buy tickets to Chicago", "US", "home"),
        ("Flying from Denver to Toronto", "US", "abroad"),
        ("Flying from Denver to Toronto", "CA", "abroad"),
        ("a weekend in Lyon", "fr", "home"),
        ("I'd like a nice window seat", "US", None),  # common words are not places
        ("My suitcase did not arrive", "US", None),
    ],
)
def test_trip_scope(text: str, home: str, scope: str | None) -> None:
    assert trip_scope(text, home) == scope


def test_the_bonus_goes_only_to_the_label_that_serves_the_trip() -> None:
    paris, chicago = trip_scope("a flight to Paris", "US"), trip_scope("tickets to Chicago", "US")
    assert place_bonus(paris, "international flights") == PLACE_BONUS
    assert place_bonus(paris, "domestic flights") == 0.0
    assert place_bonus(chicago, "domestic flights") == PLACE_BONUS
    assert place_bonus(chicago, "international flights") == 0.0
    assert place_bonus(paris, "baggage claims") == 0.0

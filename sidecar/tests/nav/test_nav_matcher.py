"""The embedded matcher picks the option a person would pick, with the real MiniLM model from its package."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.nav.api import MenuOption
from hold_slayer_sidecar.nav.embedder import MiniLmEmbedder
from hold_slayer_sidecar.nav.matcher import MenuMatcher, sound_fixed, without_company_words


@pytest.fixture(scope="module")
def matcher() -> MenuMatcher:
    return MenuMatcher(MiniLmEmbedder.shared())


BANK = [
    MenuOption("1", "credit and debit cards"),
    MenuOption("2", "checking and savings accounts"),
    MenuOption("3", "mortgages and loans"),
    MenuOption("4", "report fraud"),
    MenuOption("9", "hear these options again"),
]
TELCO = [
    MenuOption("1", "billing"),
    MenuOption("2", "technical support"),
    MenuOption("3", "upgrade your phone or plan"),
    MenuOption("4", "cancel your service"),
]


@pytest.mark.parametrize(
    ("intent", "options", "digit"),
    [
        ("I lost my debit card", BANK, "1"),
        ("I have a question about refinancing my mortgage", BANK, "3"),
        ("Someone is using my account and I think it's fraud", BANK, "4"),
        ("I want to open a new savings account", BANK, "2"),
        ("There is a charge on my bill I don't understand", TELCO, "1"),
        ("My mobile internet is not working", TELCO, "2"),
        ("I want to upgrade to the new iPhone", TELCO, "3"),
        ("I want to cancel my contract", TELCO, "4"),
    ],
)
def test_picks_the_right_option(matcher: MenuMatcher, intent: str, options: list[MenuOption], digit: str) -> None:
    result = matcher.choose(intent, options)
    assert result.option is not None
    assert result.option.digit == digit


def test_never_picks_menu_plumbing(matcher: MenuMatcher) -> None:
    result = matcher.choose("please repeat the options", BANK)
    assert result.option is not None
    assert result.option.digit != "9"


def test_unsure_prefers_the_person_option(matcher: MenuMatcher) -> None:
    options = [MenuOption("1", "hours and locations"), MenuOption("0", "speak to a representative")]
    result = matcher.choose("My neighbour's dog keeps barking at night", options)
    assert result.option == MenuOption("0", "speak to a representative")
    assert result.reason == "unsure: person"


def test_excluded_digits_are_skipped(matcher: MenuMatcher) -> None:
    result = matcher.choose("I lost my debit card", BANK, exclude=frozenset({"1"}))
    assert result.option is not None
    assert result.option.digit != "1"


def test_no_options_means_no_choice(matcher: MenuMatcher) -> None:
    assert matcher.choose("anything", []).option is None


def test_embeddings_match_sentence_transformers_reference() -> None:
    # Published all-MiniLM-L6-v2 cosine scores (sentence-transformers quickstart).
    embedder = MiniLmEmbedder.shared()
    a, b = embedder.embed(["The new movie is awesome", "The new movie is so great"])
    assert float(a @ b) == pytest.approx(0.8939, abs=2e-3)
    assert float(np.linalg.norm(a)) == pytest.approx(1.0, abs=1e-5)
    c, d = embedder.embed(["I love pasta", "Do you like pizza?"])
    assert float(c @ d) == pytest.approx(0.5096, abs=2e-3)


def test_each_hearing_of_a_replayed_label_is_scored_on_its_own(matcher: MenuMatcher) -> None:
    # Two hearings of one menu merged by the parser: the garbled first hearing must not drown the second.
    options = [
        MenuOption("1", "report a power outage"),
        MenuOption("2", "billing and payments"),
        MenuOption("3", "start i'll put me with your term / start, stop or move your service"),
        MenuOption("4", "water service"),
    ]
    result = matcher.choose("I'm moving and need to transfer my service to a new address", options)
    assert result.option is not None and result.option.digit == "3"


def test_opening_an_account_is_not_described_as_my_balance(matcher: MenuMatcher) -> None:
    options = [
        MenuOption("1", "your balance and recent transactions"),
        MenuOption("2", "open a new account"),
        MenuOption("3", "online banking help"),
    ]
    result = matcher.choose("I want to check my account balance", options)
    assert result.option is not None and result.option.digit == "1"


FLIGHTS = [
    MenuOption("1", "domestic flights"),
    MenuOption("2", "international flights"),
    MenuOption("3", "group travel of ten or more people"),
]


@pytest.mark.parametrize(
    ("intent", "home", "digit"),
    [
        ("I want to book a flight to Paris", "US", "2"),
        ("I want to buy tickets to Chicago", "US", "1"),
        ("We fly from Boston to Rome in May", "US", "2"),
        ("I want to book a flight to Paris", "FR", "1"),  # domestic is wherever the caller lives
    ],
)
def test_a_named_place_decides_domestic_or_international(intent: str, home: str, digit: str) -> None:
    matcher = MenuMatcher(MiniLmEmbedder.shared(), home_country=home)
    result = matcher.choose(intent, FLIGHTS)
    assert result.option is not None and result.option.digit == digit and result.clear


def test_a_label_word_said_in_another_accent_is_read_as_the_caller_s_word(matcher: MenuMatcher) -> None:
    """Northside's New York voice says "nurse" so that speech-to-text writes "noise"."""
    clinic = [
        MenuOption("1", "change or cancel an appointment"),
        MenuOption("2", "prescription refills"),
        MenuOption("3", "billing and insurance"),
        MenuOption("4", "speak with a noise"),
    ]
    result = matcher.choose("My child has a fever and I want to talk to a nurse", clinic)
    assert result.option == clinic[3] and result.clear
    # Nobody asked for a nurse: the noise stays noise and billing questions still go to billing.
    assert matcher.choose("I have a question about my bill", clinic).option == clinic[2]
    assert sound_fixed("My child has a fever and I want to talk to a nurse", "speak with a noise") == (
        "speak with a nurse"
    )
    assert sound_fixed("a question about my bill", "speak with a noise") is None


@pytest.mark.parametrize(
    ("intent", "name", "expected"),
    [
        (
            "I'm moving house and need the gas connected at the new place",
            "harbor gas and electric",
            "I'm moving house and need the connected at the new place",
        ),
        ("I can't log in to online banking", "first city bank", "I can't log in to online banking"),  # exact words only
        ("My gas bill", "harbor gas and electric", "My gas bill"),  # too little would remain
        ("My power is out", "", "My power is out"),
    ],
)
def test_the_company_s_own_name_does_not_tell_its_options_apart(intent: str, name: str, expected: str) -> None:
    assert without_company_words(intent, name) == expected


# General department names read in callers' words (nav/glossary.py): each pair is a trade's common split.
BAGGAGE = [MenuOption("1", "a delayed or missing bag"), MenuOption("2", "damaged baggage")]
PROPERTY = [
    MenuOption("1", "maintenance requests"),
    MenuOption("2", "rent payments and your tenant ledger"),
    MenuOption("3", "current vacancies and showings"),
]
MOBILE = [MenuOption("1", "no signal or dropped calls"), MenuOption("2", "billing")]
GARAGE = [MenuOption("1", "service department"), MenuOption("2", "body shop for collision repairs")]


@pytest.mark.parametrize(
    ("intent", "options", "digit"),
    [
        ("My suitcase never came off the plane", BAGGAGE, "1"),
        ("My oven stopped heating", PROPERTY, "1"),
        ("Did you receive my check", PROPERTY, "2"),
        ("Do you have a one bedroom I could look at", PROPERTY, "3"),
        ("I have no bars at home and calls keep cutting out", MOBILE, "1"),
        ("Somebody hit my car in a parking lot and dented the door", GARAGE, "2"),
        ("My check engine light is on", GARAGE, "1"),
    ],
)
def test_department_names_in_callers_words(
    matcher: MenuMatcher, intent: str, options: list[MenuOption], digit: str
) -> None:
    assert matcher.rank(intent, options)[0].option.digit == digit


_INSPECTION = MenuOption("1", "a new customer and would like an inspection")
_SCHEDULED = MenuOption("2", "already have a treatment scheduled and need to change it")
_TRAINER = MenuOption("3", "book a personal trainer")
_JOINING = MenuOption("4", "not a member yet hear about joining")


@pytest.mark.parametrize(
    ("intent", "options", "digit"),
    [
        ("There's a wasp nest under our deck and I've never used you before", [_INSPECTION, _SCHEDULED], "1"),
        ("How much does it cost to sign up", [_TRAINER, _JOINING], "4"),
    ],
)
def test_who_the_caller_is_is_understood(
    matcher: MenuMatcher, intent: str, options: list[MenuOption], digit: str
) -> None:
    """Menus split callers by who they are (new, not a member yet) in words the caller does not use."""
    assert matcher.choose(intent, options).ranked[0].option.digit == digit

"""Every common menu wording, several phrasings each, including the recogniser's usual errors."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.api import MenuOption
from hold_slayer_sidecar.nav.parser import asks_for_data, asks_for_speech, is_repeat, parse_options


def keys(text: str) -> dict[str, str]:
    return {o.digit: o.label for o in parse_options(text)}


WORDINGS = {
    "press N for X": [
        ("Press 1 for billing. Press 2 for technical support.", {"1": "billing", "2": "technical support"}),
        ("press one for billing press two for technical support", {"1": "billing", "2": "technical support"}),
        ("Please press 3 for store hours.", {"3": "store hours"}),
        ("Press 1 for lost and found, press 2 for passes and fares.", {"1": "lost and found", "2": "passes and fares"}),
    ],
    "for X press N": [
        ("For billing press 1. For outages press 2.", {"1": "billing", "2": "outages"}),
        ("For billing, press one. For outages, press two.", {"1": "billing", "2": "outages"}),
        (
            "for appointments press 1 for billing and dental insurance press 2",
            {"1": "appointments", "2": "billing and dental insurance"},
        ),
    ],
    "to X, press N": [
        ("To pay your bill, press 1. To report an outage, press 2.", {"1": "pay your bill", "2": "report an outage"}),
        ("To book a cruise press 1. To book a group tour press 3.", {"1": "book a cruise", "3": "book a group tour"}),
    ],
    "to reach X, press N": [
        (
            "To reach new car sales, press 1. To reach the parts counter, press 4.",
            {"1": "new car sales", "4": "parts counter"},
        ),
        ("To be connected to our billing team, press 2.", {"2": "billing team"}),
    ],
    "X, press N": [
        ("Appointments, press 1. Emergencies, press 3.", {"1": "appointments", "3": "emergencies"}),
        ("Dental cleaning, press 1. Surgery follow up, press 2.", {"1": "dental cleaning", "2": "surgery follow up"}),
    ],
    "if you ... press N": [
        (
            "If you lost your card, press 1. If you are calling about a loan, press 3.",
            {"1": "lost your card", "3": "a loan"},
        ),
        ("If you have a question about an existing loan press 2.", {"2": "a question about an existing loan"}),
        ("If you'd like to hear your balance, press 4.", {"4": "hear your balance"}),
        ("If you lost your key fob, press 4.", {"4": "lost your key fob"}),
        (
            "If you believe your assessment is too high, press 2. If you want to file an appeal, press 1.",
            {"2": "believe your assessment is too high", "1": "file an appeal"},
        ),
    ],
    "say or press": [
        ("For billing, say billing or press 1. For support, say support or press 2.", {"1": "billing", "2": "support"}),
        (
            "You can say tracking or press 1. Say claims or press 2. Or say agent or press 0.",
            {"1": "tracking", "2": "claims", "0": "agent"},
        ),
        ("To make a payment, say payment, or press 1.", {"1": "make a payment"}),
        ("Press 1 or say billing for billing questions.", {"1": "billing questions"}),
    ],
    "for X press N, no commas, nine options": [
        (
            "For a delayed bag press 1. For damaged baggage press 2. For pets press 6. "
            "To hear these choices again press 9.",
            {"1": "a delayed bag", "2": "damaged baggage", "6": "pets", "9": "hear these choices again"},
        ),
    ],
    "options spread over several prompts": [
        (
            "Welcome. If your phone was lost or stolen, press 5 at any time. "
            "To pay your bill, say billing or press 1. For roaming, say roaming or press 4.",
            {"5": "your phone was lost or stolen", "1": "pay your bill", "4": "roaming"},
        ),
        (
            "Pinecrest Pharmacy. To refill a prescription, press 1. To check on an order, press 2.",
            {"1": "refill a prescription", "2": "check on an order"},
        ),
        (
            "For property taxes, press 1. For parking tickets, press 2. For permits, press 3.",
            {"1": "property taxes", "2": "parking tickets", "3": "permits"},
        ),
        ("For prescription refills. Press 2. For billing. Press 3.", {"2": "prescription refills", "3": "billing"}),
        # A question leads the next key's option: it is that option's, not the tail of the label before it.
        (
            "Members: press 1 to cancel your membership, or press 2 to book a trainer. Not a member yet? "
            "Press 3 to hear about joining.",
            {"1": "cancel your membership", "2": "book a trainer", "3": "not a member yet hear about joining"},
        ),
    ],
    "STT errors": [
        ("Press to for billing. Press 3 for claims.", {"2": "billing", "3": "claims"}),  # "press to" is "press 2"
        ("Press 1 for claims. Press for. For billing.", {"1": "claims", "4": "billing"}),  # "for" is "four"
        ("Press 2. 4. Billing. Press 3. 4. Claims.", {"2": "billing", "3": "claims"}),  # "for" written "4"
        ("Press three for roadside assistance.", {"3": "roadside assistance"}),  # digits as words
        ("Press too for billing.", {"2": "billing"}),
        # Real tiny.en on flite awb: "Press 2 for a power outage" written "Press 2. 4 to power outage".
        (
            "Press 1 for gas leaks. Press 2. 4 to power outage. Press 3 for your bill.",
            {"1": "gas leaks", "2": "power outage", "3": "bill"},
        ),
    ],
}
CASES = [(w, text, want) for w, rows in WORDINGS.items() for text, want in rows]


@pytest.mark.parametrize(("wording", "text", "want"), CASES, ids=[f"{w}: {t[:40]}" for w, t, _ in CASES])
def test_wording(wording: str, text: str, want: dict[str, str]) -> None:
    got = keys(text)
    assert set(got) == set(want), got
    for key, label in want.items():
        assert label in got[key].lower(), (key, got)


@pytest.mark.parametrize(
    "text",
    [
        "Please enter your account number followed by pound.",
        "Enter your ten digit account number, followed by the pound key.",
        "Please enter your six digit booking reference, followed by the hash key.",
        "Using your keypad, enter your member number followed by the pound sign.",
    ],
)
def test_a_request_for_data_offers_no_option(text: str) -> None:
    assert parse_options(text) == []
    assert not asks_for_speech(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please enter your account number followed by pound.",
        "Enter your ten digit account number, followed by the pound key.",
    ],
)
def test_a_request_for_an_account_number_is_data(text: str) -> None:
    assert asks_for_data(text)


@pytest.mark.parametrize(
    "text",
    [
        "To go back, press star.",
        "Press star to go back.",
        "To return to the main menu, press star.",
        "Press the star key to return to the previous menu.",
    ],
)
def test_press_star_to_go_back_is_plumbing(text: str) -> None:
    (option,) = parse_options(text)
    assert option.digit == "*"
    assert is_repeat(MenuOption(option.digit, option.label))


def test_a_client_number_prompt_offers_only_its_escape_key() -> None:
    text = "Please enter your client number followed by the pound key. If you do not have one, press star."
    assert list(keys(text)) == ["*"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("For billing, press 1. For claims, press 2. For roadside help.", {"3": "roadside help"}),
        (
            "To change a delivery, press 1. If your parcel is late. "
            "To change a delivery, press 1. If your parcel is late.",
            {"2": "your parcel is late"},
        ),
    ],
)
def test_a_last_option_whose_key_was_lost_takes_the_next_key(text: str, want: dict[str, str]) -> None:
    got = keys(text)
    for key, label in want.items():
        assert label in got[key]


@pytest.mark.parametrize(
    "text",
    [
        "For billing, press 1. For claims, press 2. For all other questions, stay on the line.",
        "For billing, press 1. For claims, press 2. For anything else.",  # often 0 or 9: no guess
        "Press 1 for billing. Press 2 for claims. Thank you for calling.",
    ],
)
def test_no_key_is_guessed_for_closing_words(text: str) -> None:
    assert set(keys(text)) == {"1", "2"}

"""Menu options parsed from real-world (and STT-mangled) IVR wordings."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.api import MenuOption
from hold_slayer_sidecar.nav.parser import (
    anchor_keys,
    asks_for_data,
    asks_for_speech,
    is_repeat,
    offers_choice,
    parse_options,
    reaches_person,
    replay_keys,
)

CASES: list[tuple[str, dict[str, str]]] = [
    ("Press 2 for card services.", {"2": "card services"}),
    ("For card services press 2", {"2": "card services"}),
    ("For card services, press two.", {"2": "card services"}),
    ("To speak to a representative, press 0.", {"0": "speak to a representative"}),
    ("If you are calling about a claim, press 1.", {"1": "a claim"}),
    ("Press 1 if you are a new customer.", {"1": "a new customer"}),
    ("For billing, say billing or press 1. For support, say support or press 2.", {"1": "billing", "2": "support"}),
    ("Say or press 3 for pharmacy.", {"3": "pharmacy"}),
    ("For all other inquiries, press oh.", {"0": "all other inquiries"}),
    ("To return to the main menu, press star.", {"*": "return to the main menu"}),
    ("To repeat these options, press the pound key.", {"#": "repeat these options"}),
    ("For balances press hash", {"#": "balances"}),
    # STT output without punctuation, both orders, and a label before the last key.
    (
        "press one for billing press two for claims to speak to a representative press zero",
        {"1": "billing", "2": "claims", "0": "speak to a representative"},
    ),
    ("for billing press 1 for claims press 2", {"1": "billing", "2": "claims"}),
    # Homophones of digits right after "press".
    ("For card services press to. For loans, press for.", {"2": "card services", "4": "loans"}),
    ("For billing press won", {"1": "billing"}),
    # A repeated menu keeps the first label.
    (
        "For card services, press 2. For loans, press 3. For card services, press 2.",
        {"2": "card services", "3": "loans"},
    ),
    # Preamble before the first option, with and without punctuation.
    (
        "Thank you for calling Acme Bank. Please listen carefully as our options have changed. For fraud press 4.",
        {"4": "fraud"},
    ),
    ("thank you for calling acme bank for card services press 2", {"2": "card services"}),
    (
        "If your flight is within the next twenty four hours, press 1.",
        {"1": "your flight is within the next twenty four hours"},
    ),
    ("Please select option 5 for the lost and found.", {"5": "the lost and found"}),
    # Real tiny.en transcripts of espeak prompts: stray full stops, "for" heard as "4", labels split off.
    (
        "Press 1. To report a power outage. Press 2. 4. Building and Payment. Press 3 to start.",
        {"1": "report a power outage", "2": "building and payment", "3": "start"},
    ),
    (
        "To schedule, change or cancel an appointment. Press 1. For a trip, shouldn't reveal. Press 2.",
        {"1": "schedule, change or cancel an appointment", "2": "a trip, shouldn't reveal"},
    ),
    (
        "For a new appointment, press 1. Change or cancel an existing appointment. Press 2.",
        {"1": "a new appointment", "2": "change or cancel an existing appointment"},
    ),
    ("press 1 for billing to speak to an agent press 0", {"1": "billing", "0": "speak to an agent"}),
    # The recogniser dropped "press 2" (clipped segment onset): an orphan "for X" between keys 1 and 3.
    (
        "Press 1 to report to our outage. For billing and payment. Press 3 to start.",
        {"1": "report to our outage", "2": "billing and payment", "3": "start"},
    ),
    ("For billing, press 1. For claims. For loans, press 3.", {"1": "billing", "2": "claims", "3": "loans"}),
    (
        "Press 1 to report a power outage. 2. 4. Billing and payments.",
        {"1": "report a power outage", "2": "billing and payments"},
    ),
    ("Press 1 for billing. Press 3 for loans.", {"1": "billing", "3": "loans"}),
    # A prompt cut mid-menu: the trailing words are the next option, not the label of key 1.
    (
        "If your flight is within the next 24 hours, press 1. For all other changes or cancellations.",
        {"1": "your flight is within the next 24 hours"},
    ),
    # A greeting sentence starting with "if" before an "after"-worded menu.
    (
        "If you smell gas, hang up and call nine one one. Press 1 to report a power outage.",
        {"1": "report a power outage"},
    ),
    ("press 1 for billing. to speak to an agent press 0", {"1": "billing", "0": "speak to an agent"}),
    # Real tiny.en transcripts of a key cut off its label by the VAD: "Press 3." heard as "F3." or "3.".
    (
        "You'll change or cancel an appointment. Press 1. For a script, shouldn't reveal. Press 2. "
        "For billing, end insurance questions. F3. And speak with a note. Press 4.",
        {
            "1": "you'll change or cancel an appointment",
            "2": "a script, shouldn't reveal",
            "3": "billing, end insurance questions",
            "4": "speak with a note",
        },
    ),
    ("For billing. F1. For claims. Chris 2. Loans. 3.", {"1": "billing", "2": "claims", "3": "loans"}),
    # ... but a lone digit right after a key is that key's "for" ("Press 2. 4. Billing"), written glued too.
    (
        "Press 1. To report a power outage. Press 2.4 million and payment.",
        {"1": "report a power outage", "2": "million and payment"},
    ),
    ("Press 0.4. Anything else.", {"0": "anything else"}),
    # Every key its own sentence: an emergency notice before the first key is no label, so labels follow keys.
    (
        "High up, and go 9-1-1. Press 1. To report a power outage. Press 2. For billing and payment. "
        "Press 3. I'll put a move your term. Press 4.",
        {"1": "report a power outage", "2": "billing and payment", "3": "i'll put a move your term"},
    ),
    # "or press 3" heard as "press 1.3": the second digit is the key.
    (
        "For billing, press 1. For support, press 2. You'll upgrade your phone or plan. Say, press 1.3. "
        "Make a handle for press 4.",
        {"1": "billing", "2": "support", "3": "you'll upgrade your phone or plan say", "4": "make a handle for"},
    ),
    # A dropped "Press 2 to dispute a charge" whose words came out without a "for"/"to".
    (
        "Press 1 to report a lost card. Let's do this new challenge for a transaction. Press 3 to activate a card.",
        {"1": "report a lost card", "2": "let's do this new challenge for a transaction", "3": "activate a card"},
    ),
    # A key alone between two labels closes the label before it ("Press 1." heard as "1." or "That's one.").
    (
        "If your flight is within the next 24 hours. 1. For all other changes.",
        {"1": "your flight is within the next 24 hours"},
    ),
    (
        "If your flight is within the next 24 hours. That's one. For all other changes. Press 2.",
        {"1": "your flight is within the next 24 hours", "2": "all other changes"},
    ),
    (
        "You can't handle an appointment. Yes, 1. For this trip. Press 2.",
        {"1": "you can't handle an appointment", "2": "this trip"},
    ),
    # A greeting without an intro word before the first label ends at its full stop.
    (
        "Thank you for calling Northside Family Clinic. You'll change what cancels an appointment. Press 1. "
        "For billing. Press 2.",
        {"1": "you'll change what cancels an appointment", "2": "billing"},
    ),
]


@pytest.mark.parametrize(("prompt", "expected"), CASES)
def test_parse_options(prompt: str, expected: dict[str, str]) -> None:
    assert {o.digit: o.label for o in parse_options(prompt)} == expected


@pytest.mark.parametrize(
    "prompt",
    [
        "If this is a medical emergency, please hang up and dial nine one one.",
        "If you smell gas, hang up and call 911.",
        "Please enter your account number followed by the pound key.",
        "Thank you for calling First City Bank. Calls may be recorded.",
        "Press 123 to hear the disclaimer.",
        # Emergency notices as tiny.en wrote them: the number to dial is never a menu key.
        "If this is a medical emergency, please hang up and dial. 1. For",
        "If this is an emergency, please hang up. And dial 1.",
        "Hang up and dial 9.1.1.",
        "And dialed I-1-1.",
        "",
    ],
)
def test_prompts_without_menu_keys(prompt: str) -> None:
    assert parse_options(prompt) == []


def test_options_keep_spoken_order() -> None:
    digits = [o.digit for o in parse_options("Press 3 for loans. Press 1 for cards. Press 0 for an operator.")]
    assert digits == ["3", "1", "0"]


def test_anchor_keys_reveal_a_replayed_menu() -> None:
    assert anchor_keys("Press 1 for A. Press 2 for B. Press 1 for A.") == ["1", "2", "1"]


def test_a_key_heard_twice_in_a_row_is_no_replay() -> None:
    # Real tiny.en transcript of "To change or cancel a flight, press 1. For seat selection ..., press 2."
    heard = "Change your cancel of flight. Press 1. Press 1. Proceed selection and special assistance."
    assert anchor_keys(heard) == ["1", "1"]
    assert replay_keys(heard) == ["1"]
    assert replay_keys("Press 1 for A. Press 2 for B. Press 1 for A.") == ["1", "2", "1"]


@pytest.mark.parametrize(
    ("label", "person", "plumbing"),
    [
        ("speak to a representative", True, False),
        ("speak with a nurse", False, False),  # a department, not a person to sort the call out
        ("talk to someone", True, False),
        # A person about a topic is that topic's desk; about "anything else" it is the operator again.
        ("speak to someone about a business license", False, False),
        ("talk to a representative about a new policy", False, False),
        ("speak to someone about anything else", True, False),
        ("speak to a representative for all other questions", True, False),
        ("all other inquiries", True, False),
        ("an operator", True, False),
        ("billing", False, False),
        ("hear these options again", False, True),
        ("return to the main menu", False, True),
    ],
)
def test_option_kinds(label: str, person: bool, plumbing: bool) -> None:
    option = MenuOption("0", label)
    assert reaches_person(option) is person
    assert is_repeat(option) is plumbing


@pytest.mark.parametrize(
    ("prompt", "speech", "data"),
    [
        ("Please tell me, in a few words, the reason for your call.", True, False),
        ("In a few words, tell me what you're calling about.", True, False),
        ("How can I help you today?", True, False),
        ("Please enter your account number followed by pound.", False, True),
        ("Please say your date of birth.", False, True),
        ("Press 1 for billing.", False, False),
    ],
)
def test_prompt_kinds(prompt: str, speech: bool, data: bool) -> None:
    assert asks_for_speech(prompt) is speech
    assert asks_for_data(prompt) is data


def test_a_replayed_menu_keeps_the_words_of_both_hearings() -> None:
    prompt = "Press 1 for outages. Press 3 to start. Press 1 for outages. Press 3 to stop or move your service."
    labels = {o.digit: o.label for o in parse_options(prompt)}
    assert labels == {"1": "outages", "3": "start / stop or move your service"}


def test_a_key_misheard_as_an_earlier_one_keeps_that_option_selectable() -> None:
    # Real tiny.en transcript: "Press 9 to hear these options again" heard as "Press 1. To hear ... again".
    heard = "Press 1 for transit and transit cards. Press 2 for checking accounts. Press 1. To hear the motion again."
    options = {o.digit: o for o in parse_options(heard)}
    assert options["1"].label == "transit and transit cards / hear the motion again"
    assert not is_repeat(options["1"])
    assert is_repeat(MenuOption("9", "hear these options again / repeat the menu"))


def test_a_second_hearing_may_open_a_label() -> None:
    from hold_slayer_sidecar.nav.parser import label_hearings

    assert label_hearings("/ to change or cancel an appointment") == ["to change or cancel an appointment"]
    assert label_hearings("talk / start, stop or move your service") == ["talk", "start, stop or move your service"]
    assert label_hearings("24/7 support") == ["24/7 support"]


@pytest.mark.parametrize(
    ("text", "menu"),
    [
        ("Billing. To make a payment, say payment or press 1. To ask about a charge, say charge or press 2.", True),
        ("For billing press 1. For support press 2. To hear these options again, press 9.", True),
        ("Billing. To make a payment, say payment or press 1.", False),  # one key: maybe still playing
        ("If you would like to keep holding, press 1. To request a callback, press 2.", False),
        ("Press 1 to leave a voicemail. Press 2 for billing.", False),
        ("To take a short survey after this call, press 1. To continue waiting, press 2.", False),
        ("Your call is important to us. Please stay on the line.", False),
    ],
)
def test_offers_choice_tells_a_menu_from_the_queue_s_own_offers(text: str, menu: bool) -> None:
    assert offers_choice(text) is menu

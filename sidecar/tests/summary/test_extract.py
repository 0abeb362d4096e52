"""The embedded extractor on lines as speech-to-text writes them, including hostile input."""

from __future__ import annotations

from datetime import date

import pytest
from hold_slayer_sidecar.summary.contractions import restore
from hold_slayer_sidecar.summary.extract import extract, find_agent_name, find_amounts, find_references, is_commitment
from hold_slayer_sidecar.summary.llm import parse_reply, summarize
from hold_slayer_sidecar.summary.model import Said
from hold_slayer_sidecar.voice.api import VoiceEngineError

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("sentence", "codes"),
    [
        ("Your ticket number is T K four eight two one nine.", ["TK48219"]),
        ("the confirmation number for this change is for 4 1 9 2 6", ["441926"]),
        ("Your case number is 5, 5, 0, 1, 2, 3. Thanks", ["550123"]),
        ("your cancellation confirmation is double 7 3 9 2 oh", ["773920"]),
        ("reference CS-48213 please", ["CS48213"]),
        ("In case you need it later, our line is open until 8.", []),
        ("the dispute is usually resolved by March 20th.", []),
        ("Your account number is 1234", []),  # not announced as a reference
        ("ticket", []),
    ],
)
def test_references(sentence: str, codes: list[str]) -> None:
    assert find_references(sentence) == codes


def test_amounts_in_digits_and_words() -> None:
    found = find_amounts("a refund of forty five dollars and twenty cents, a fee of $1,200.50 and 30 euros")
    assert [(a.value, a.currency) for a in found] == [(1200.5, "USD"), (45.2, "USD"), (30.0, "EUR")]


@pytest.mark.parametrize(
    ("sentence", "promise"),
    [
        ("A technician will visit on Tuesday between 8 and 12.", True),
        ("If it's not resolved by Friday, please call us back.", True),
        ("I'll need your date of birth first.", False),
        ("Let me put you on hold for a moment.", False),
        ("Will you hold, please?", False),
        ("We're open Monday to Friday.", False),
    ],
)
def test_commitments(sentence: str, promise: bool) -> None:
    assert is_commitment(sentence) is promise


def test_a_whole_call_resolves_dates_against_the_call_day() -> None:
    lines = [
        Said("agent", "Hi, this is Dana at Acme. Your ticket number is 4 8 2 1 9."),
        Said("you", "My reference is 9 9 9 9 9 and I called on March 1st."),  # the user's words are not extracted
        Said(
            "agent", "A technician will visit on Tuesday, and you'll get a credit of 20 dollars within 5 business days."
        ),
    ]
    summary = extract(lines, MONDAY, "Acme")
    assert summary.agent_name == "Dana" and summary.references == ("48219",)
    assert [d.day for d in summary.dates] == [date(2026, 3, 3), date(2026, 3, 9)]
    assert [(c.text, c.due) for c in summary.commitments] == [
        ("A technician will visit on Tuesday", date(2026, 3, 3)),
        ("you'll get a credit of 20 dollars within 5 business days.", date(2026, 3, 9)),
    ]
    assert summary.as_dict()["reference"] == "48219"
    assert summary.text.startswith("Spoke with Dana at Acme; reference 48219")


def test_hostile_transcripts_do_not_break_it() -> None:
    junk = [
        Said("agent", "ticket " * 5000),
        Said("agent", "9" * 10000),
        Said("agent", "\x00\u202e$$$ dollars"),
        Said("agent", ""),
    ]
    summary = extract(junk, MONDAY, None)
    assert summary.references == ()  # a 10000-digit run is not a reference


class BrokenChat:
    async def complete_json(self, system: str, user: str) -> dict[str, object]:
        raise VoiceEngineError("down")

    async def health(self) -> str:
        return "down"


class InventingChat(BrokenChat):
    async def complete_json(self, system: str, user: str) -> dict[str, object]:
        return {
            "summary": "Refund promised",
            "references": ["48219", "777777"],
            "commitments": [{"text": "refund", "due": "2026-03-09"}],
        }


async def test_llm_failure_falls_back_and_invented_references_are_dropped() -> None:
    lines = [
        Said("agent", "Your ticket number is four eight two one nine. You'll get a refund within 5 business days.")
    ]
    fallback = await summarize(lines, MONDAY, "Acme", BrokenChat())
    assert fallback.method == "embedded" and fallback.references == ("48219",)
    model = await summarize(lines, MONDAY, "Acme", InventingChat())
    assert model.method == "llm" and model.references == ("48219",)  # 777777 was never said
    assert model.commitments[0].due == date(2026, 3, 9)
    assert parse_reply({"references": "not a list"}, lines, None).references == ()


@pytest.mark.parametrize(
    ("text", "restored"),
    [
        ("ok ive added a bag youll get a receipt", "ok i've added a bag you'll get a receipt"),
        ("once they approve it well fill it the same day", "once they approve it we'll fill it the same day"),
        ("ill send you the schedule", "i'll send you the schedule"),
        ("she was ill last week", "she was ill last week"),  # the adjective stays
        ("we did as well as we could", "we did as well as we could"),
        ("Well, that is fine", "Well, that is fine"),  # the interjection stays
    ],
)
def test_contractions_without_apostrophes_are_restored(text: str, restored: str) -> None:
    assert restore(text) == restored


@pytest.mark.parametrize(
    ("sentence", "codes"),
    [
        ("your case is f r 4 4 0 9 1", ["FR44091"]),  # a recogniser that writes no capitals
        ("your work order is w o 5 5 8 1 2 0", ["WO558120"]),  # "o" inside spelt letters is the letter
        ("the trace number is t r 9 0 0 to 1 for", ["TR900214"]),
        ("i submitted a request to raise it to 5000 dollars", []),  # money, not a code
        ("a ticket is on its way to you", []),  # "a" is a word unless digits follow
    ],
)
def test_lower_case_spelt_codes(sentence: str, codes: list[str]) -> None:
    assert find_references(sentence) == codes


def test_prices_read_with_the_cents_after_the_currency() -> None:
    found = find_amounts("one final charge of 29 dollars 99 on the 15th, and 50 dollars 10 times")
    assert [(a.value, a.currency) for a in found] == [(29.99, "USD"), (50.0, "USD")]


@pytest.mark.parametrize(
    ("sentence", "promise"),
    [
        ("ok ive added one checked bag youll get an updated receipt by email", True),
        ("Your membership is cancelled as of today.", True),
        ("The driver has been notified.", True),
        ("The first payment is due on April 1st.", True),
        ("Please return the old one in the prepaid box within 14 days.", True),
        ("Please hold while I check.", False),
        ("Please keep your windows open.", False),  # an instruction with no deadline is not a to-do
        ("I've checked and there's nothing on your account.", False),  # investigation, not an outcome
        ("You were charged twice on the 3rd.", False),  # the problem, not what was done about it
        ("The tow is covered up to 100 miles.", False),
    ],
)
def test_commitments_beyond_the_future_tense(sentence: str, promise: bool) -> None:
    assert is_commitment(sentence) is promise


def test_run_on_clauses_become_separate_promises_and_details_stay_with_theirs() -> None:
    lines = [
        Said(
            "agent", "ok ive blocked the card and a replacement is on its way it should arrive in 5 to 7 business days"
        ),
        Said("agent", "You don't need to pay the bill until it's processed."),
    ]
    summary = extract(lines, MONDAY)
    texts = [c.text for c in summary.commitments]
    assert texts[0] == "i've blocked the card"
    assert texts[1].startswith("a replacement is on its way; it should arrive")
    assert summary.commitments[1].due == date(2026, 3, 11)
    assert len(texts) == 2  # "until it's processed" is a condition, not a promise


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("skyways this is ben how can i help", "Ben"),
        ("greenleaf this is tony", "Tony"),
        ("Revenue service, my name is Officer Chen.", "Chen"),
        ("Oakridge transportation office, this is Mr. Patel.", "Patel"),
        ("Hi, this is Streamly support, I'm Dev.", "Dev"),
        ("this is evergreen roadside my name is pete", "Pete"),
    ],
)
def test_agent_names_in_greetings(line: str, name: str) -> None:
    assert find_agent_name([Said("agent", line)]) == name


def test_a_weekday_with_the_day_of_the_month_names_that_day() -> None:
    summary = extract([Said("agent", "you're now booked for tuesday the 24th at 10 30")], date(2026, 11, 16))
    assert [d.day for d in summary.dates] == [date(2026, 11, 24)]

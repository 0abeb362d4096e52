"""The embedded extractor on lines as speech-to-text writes them, including hostile input."""

from __future__ import annotations

from datetime import date

import pytest
from hold_slayer_sidecar.summary.extract import extract, find_amounts, find_references, is_commitment
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

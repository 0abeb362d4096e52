"""A summary written by Home Assistant's AI Task entity: checked against the stored transcript, kept, announced."""

from __future__ import annotations

from typing import Any

import pytest
from hold_slayer_sidecar.history.model_summary import ModelSummaries, SummaryRejectedError
from hold_slayer_sidecar.history.service import HistoryError
from hold_slayer_sidecar.store.history import TranscriptLine
from hold_slayer_sidecar.store.sqlite import CallRecord, Store


async def _call(store: Store) -> None:
    record = CallRecord("c1", "5551234", "Acme", None, None, 1000.0, 1300.0, 60.0, "connected", None, [])
    await store.upsert_call(record, status="ended")
    lines = [
        ("company", 2.0, "Press 1 for billing."),
        ("agent", 60.0, "Hi, this is Dana. Your ticket number is 4 8 2 1 9."),
        ("agent", 65.0, "A technician will visit on Tuesday."),
    ]
    for seq, (speaker, offset, text) in enumerate(lines, 1):
        await store.add_transcript_line(TranscriptLine("c1", seq, speaker, offset, text))


async def test_a_model_summary_is_checked_kept_and_announced(store: Store) -> None:
    await _call(store)
    events: list[tuple[str, dict[str, Any]]] = []
    summaries = ModelSummaries(store, lambda name, data: events.append((name, data)))
    reply = {
        "summary": "Dana opened ticket 48219; a technician visits Tuesday.",
        "agent_name": "Dana",
        "references": ["48219", "99999"],  # the second was never said: a model that invents it is not believed
        "amounts": [],
        "dates": ["2026-03-03"],
        "commitments": [{"text": "A technician will visit", "due": "2026-03-03"}],
    }
    summary = await summaries.submit("c1", reply, "ai_task")
    assert summary["references"] == ["48219"] and summary["method"] == "ai_task"
    detail = await store.get_call("c1")
    assert detail is not None and detail.call.summary == summary
    assert events == [("call_summary", {"call_id": "c1", "company": "Acme", **summary})]


@pytest.mark.parametrize(
    "reply",
    [
        {},
        {"references": "48219", "commitments": "call back", "amounts": {"value": 1}},
        {"amounts": [{"value": float("inf")}], "dates": ["not a date", 5, None]},
        {"commitments": [{"text": "x" * 100_000, "due": "2026-99-99"}] * 5000},
        {"summary": ["a"], "agent_name": {"n": 1}},
    ],
)
async def test_hostile_replies_become_a_bounded_summary_or_a_clear_error(store: Store, reply: dict[str, Any]) -> None:
    await _call(store)
    summaries = ModelSummaries(store, lambda name, data: None)
    try:
        summary = await summaries.submit("c1", reply, "ai_task")
    except SummaryRejectedError:
        return
    assert len(summary["commitments"]) <= 20
    assert all(len(c["text"]) <= 500 for c in summary["commitments"])
    assert summary["references"] == []


async def test_unknown_calls_and_sources_are_refused(store: Store) -> None:
    await _call(store)
    summaries = ModelSummaries(store, lambda name, data: None)
    with pytest.raises(HistoryError):
        await summaries.submit("missing", {}, "ai_task")
    with pytest.raises(SummaryRejectedError):
        await summaries.submit("c1", {}, "llm")

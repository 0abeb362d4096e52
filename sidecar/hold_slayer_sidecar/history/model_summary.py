"""Summaries written by a model outside the sidecar (Home Assistant's AI Task entity), checked like our own LLM's.

Home Assistant sends the model's JSON reply; the sidecar validates it against the stored transcript with the
same rules as its own LLM path (a reference that was never said is dropped), stores it as the call's summary
and announces it with a ``call_summary`` event. One validation, whichever model wrote the summary.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..protocol import EventType
from ..store.history import CallDetail
from ..summary.llm import parse_reply
from ..summary.model import Said
from .recorder import Publish
from .service import HistoryError

# A model's reply is input from another process: keep what a summary can use, not what a reply could hold.
MAX_ITEMS = 20
MAX_TEXT = 500
SOURCES = frozenset({"ai_task"})
_FIELDS = ("summary", "agent_name", "references", "amounts", "dates", "commitments")


class SummaryRejectedError(ValueError):
    """A model's reply that cannot be a summary."""


class SummaryStore(Protocol):
    """The history store, as this needs it."""

    async def get_call(self, call_id: str) -> CallDetail | None:
        """Return one stored call."""
        ...

    async def set_summary(self, call_id: str, summary: dict[str, Any]) -> None:
        """Store a summary."""
        ...


class ModelSummaries:
    """Accept a model's summary of a stored call."""

    def __init__(self, store: SummaryStore, publish: Publish) -> None:
        """Use the history store; publish ``call_summary`` events through ``publish``."""
        self._store = store
        self._publish = publish

    async def submit(self, call_id: str, reply: dict[str, Any], source: str) -> dict[str, Any]:
        """Validate ``reply`` against the call's transcript, store it and announce it; return the summary."""
        if source not in SOURCES:
            raise SummaryRejectedError(f"source: one of {sorted(SOURCES)}")
        detail = await self._store.get_call(call_id)
        if detail is None:
            raise HistoryError(f"call_id: no call {call_id!r} in the history")
        lines = [Said(line.speaker, line.text) for line in detail.lines]
        try:
            summary = parse_reply(_bounded(reply), lines, detail.call.company, method=source).as_dict()
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            raise SummaryRejectedError(f"reply: not a usable summary: {err}") from err
        await self._store.set_summary(call_id, summary)
        self._publish(EventType.CALL_SUMMARY, {"call_id": call_id, "company": detail.call.company, **summary})
        return summary


def _bounded(reply: dict[str, Any]) -> dict[str, Any]:
    """Cut lists and strings to sizes a summary needs."""

    def clip(value: Any) -> Any:
        if isinstance(value, str):
            return value[:MAX_TEXT]
        if isinstance(value, list):
            return [clip(item) for item in value[:MAX_ITEMS]]
        if isinstance(value, dict):
            return {str(key)[:40]: clip(item) for key, item in list(value.items())[:MAX_ITEMS]}
        return value

    return {
        key: clip(reply.get(key)) for key in ("summary", "agent_name", "references", "amounts", "dates", "commitments")
    }

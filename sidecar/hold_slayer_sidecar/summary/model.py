"""A call's summary as extracted from its transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class Said:
    """One transcript line given to the extractor."""

    speaker: str  # company | agent | you | hold_slayer
    text: str
    offset_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum of money said in the call."""

    value: float
    currency: str  # ISO 4217 code
    text: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"value": round(self.value, 2), "currency": self.currency, "text": self.text}


@dataclass(frozen=True, slots=True)
class SaidDate:
    """A date said in the call, resolved against the call's date."""

    day: date
    text: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"date": self.day.isoformat(), "text": self.text}


@dataclass(frozen=True, slots=True)
class Commitment:
    """Something the company promised (or asked the user to do by a date)."""

    text: str
    due: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"text": self.text, "due": None if self.due is None else self.due.isoformat()}


@dataclass(frozen=True, slots=True)
class CallSummary:
    """Everything extracted from one call."""

    text: str
    agent_name: str | None = None
    references: tuple[str, ...] = ()
    amounts: tuple[Amount, ...] = ()
    dates: tuple[SaidDate, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    method: str = "embedded"  # embedded | llm | ai_task (Home Assistant's AI Task entity)
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (the ``call_summary`` event and the history)."""
        return {
            "text": self.text,
            "agent_name": self.agent_name,
            "reference": self.references[0] if self.references else None,
            "references": list(self.references),
            "amounts": [a.as_dict() for a in self.amounts],
            "dates": [d.as_dict() for d in self.dates],
            "commitments": [c.as_dict() for c in self.commitments],
            "method": self.method,
        }

"""One inbound call as the handler follows it, and its wire form."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..protocol import InboundCallInfo, InboundState, RouteDecision

# States in which nobody has picked up yet: a caller hanging up then simply ends the call.
WAITING = frozenset({InboundState.SCREENING, InboundState.RINGING})
FINAL = frozenset({InboundState.REJECTED, InboundState.ENDED})


@dataclass
class InboundCall:
    """Mutable state of one inbound call (owned by the handler, changed on the asyncio loop only)."""

    call_id: str
    leg_id: str
    caller: str
    dialled: str | None
    started_at: float
    caller_name: str | None = None
    decision: RouteDecision = field(
        default_factory=lambda: RouteDecision(
            action="receptionist", rule_id=None, rule_name=None, device_ids=[], reason=""
        )
    )
    state: InboundState = InboundState.RINGING
    purpose: str | None = None
    urgency: str | None = None
    heard: str | None = None
    robocall: bool = False
    reason: str | None = None
    ringing_devices: list[str] = field(default_factory=list)
    rang: dict[str, float] = field(default_factory=dict)  # device id -> when it began ringing for this call
    answered_by: str | None = None
    voicemail_id: str | None = None
    leg_answered: bool = False  # the caller's leg got 200 OK (a rejection is then a hang-up)
    flow: asyncio.Task[None] | None = None  # what is being done with the call now (replaced by the user's choice)

    def info(self) -> InboundCallInfo:
        """Return the wire form."""
        return InboundCallInfo(
            call_id=self.call_id,
            caller=self.caller,
            caller_name=self.caller_name,
            dialled=self.dialled,
            started_at=datetime.fromtimestamp(self.started_at, UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            state=self.state.value,
            decision=self.decision,
            purpose=self.purpose,
            urgency=self.urgency,
            heard=self.heard,
            robocall=self.robocall,
            reason=self.reason,
            ringing_devices=list(self.ringing_devices),
            answered_by=self.answered_by,
            voicemail_id=self.voicemail_id,
        )

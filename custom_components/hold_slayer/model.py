"""What Home Assistant knows about the sidecar: calls by id, folded from snapshots and events.

Pure data (no Home Assistant imports) so the folding rules are easy to test: the coordinator feeds it
the snapshot of every welcome and every pushed event, then tells entities and the event bus.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from .client import SidecarEvent
from .const import EVENT_CALL_FAILED, TRANSCRIPT_LINES
from .inbound_model import INBOUND_EVENTS, InboundApplied, InboundData
from .protocol import (
    FINAL_STATES,
    CallInfo,
    CallOutcome,
    CallState,
    EventType,
    Registration,
    SidecarInfo,
    Snapshot,
)

# Finished calls kept for the entities and a reconnect; older ones are dropped first.
MAX_CALLS_KEPT = 20
_CALL_FIELDS = frozenset(CallInfo.__annotations__)
# Call states whose arrival is itself a milestone of the call_events entity.
_STATE_MILESTONES = frozenset({CallState.DIALING, CallState.IVR})
# Sidecar events that are milestones of the call_events entity as they are.
_EVENT_MILESTONES = frozenset(
    {
        EventType.HOLD_STARTED,
        EventType.HUMAN_DETECTED,
        EventType.USER_RINGING,
        EventType.BRIDGED,
        EventType.CALL_ENDED,
    }
)


class TranscriptLine(TypedDict):
    """One line said on a call."""

    speaker: str
    text: str
    offset_s: float | None


@dataclass(frozen=True, slots=True)
class AppliedEvent:
    """What one event changed: the call it concerns and the milestones it reached."""

    call: CallInfo | None
    milestones: tuple[str, ...] = ()
    inbound: InboundApplied | None = None  # set for the inbound half's events


@dataclass(slots=True)
class HoldSlayerData:
    """The sidecar's state as the integration sees it."""

    connected: bool = False
    sidecar_version: str | None = None
    sidecar: SidecarInfo | None = None
    calls: dict[str, CallInfo] = field(default_factory=dict)
    transcripts: dict[str, deque[TranscriptLine]] = field(default_factory=dict)
    inbound: InboundData = field(default_factory=InboundData)

    @property
    def current_call(self) -> CallInfo | None:
        """Return the newest call still in progress, else the most recent call, else None."""
        if not self.calls:
            return None
        active = [call for call in self.calls.values() if call.get("state") not in FINAL_STATES]
        return max(active or self.calls.values(), key=lambda call: str(call.get("started_at") or ""))

    def transcript(self, call_id: str) -> list[TranscriptLine]:
        """Return the last transcript lines of a call (oldest first)."""
        return list(self.transcripts.get(call_id, ()))

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Replace everything with a snapshot (the sidecar is the source of truth after a reconnect)."""
        self.sidecar = snapshot.get("sidecar")
        self.calls = {call["call_id"]: call for call in snapshot.get("calls", []) if isinstance(call, dict)}
        self.transcripts = {cid: lines for cid, lines in self.transcripts.items() if cid in self.calls}
        self.inbound.apply_snapshot(snapshot.get("inbound"))

    def apply_event(self, event: SidecarEvent) -> AppliedEvent:
        """Fold one event into the calls; return the affected call and reached milestones."""
        if event.name in INBOUND_EVENTS:
            # Inbound calls have call ids too: they must never be folded in as outbound calls.
            return AppliedEvent(call=None, inbound=self.inbound.apply_event(event))
        if event.name == EventType.SETTINGS_APPLIED:
            self._apply_settings(event.data)
            return AppliedEvent(call=None)
        call_id = event.data.get("call_id")
        if not isinstance(call_id, str):
            return AppliedEvent(call=None)
        call = self.calls.get(call_id)
        if event.name == EventType.CALL_SUMMARY:
            # Comes after the call ended, maybe after it was pruned: it must never bring a call back to life.
            return AppliedEvent(call=call)
        previous_state = call.get("state") if call else None
        call = self._merge(call_id, event.data)
        if event.name == EventType.TRANSCRIPT:
            self._add_transcript(call_id, event.data)
        elif event.name == EventType.DTMF_SENT and "digits_sent" not in event.data:
            call["digits_sent"] = str(call.get("digits_sent") or "") + str(event.data.get("digits") or "")
        elif event.name == EventType.CALL_ENDED and "state" not in event.data:
            failed = call.get("outcome") == CallOutcome.FAILED
            call["state"] = CallState.FAILED if failed else CallState.ENDED
        self._prune()
        return AppliedEvent(call=call, milestones=_milestones(event.name, previous_state, call))

    def _apply_settings(self, data: dict[str, Any]) -> None:
        """Take the trunk's registration and the engines' health from ``settings_applied``."""
        if self.sidecar is None:
            return
        registration = data.get("registration")
        if isinstance(registration, dict):
            self.sidecar["registration"] = cast(Registration, registration)
        engines = data.get("engines")
        if isinstance(engines, dict):
            self.sidecar["engines"] = {str(role): str(health) for role, health in engines.items()}

    def _merge(self, call_id: str, data: dict[str, Any]) -> CallInfo:
        call = self.calls.get(call_id)
        if call is None:
            call = cast(CallInfo, {"call_id": call_id, "state": CallState.DIALING.value, "digits_sent": ""})
            self.calls[call_id] = call
        # Events carry a partial or full CallInfo; copy only the fields we know about.
        for key, value in data.items():
            if key in _CALL_FIELDS:
                cast(dict[str, Any], call)[key] = value
        return call

    def _add_transcript(self, call_id: str, data: dict[str, Any]) -> None:
        offset = data.get("offset_s")
        line = TranscriptLine(
            speaker=str(data.get("speaker") or "company"),
            text=str(data.get("text") or ""),
            offset_s=float(offset) if isinstance(offset, int | float) else None,
        )
        self.transcripts.setdefault(call_id, deque(maxlen=TRANSCRIPT_LINES)).append(line)

    def _prune(self) -> None:
        excess = len(self.calls) - MAX_CALLS_KEPT
        if excess <= 0:
            return
        finished = sorted(
            (call for call in self.calls.values() if call.get("state") in FINAL_STATES),
            key=lambda call: str(call.get("started_at") or ""),
        )
        for call in finished[:excess]:
            self.calls.pop(call["call_id"], None)
            self.transcripts.pop(call["call_id"], None)


def _milestones(name: str, previous_state: str | None, call: CallInfo) -> tuple[str, ...]:
    state = call.get("state")
    if name == EventType.CALL_STATE:
        if state != previous_state and state in _STATE_MILESTONES:
            return (str(state),)
        return ()
    if name == EventType.CALL_ENDED:
        if call.get("outcome") == CallOutcome.FAILED or state == CallState.FAILED:
            return (EventType.CALL_ENDED.value, EVENT_CALL_FAILED)
        return (EventType.CALL_ENDED.value,)
    if name in _EVENT_MILESTONES:
        return (name,)
    return ()

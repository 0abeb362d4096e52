"""What Home Assistant knows about the inbound half: devices, DND, rules, calls coming in and voicemail.

Pure data (no Home Assistant imports), folded from the snapshot's ``inbound`` section, ``list_rules``,
``list_voicemails`` and pushed events. Everything here came from another process over a socket, so each
item is checked for the fields the entities rely on and a malformed one is dropped, never raised.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final, cast

from .client import SidecarEvent
from .protocol import (
    DeviceInfo,
    EventType,
    InboundCallInfo,
    InboundSnapshot,
    InboundState,
    RoutingRule,
    VoicemailInfo,
)

# Voicemails kept for the sensor and the card (newest first); the media source reads the sidecar for more.
RECENT_VOICEMAILS: Final = 10
# Inbound calls kept (the ones in progress and the last few finished), so a late event finds its call.
MAX_INBOUND_CALLS: Final = 10
FINAL_INBOUND_STATES: Final = frozenset({InboundState.ANSWERED, InboundState.REJECTED, InboundState.ENDED})
# Sidecar event -> HA bus event (without the hold_slayer_ prefix) an automation listens for.
BUS_EVENTS: Final = {
    EventType.INCOMING_CALL: "incoming_call",
    EventType.INBOUND_ANSWERED: "call_answered",
    EventType.INBOUND_REJECTED: "call_rejected",
    EventType.ROBOCALL_BLOCKED: "robocall_blocked",
    EventType.VOICEMAIL: "voicemail",
}
INBOUND_EVENTS: Final = frozenset(
    {
        *BUS_EVENTS,
        EventType.INBOUND_STATE,
        EventType.VOICEMAIL_CHANGED,
        EventType.DEVICE_STATE,
        EventType.DEVICE_DELETED,
        EventType.RULE_SAVED,
        EventType.RULE_DELETED,
        EventType.DND_CHANGED,
    }
)


def _has(item: Any, key: str) -> bool:
    return isinstance(item, dict) and isinstance(item.get(key), str) and bool(item[key])


def valid_device(item: Any) -> DeviceInfo | None:
    """Return the item as a device when it carries an id and a name, else None."""
    return cast(DeviceInfo, item) if _has(item, "device_id") and isinstance(item.get("name"), str) else None


def valid_call(item: Any) -> InboundCallInfo | None:
    """Return the item as an inbound call when it carries an id, else None."""
    if not _has(item, "call_id"):
        return None
    call = cast(dict[str, Any], dict(item))
    if not isinstance(call.get("decision"), dict):
        call["decision"] = {}
    return cast(InboundCallInfo, call)


def valid_rule(item: Any) -> RoutingRule | None:
    """Return the item as a routing rule when it carries an id, else None."""
    return cast(RoutingRule, item) if _has(item, "rule_id") else None


def valid_voicemail(item: Any) -> VoicemailInfo | None:
    """Return the item as a voicemail when it carries an id, else None."""
    return cast(VoicemailInfo, item) if _has(item, "voicemail_id") else None


@dataclass(frozen=True, slots=True)
class InboundApplied:
    """What one event did: the HA bus event to fire (None: none) and the call or voicemail it concerns."""

    bus_event: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    voicemails_changed: bool = False


@dataclass(slots=True)
class InboundData:
    """The inbound half as the integration sees it."""

    supported: bool = False  # the sidecar has the inbound half (its snapshot carries "inbound")
    global_dnd: bool = False
    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    rules: dict[str, RoutingRule] = field(default_factory=dict)
    calls: OrderedDict[str, InboundCallInfo] = field(default_factory=OrderedDict)
    last_caller: InboundCallInfo | None = None
    unheard_voicemails: int = 0
    voicemails: list[VoicemailInfo] = field(default_factory=list)

    @property
    def active_call(self) -> InboundCallInfo | None:
        """Return the newest inbound call still in progress, else None."""
        active = [call for call in self.calls.values() if call.get("state") not in FINAL_INBOUND_STATES]
        return active[-1] if active else None

    def apply_snapshot(self, snapshot: InboundSnapshot | None) -> None:
        """Replace devices, DND and calls with the snapshot's (rules and voicemails come by request)."""
        if not isinstance(snapshot, dict):
            self.supported = False
            return
        self.supported = True
        self.global_dnd = snapshot.get("global_dnd") is True
        devices = snapshot.get("devices")
        self.devices = {d["device_id"]: d for d in map(valid_device, devices if isinstance(devices, list) else []) if d}
        calls = snapshot.get("calls")
        self.calls = OrderedDict(
            (c["call_id"], c) for c in map(valid_call, calls if isinstance(calls, list) else []) if c
        )
        unheard = snapshot.get("unheard_voicemails")
        self.unheard_voicemails = unheard if isinstance(unheard, int) and unheard >= 0 else 0
        self.last_caller = valid_call(snapshot.get("last_caller")) or self.last_caller

    def set_rules(self, rules: list[Any]) -> None:
        """Replace the rules with the sidecar's list."""
        self.rules = {r["rule_id"]: r for r in map(valid_rule, rules) if r}

    def set_voicemails(self, result: dict[str, Any]) -> None:
        """Replace the recent voicemails with a ``list_voicemails`` answer."""
        items = result.get("voicemails")
        self.voicemails = [v for v in map(valid_voicemail, items if isinstance(items, list) else []) if v][
            :RECENT_VOICEMAILS
        ]
        unheard = result.get("unheard")
        if isinstance(unheard, int) and unheard >= 0:
            self.unheard_voicemails = unheard

    def apply_event(self, event: SidecarEvent) -> InboundApplied:
        """Fold one inbound event; return what to tell Home Assistant."""
        handler = _HANDLERS.get(event.name)
        return handler(self, event.data) if handler else InboundApplied()

    # -- handlers, one per event -----------------------------------------------------------------

    def _call_event(self, data: dict[str, Any], name: str) -> InboundApplied:
        call = valid_call(data)
        if call is None:
            return InboundApplied()
        self.calls[call["call_id"]] = call
        self.calls.move_to_end(call["call_id"])
        while len(self.calls) > MAX_INBOUND_CALLS:
            self.calls.popitem(last=False)
        self.last_caller = call
        bus = BUS_EVENTS.get(EventType(name)) if name in BUS_EVENTS else None
        return InboundApplied(bus_event=bus, payload=call_payload(call))

    def _voicemail(self, data: dict[str, Any]) -> InboundApplied:
        voicemail = valid_voicemail(data)
        if voicemail is None:
            return InboundApplied()
        self.voicemails = [voicemail, *(v for v in self.voicemails if v["voicemail_id"] != voicemail["voicemail_id"])]
        del self.voicemails[RECENT_VOICEMAILS:]
        if voicemail.get("heard") is not True:
            self.unheard_voicemails += 1
        return InboundApplied(bus_event="voicemail", payload=voicemail_payload(voicemail), voicemails_changed=True)

    def _voicemail_changed(self, data: dict[str, Any]) -> InboundApplied:
        voicemail_id = data.get("voicemail_id")
        if data.get("deleted") is True:
            self.voicemails = [v for v in self.voicemails if v["voicemail_id"] != voicemail_id]
        elif isinstance(data.get("heard"), bool):
            for voicemail in self.voicemails:
                if voicemail["voicemail_id"] == voicemail_id:
                    voicemail["heard"] = data["heard"]
        unheard = data.get("unheard")
        if isinstance(unheard, int) and unheard >= 0:
            self.unheard_voicemails = unheard
        return InboundApplied(voicemails_changed=True)

    def _device_state(self, data: dict[str, Any]) -> InboundApplied:
        if device := valid_device(data):
            self.devices[device["device_id"]] = device
        return InboundApplied()

    def _device_deleted(self, data: dict[str, Any]) -> InboundApplied:
        self.devices.pop(str(data.get("device_id")), None)
        return InboundApplied()

    def _rule_saved(self, data: dict[str, Any]) -> InboundApplied:
        if rule := valid_rule(data):
            self.rules[rule["rule_id"]] = rule
        return InboundApplied()

    def _rule_deleted(self, data: dict[str, Any]) -> InboundApplied:
        self.rules.pop(str(data.get("rule_id")), None)
        return InboundApplied()

    def _dnd_changed(self, data: dict[str, Any]) -> InboundApplied:
        if isinstance(data.get("global_dnd"), bool):
            self.global_dnd = data["global_dnd"]
        return InboundApplied()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def call_payload(call: InboundCallInfo) -> dict[str, Any]:
    """Return the bus event data of an inbound call: who, what they dialled, what was decided and why."""
    decision: dict[str, Any] = cast(dict[str, Any], call.get("decision") or {})
    return {
        "call_id": call["call_id"],
        "caller": _text(call.get("caller")),
        "caller_name": _text(call.get("caller_name")),
        "dialled": _text(call.get("dialled")),
        "state": _text(call.get("state")),
        "action": _text(decision.get("action")),
        "rule_id": _text(decision.get("rule_id")),
        "rule": _text(decision.get("rule_name")),
        "decision_reason": _text(decision.get("reason")),
        "ringing_devices": _strings(call.get("ringing_devices")),
        "purpose": _text(call.get("purpose")),
        "urgency": _text(call.get("urgency")),
        "heard": _text(call.get("heard")),
        "robocall": call.get("robocall") is True,
        "reason": _text(call.get("reason")),
        "answered_by": _text(call.get("answered_by")),
        "voicemail_id": _text(call.get("voicemail_id")),
    }


def voicemail_payload(voicemail: VoicemailInfo) -> dict[str, Any]:
    """Return the bus event data of a voicemail: who left it, what they said and where the recording is."""
    duration = voicemail.get("duration_s")
    return {
        "voicemail_id": voicemail["voicemail_id"],
        "call_id": _text(voicemail.get("call_id")),
        "caller": _text(voicemail.get("caller")),
        "caller_name": _text(voicemail.get("caller_name")),
        "dialled": _text(voicemail.get("dialled")),
        "received_at": _text(voicemail.get("received_at")),
        "duration_s": float(duration) if isinstance(duration, int | float) else None,
        "transcript": _text(voicemail.get("transcript")),
        "recording": _text(voicemail.get("recording")),
    }


_HANDLERS: Final[dict[str, Any]] = {
    EventType.INCOMING_CALL: lambda d, data: d._call_event(data, EventType.INCOMING_CALL),
    EventType.INBOUND_STATE: lambda d, data: d._call_event(data, EventType.INBOUND_STATE),
    EventType.INBOUND_ANSWERED: lambda d, data: d._call_event(data, EventType.INBOUND_ANSWERED),
    EventType.INBOUND_REJECTED: lambda d, data: d._call_event(data, EventType.INBOUND_REJECTED),
    EventType.ROBOCALL_BLOCKED: lambda d, data: d._call_event(data, EventType.ROBOCALL_BLOCKED),
    EventType.VOICEMAIL: InboundData._voicemail,
    EventType.VOICEMAIL_CHANGED: InboundData._voicemail_changed,
    EventType.DEVICE_STATE: InboundData._device_state,
    EventType.DEVICE_DELETED: InboundData._device_deleted,
    EventType.RULE_SAVED: InboundData._rule_saved,
    EventType.RULE_DELETED: InboundData._rule_deleted,
    EventType.DND_CHANGED: InboundData._dnd_changed,
}

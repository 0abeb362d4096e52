"""Logbook lines for Hold Slayer events ("Northwind Bank: a person answered after 12:05 on hold", "Mum: calling")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_ICON, LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .const import DEFAULT_NAME, DOMAIN, EVENT_PREFIX

# Outcome (protocol CallOutcome) -> how the logbook says it.
_OUTCOMES: Final = {
    "connected": "ended after you were connected",
    "no_human": "ended before a person answered",
    "user_missed": "ended: a person answered but your phone was not picked up",
    "cancelled": "was hung up",
    "failed": "failed",
}

# Event (without prefix) -> (icon, message template without the company).
_EVENTS: Final[dict[str, tuple[str, str]]] = {
    "hold_started": ("mdi:timer-sand", "put on hold"),
    "human_detected": ("mdi:account-voice", "a person answered"),
    "user_ringing": ("mdi:cellphone-sound", "ringing your phone"),
    "bridged": ("mdi:phone-in-talk", "you are connected"),
    "call_ended": ("mdi:phone-hangup", "call ended"),
    "call_failed": ("mdi:phone-alert", "call failed"),
    # The inbound half: who called, and what became of the call (never what they said: logbook rows are kept).
    "incoming_call": ("mdi:phone-incoming", "calling"),
    "call_answered": ("mdi:phone-in-talk", "answered"),
    "call_rejected": ("mdi:phone-cancel", "rejected"),
    "robocall_blocked": ("mdi:robot-off", "robocall blocked"),
    "voicemail": ("mdi:voicemail", "left a voicemail"),
}
_INBOUND: Final = frozenset({"incoming_call", "call_answered", "call_rejected", "robocall_blocked", "voicemail"})


def format_duration(seconds: float) -> str:
    """Say a duration as M:SS or H:MM:SS."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(event_name: str, data: Mapping[str, Any]) -> str:
    """Return the logbook message for one call event."""
    if event_name in _INBOUND:
        return describe_inbound(event_name, data)
    _, message = _EVENTS[event_name]
    hold = data.get("hold_seconds")
    if event_name == "human_detected" and isinstance(hold, int | float) and hold > 0:
        message = f"a person answered after {format_duration(hold)} on hold"
    elif event_name == "call_ended" and (outcome := data.get("outcome")) in _OUTCOMES:
        message = f"call {_OUTCOMES[outcome]}"
    elif event_name == "call_failed" and (reason := data.get("reason")):
        message = f"call failed: {reason}"
    elif event_name == "hold_started" and (department := data.get("department")):
        message = f"put on hold for {department}"
    who = data.get("company") or data.get("target") or "Unknown company"
    return f"{who}: {message}"


def describe_inbound(event_name: str, data: Mapping[str, Any]) -> str:
    """Return the logbook message for a call coming in: "Dr. Molar's office: answered on Kitchen phone"."""
    _, message = _EVENTS[event_name]
    who = data.get("caller_name") or data.get("caller") or "Unknown caller"
    rule = data.get("rule")
    if event_name == "incoming_call":
        action = str(data.get("action") or "").replace("_", " ")
        message = f"calling ({action}, rule {rule})" if rule else f"calling ({action})" if action else message
    elif event_name == "call_answered" and (device := data.get("answered_by_name") or data.get("answered_by")):
        message = f"answered on {device}"
    elif event_name in ("call_rejected", "robocall_blocked") and (why := rule or data.get("reason")):
        message = f"{message}: {why}"
    elif event_name == "voicemail" and isinstance(seconds := data.get("duration_s"), int | float):
        message = f"left a voicemail ({format_duration(seconds)})"
    return f"{who}: {message}"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the Hold Slayer bus events for the logbook."""

    def describer(event_name: str) -> Callable[[Event], dict[str, str]]:
        icon, _ = _EVENTS[event_name]

        @callback
        def async_describe(event: Event) -> dict[str, str]:
            return {
                LOGBOOK_ENTRY_NAME: DEFAULT_NAME,
                LOGBOOK_ENTRY_MESSAGE: describe(event_name, event.data),
                LOGBOOK_ENTRY_ICON: icon,
            }

        return async_describe

    for event_name in _EVENTS:
        async_describe_event(DOMAIN, f"{EVENT_PREFIX}{event_name}", describer(event_name))

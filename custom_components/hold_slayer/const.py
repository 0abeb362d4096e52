"""Constants for the Hold Slayer integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

from .protocol import CallState, EventType, InboundState

DOMAIN: Final = "hold_slayer"
LOGGER = logging.getLogger(__package__)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_NAME: Final = "Hold Slayer"

# The sidecar's persistent id, in discovery messages (the config entry's unique id).
CONF_SIDECAR_ID: Final = "sidecar_id"
# SHA-256 fingerprint of the sidecar's self-signed certificate, pinned at setup (wss:// off loopback).
CONF_TLS_FINGERPRINT: Final = "tls_fingerprint"

# Options of the config entry.
CONF_TRANSFER_TO: Final = "transfer_to"
CONF_TODO_ENTITY: Final = "todo_entity"  # the to-do list the agents' promises go to
CONF_AI_TASK_ENTITY: Final = "ai_task_entity"  # Home Assistant's AI Task entity that writes call summaries

# Config subentries: one per company the user calls.
SUBENTRY_COMPANY: Final = "company"
CONF_NUMBER: Final = "number"
CONF_ALIASES: Final = "aliases"
CONF_REASON: Final = "reason"
CONF_CALL_FLOW: Final = "call_flow"

# Config subentries of the inbound half (issue #18): where calls ring, and the rules that decide first.
# The sidecar stores both; a subentry holds the sidecar's id and what the form showed.
SUBENTRY_DEVICE: Final = "device"
SUBENTRY_RULE: Final = "rule"
CONF_DEVICE_ID: Final = "device_id"
CONF_KIND: Final = "kind"
CONF_ADDRESS: Final = "address"
CONF_PRIORITY: Final = "priority"
CONF_RING_TIMEOUT: Final = "ring_timeout_s"
CONF_RESET_CREDENTIALS: Final = "reset_credentials"
CONF_RULE_ID: Final = "rule_id"
# The sidecar's defaults for a device (protocol.DeviceData): 20 s is about four rings (ETSI ES 201 970: a ring
# cadence of 1 s on, 4 s off), what a caller expects before voicemail.
DEFAULT_PRIORITY: Final = 100
DEFAULT_RING_TIMEOUT: Final = 20.0

# The inbound_call sensor shows "idle" when no call is coming in.
INBOUND_STATE_OPTIONS: Final = ["idle", *(state.value for state in InboundState)]

# How many transcript lines of the current call entities expose.
TRANSCRIPT_LINES: Final = 10
# A sidecar unreachable for longer than this raises a repair issue.
UNREACHABLE_ISSUE_AFTER: Final = timedelta(minutes=5)
ISSUE_UNREACHABLE: Final = "sidecar_unreachable"
ISSUE_INCOMPATIBLE: Final = "incompatible_version"

# The call_state sensor shows "idle" when there is no call at all.
STATE_IDLE: Final = "idle"
CALL_STATE_OPTIONS: Final = [STATE_IDLE, *(state.value for state in CallState)]

# HA bus events are named hold_slayer_<sidecar event>; call_failed is derived from call_ended.
EVENT_PREFIX: Final = f"{DOMAIN}_"
EVENT_CALL_FAILED: Final = "call_failed"
# Event types of the call_events event entity (the milestones a person cares about).
CALL_EVENT_TYPES: Final = [
    CallState.DIALING.value,
    CallState.IVR.value,
    EventType.HOLD_STARTED.value,
    EventType.HUMAN_DETECTED.value,
    EventType.USER_RINGING.value,
    EventType.BRIDGED.value,
    EventType.CALL_ENDED.value,
    EVENT_CALL_FAILED,
]

"""Hold Slayer wire protocol: the one definition shared by the sidecar and the integration.

JSON text frames over a websocket at ``ws://HOST:PORT/api/ws``. This module is stdlib only and has no
Home Assistant imports, so the sidecar ships a byte-identical copy
(``sidecar/hold_slayer_sidecar/protocol.py``); a test fails if the two ever differ.

Conversation:
  client -> {"type": "hello", "token": str, "protocol": int, "client": str}
  server -> {"type": "welcome", "protocol": int, "sidecar_version": str, "capabilities": [str],
             "snapshot": Snapshot, "sidecar_id": str (optional: persistent, made at the sidecar's first start)}
         or {"type": "error", "code": "invalid_auth" | "version_mismatch" | ..., "message": str}
            and the socket closes.
  client -> {"type": "request", "id": int, "command": str, "data": {...}}
  server -> {"type": "result", "id": int, "success": true, "data": {...}}
         or {"type": "result", "id": int, "success": false, "error": {"code": str, "message": str}}
  server -> {"type": "event", "seq": int, "event": str, "data": {...}}   (at any time after welcome)

Lists are paged: ``list_call_flows`` and ``get_history`` take ``limit`` and ``cursor`` and answer with
``next_cursor`` (null on the last page); no frame in either direction exceeds ``MAX_MESSAGE_BYTES``.

A malformed message of any type or depth (not JSON, nested too deep, wrong field types, binary frames)
is answered with an error (a failed result when it carried a usable request ``id``) and never closes an
authenticated connection. The connection does close, after authentication, only when:
  - RFC 6455 requires it: a text frame that is not valid UTF-8 (section 8.1, close 1007), a message over
    ``MAX_MESSAGE_BYTES`` (section 7.4.1, close 1009), or a broken frame (unmasked, reserved bits or
    opcodes, section 5, close 1002);
  - the client reads too slowly to keep up with events (close 1013) or stops answering pings;
  - the sidecar shuts down (close 1001).
Before authentication the sidecar also closes a connection whose hello is missing, late or wrong, an
address that failed too many hellos, and connections beyond its cap on unauthenticated ones.
"""

from __future__ import annotations

import json
import re
import string
from enum import StrEnum
from typing import Any, Final, NotRequired, TypedDict

PROTOCOL_VERSION: Final = 1
WS_PATH: Final = "/api/ws"
DEFAULT_PORT: Final = 8765
# Close codes in the application range (RFC 6455 section 7.4.2).
CLOSE_INVALID_AUTH: Final = 4001
CLOSE_VERSION_MISMATCH: Final = 4002
CLOSE_HANDSHAKE_TIMEOUT: Final = 4003
MAX_MESSAGE_BYTES: Final = 256 * 1024
# 24 random URL-safe characters carry 143 bits: guessing one over the network is hopeless, and it is still
# short enough to paste. Both sides refuse a shorter token.
MIN_TOKEN_LENGTH: Final = 24
# Pages of lists: small enough that a page of the largest items stays far below MAX_MESSAGE_BYTES.
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 500
# place_call's text fields: what the sidecar accepts, so HA's action schema can refuse the same strings at once
# (a call reason is a sentence or two; a SIP URI or number fits in 256; flow ids are slugs).
MAX_TARGET_CHARS: Final = 256
MAX_COMPANY_CHARS: Final = 120
MAX_INTENT_CHARS: Final = 500
MAX_FLOW_ID_CHARS: Final = 64


class ProtocolError(Exception):
    """A message that does not follow the protocol."""

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        """Keep a machine-readable code beside the human message, and the request id when one was readable."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


class ErrorCode(StrEnum):
    """Machine-readable error codes used in error messages and failed results."""

    INVALID_AUTH = "invalid_auth"
    VERSION_MISMATCH = "version_mismatch"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_COMMAND = "unknown_command"
    INVALID_DATA = "invalid_data"
    NOT_FOUND = "not_found"
    TOO_MANY_CALLS = "too_many_calls"
    EMERGENCY_NUMBER = "emergency_number"
    SIP_ERROR = "sip_error"
    NOT_READY = "not_ready"
    TRY_AGAIN_LATER = "try_again_later"  # a limit of the sidecar (clients, requests in flight, failed hellos)
    INTERNAL_ERROR = "internal_error"


class MessageType(StrEnum):
    """The ``type`` field of every frame."""

    HELLO = "hello"
    WELCOME = "welcome"
    ERROR = "error"
    REQUEST = "request"
    RESULT = "result"
    EVENT = "event"


class Command(StrEnum):
    """Requests a client may send."""

    PING = "ping"
    GET_SNAPSHOT = "get_snapshot"
    PLACE_CALL = "place_call"
    HANG_UP = "hang_up"
    SEND_DTMF = "send_dtmf"
    LIST_CALL_FLOWS = "list_call_flows"
    GET_CALL_FLOW = "get_call_flow"
    SAVE_CALL_FLOW = "save_call_flow"
    DELETE_CALL_FLOW = "delete_call_flow"
    GET_HISTORY = "get_history"
    GET_CALL = "get_call"
    GET_STATISTICS = "get_statistics"
    GET_FORECAST = "get_forecast"
    FETCH_RECORDING = "fetch_recording"
    # A summary written by Home Assistant's AI Task entity: data {"call_id", "reply": the model's JSON object,
    # "source": "ai_task"}; validated like the sidecar's own LLM's; result {"summary": ...}; a call_summary follows.
    SUBMIT_SUMMARY = "submit_summary"
    # Settings made in Home Assistant (issue #19): validated by the sidecar, which answers with a clear error.
    CONFIGURE = "configure"  # data: ConfigureData; result: ConfigureResult
    GET_SETTINGS = "get_settings"  # result: ConfigureData as applied (secrets left out)
    # The inbound half (issue #18). Devices are where calls ring; rules decide first; the receptionist answers.
    LIST_DEVICES = "list_devices"  # result: {"devices": [DeviceInfo], "global_dnd": bool}
    SAVE_DEVICE = "save_device"  # data: DeviceData; result: {"device": DeviceInfo, "credentials": Credentials | None}
    DELETE_DEVICE = "delete_device"  # data: {"device_id": str}
    SET_DND = "set_dnd"  # data: {"device_id": str | None (None: the global switch), "enabled": bool}
    LIST_RULES = "list_rules"  # result: {"rules": [RoutingRule]} in evaluation order
    SAVE_RULE = "save_rule"  # data: RoutingRule without rule_id to create; result: {"rule": RoutingRule}
    DELETE_RULE = "delete_rule"  # data: {"rule_id": str}
    TEST_ROUTE = "test_route"  # data: RouteQuery; result: {"decision": RouteDecision}
    SET_CONTACTS = "set_contacts"  # data: {"contacts": [Contact]}: replaces the list (callers known by name)
    ANSWER_INBOUND = "answer_inbound"  # data: {"call_id": str, "device_id": str}: ring just that device now
    REJECT_INBOUND = "reject_inbound"  # data: {"call_id": str, "to_voicemail": bool (default false)}
    LIST_VOICEMAILS = "list_voicemails"  # paged; result: {"voicemails": [VoicemailInfo], "next_cursor", "unheard"}
    MARK_VOICEMAIL = "mark_voicemail"  # data: {"voicemail_id": str, "heard": bool}
    DELETE_VOICEMAIL = "delete_voicemail"  # data: {"voicemail_id": str}: the row and its recording


class EventType(StrEnum):
    """Events the sidecar pushes."""

    CALL_STATE = "call_state"
    DTMF_SENT = "dtmf_sent"
    HOLD_STARTED = "hold_started"
    HOLD_ENDED = "hold_ended"
    HUMAN_DETECTED = "human_detected"
    USER_RINGING = "user_ringing"
    BRIDGED = "bridged"
    CALL_ENDED = "call_ended"
    TRANSCRIPT = "transcript"
    CALL_FLOW_SAVED = "call_flow_saved"
    CALL_FLOW_DELETED = "call_flow_deleted"
    CALL_SUMMARY = "call_summary"  # after a call: summary, agent, references, amounts, dates, commitments
    SETTINGS_APPLIED = "settings_applied"  # data: {"registration": Registration}: after configure, and as it changes
    # The inbound half (issue #18).
    INCOMING_CALL = "incoming_call"  # data: InboundCallInfo, once the first decision is made
    INBOUND_STATE = "inbound_state"  # data: InboundCallInfo, on every change of an inbound call
    INBOUND_ANSWERED = "inbound_answered"  # data: InboundCallInfo (answered_by set)
    INBOUND_REJECTED = "inbound_rejected"  # data: InboundCallInfo (reason says why: a rule, DND, the user)
    ROBOCALL_BLOCKED = "robocall_blocked"  # data: InboundCallInfo (robocall true; reason gives the evidence)
    VOICEMAIL = "voicemail"  # data: VoicemailInfo, once stored and transcribed
    VOICEMAIL_CHANGED = "voicemail_changed"  # data: {"voicemail_id", "heard": bool, "deleted": bool, "unheard": int}
    DEVICE_STATE = "device_state"  # data: DeviceInfo, on save, DND, ringing, registration, last call
    DEVICE_DELETED = "device_deleted"  # data: {"device_id": str}
    RULE_SAVED = "rule_saved"  # data: RoutingRule
    RULE_DELETED = "rule_deleted"  # data: {"rule_id": str}
    DND_CHANGED = "dnd_changed"  # data: {"global_dnd": bool}


class Speaker(StrEnum):
    """Who said a transcript line."""

    COMPANY = "company"  # menus, announcements, anything before a person answered
    AGENT = "agent"  # the person at the company
    YOU = "you"  # the user, once bridged
    HOLD_SLAYER = "hold_slayer"  # what Hold Slayer itself said


# fetch_recording returns base64 chunks of at most this many bytes, so a result stays well under
# MAX_MESSAGE_BYTES once encoded (base64 grows it by 4/3, plus the envelope).
RECORDING_CHUNK_BYTES: Final = 128 * 1024


class CallState(StrEnum):
    """Where a call is. ``ended`` and ``failed`` are final."""

    DIALING = "dialing"
    RINGING = "ringing"
    IVR = "ivr"
    HOLD = "hold"
    PROBING = "probing"  # unsure whether a person speaks: the call said "Hello?" and judges the reply
    HUMAN = "human"
    RINGING_USER = "ringing_user"
    BRIDGED = "bridged"
    ENDED = "ended"
    FAILED = "failed"


FINAL_STATES: Final = frozenset({CallState.ENDED, CallState.FAILED})


class CallOutcome(StrEnum):
    """How a call finished."""

    CONNECTED = "connected"  # the user was bridged to a person
    NO_HUMAN = "no_human"  # the company hung up or the hold timed out before a person answered
    USER_MISSED = "user_missed"  # a person answered but the user's phone did not pick up
    CANCELLED = "cancelled"  # hung up on request
    FAILED = "failed"  # SIP failure, busy, unreachable


class DtmfMethod(StrEnum):
    """How digits are sent (RFC 4733 telephone-events, SIP INFO, or in-band tones)."""

    RFC2833 = "rfc2833"
    SIP_INFO = "sip_info"
    INBAND = "inband"


class CallInfo(TypedDict):
    """One call as the sidecar reports it in snapshots and ``call_state`` events."""

    call_id: str
    target: str  # number or SIP URI dialled
    company: str | None
    intent: str | None
    department: str | None
    state: str  # CallState value
    started_at: str  # ISO 8601, UTC
    state_since: str
    hold_started_at: str | None
    hold_seconds: float  # total time spent on hold so far
    human_detected_at: str | None
    transfer_to: str | None
    digits_sent: str
    outcome: str | None  # CallOutcome value once final
    reason: str | None  # human-readable detail for failures
    recordings: list[str]


class Registration(TypedDict):
    """The trunk's registration as the registrar last answered it."""

    state: str  # RegistrationState value
    code: int | None  # the last SIP status (200, 401, 403, 408 ...), None before any answer
    reason: str | None  # human-readable: "the registrar rejected the password (403)"
    registrar: str | None  # host[:port], no credentials


class RegistrationState(StrEnum):
    """Where the trunk's registration stands."""

    NOT_CONFIGURED = "not_configured"
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"


class SidecarInfo(TypedDict):
    """Facts about the sidecar itself."""

    version: str
    sip_registered: bool
    max_calls: int
    engines: dict[str, str]  # engine role -> health ("ok", "unavailable: ...")
    registration: NotRequired[Registration]


class Snapshot(TypedDict):
    """Full state sent in ``welcome`` and on ``get_snapshot``; a reconnecting client resyncs from it."""

    sidecar: SidecarInfo
    calls: list[CallInfo]
    inbound: NotRequired[InboundSnapshot]  # absent from a sidecar without the inbound half


# ----- settings made in Home Assistant (issue #19) -----


class ConfigureData(TypedDict, total=False):
    """``configure`` request data: each section present replaces that section; absent ones stay as they are.

    The sections' fields are the sidecar's settings of the same name (see its settings module); the sidecar
    validates them and answers ``invalid_data`` with a message the form can show, or ``sip_error`` when the
    registrar refused (``"the registrar rejected the password (403)"``). Nothing is applied unless all is valid.
    """

    trunk: dict[str, Any] | None  # registrar, username, password, domain, transport, dtmf_method, dtmf timing
    user_phones: list[str]  # where the user is rung: numbers or sip: URIs, first is the default
    voice: dict[str, Any]  # stt/tts backends: "embedded" or a Wyoming host:port; llm: OpenAI-compatible
    courtesy: dict[str, Any]  # the spoken lines (name, greeting, still_connecting ...)
    receptionist: dict[str, Any]  # owner_name, greeting (inbound; ``{owner}`` is its only placeholder)


class ConfigureResult(TypedDict):
    """``configure`` result."""

    applied: list[str]  # section names applied
    registration: Registration
    engines: dict[str, str]


# The only placeholder a receptionist greeting may hold (``configure`` section receptionist). Both sides
# check a template when it is set (the form, the settings), not when it is said.
RECEPTIONIST_PLACEHOLDER: Final = "owner"


def template_placeholders_other_than(template: str, allowed: str) -> list[str]:
    """Return the placeholders of ``template`` other than a bare ``{allowed}``, as written, sorted.

    Raises ValueError for a brace without its pair. A conversion (``{owner!r}``) would fail or say a repr
    only when the line is said, and a format spec (``{owner:>99999999}``) would make a huge text: only the
    bare name is allowed.
    """
    parsed = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(template)]
    return sorted(
        field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        for field, spec, conversion in parsed
        if field is not None and (field != allowed or spec or conversion)
    )


# ----- the inbound half (issue #18) -----


class DeviceKind(StrEnum):
    """Where a device is reached."""

    SIP_URI = "sip_uri"  # a phone on the LAN reached at a sip: URI
    NUMBER = "number"  # a number rung through the trunk (the user's mobile)
    EXTENSION = "extension"  # an extension of a PBX behind the trunk
    REGISTERED = "registered"  # a phone or softphone registered to Hold Slayer's registrar (kamailio)


class DeviceData(TypedDict):
    """``save_device`` request data; without ``device_id`` a new device is made."""

    device_id: NotRequired[str]
    name: str
    kind: str  # DeviceKind value
    address: NotRequired[str]  # sip: URI, number or extension; not for REGISTERED (its username is made)
    priority: NotRequired[int]  # lower rings first in a chain (default 100)
    ring_timeout_s: NotRequired[float]  # how long it rings before the chain moves on (default 20)
    dnd: NotRequired[bool]
    reset_credentials: NotRequired[bool]  # REGISTERED only: make a new password (shown once)


class DeviceInfo(TypedDict):
    """One device as the sidecar reports it."""

    device_id: str
    name: str
    kind: str  # DeviceKind value
    address: str  # for REGISTERED: the SIP username
    priority: int
    ring_timeout_s: float
    dnd: bool
    registered: bool | None  # REGISTERED only: a contact is bound now; None for the other kinds
    ringing: bool
    last_call_at: str | None  # ISO 8601, UTC
    last_caller: str | None


class Credentials(TypedDict):
    """A registered device's digest credentials: returned once, when made; never stored on the HA side."""

    username: str
    password: str
    domain: str  # the realm / SIP domain to set in the phone
    registrar: str  # host:port the phone registers to


class RuleAction(StrEnum):
    """What a routing rule does with a call it matches."""

    RING_DEVICE = "ring_device"
    RING_CHAIN = "ring_chain"
    RECEPTIONIST = "receptionist"
    TAKE_MESSAGE = "take_message"
    REJECT = "reject"
    DND = "dnd"  # as if DND were on: straight to voicemail, nothing rings


class RoutingRule(TypedDict):
    """A routing rule. Every condition set must match; unset (None/empty) conditions match everything."""

    rule_id: NotRequired[str]
    name: str
    enabled: bool
    priority: int  # lower is evaluated first
    caller_pattern: NotRequired[str | None]  # glob on the caller's number: "+1800*", "anonymous"
    dialled_pattern: NotRequired[str | None]  # glob on the number dialled (DNIS)
    time_start: NotRequired[str | None]  # "HH:MM"; with time_end; a range may wrap midnight ("22:00"-"06:00")
    time_end: NotRequired[str | None]
    days: NotRequired[list[str]]  # "mon".."sun": the day the range starts on; empty: every day
    time_zone: NotRequired[str | None]  # IANA name; None: the sidecar's time zone
    known_contact: NotRequired[bool | None]  # True: only contacts; False: only strangers; None: anyone
    action: str  # RuleAction value
    device_id: NotRequired[str | None]  # RING_DEVICE: which device
    reject_code: NotRequired[int | None]  # REJECT: a SIP final status 400-699 (default 603 Decline)
    reject_message: NotRequired[str | None]  # REJECT: spoken to the caller (answer, say, hang up) instead of a code


class RouteQuery(TypedDict):
    """``test_route`` request data: who would ring for this caller, at this time."""

    caller: str
    dialled: NotRequired[str | None]
    at: NotRequired[str | None]  # ISO 8601 with offset; None: now


class RouteDecision(TypedDict):
    """What the rules decided for a call (or would decide, from ``test_route``)."""

    action: str  # RuleAction value
    rule_id: str | None  # None: no rule matched, the default action
    rule_name: str | None
    device_ids: list[str]  # who would ring, in order, DND devices skipped
    reason: str  # human-readable: "rule 'Toll-free at night' (22:00-07:00 America/New_York)"


class Contact(TypedDict):
    """A known caller."""

    name: str
    number: str


class InboundState(StrEnum):
    """Where an inbound call stands."""

    SCREENING = "screening"  # the receptionist is talking to the caller
    RINGING = "ringing"  # devices are ringing
    ANSWERED = "answered"  # a device answered; the caller is connected to it
    VOICEMAIL = "voicemail"  # the caller is leaving a message
    REJECTED = "rejected"
    ENDED = "ended"


class InboundCallInfo(TypedDict):
    """One inbound call."""

    call_id: str
    caller: str  # the caller's number or "anonymous"
    caller_name: str | None  # from the contacts, or what the caller said
    dialled: str | None  # the number dialled (DNIS)
    started_at: str
    state: str  # InboundState value
    decision: RouteDecision
    purpose: str | None  # what the receptionist heard the call is about
    urgency: str | None  # "low" | "normal" | "high"
    heard: str | None  # the caller's words, transcribed
    robocall: bool
    reason: str | None  # why the call went where it went (rule, DND, receptionist, robocall evidence)
    ringing_devices: list[str]
    answered_by: str | None  # device_id
    voicemail_id: str | None


class VoicemailInfo(TypedDict):
    """One voicemail."""

    voicemail_id: str
    call_id: str
    caller: str
    caller_name: str | None
    dialled: str | None
    received_at: str
    duration_s: float
    transcript: str | None  # None while transcription is pending or failed
    recording: str  # a path for fetch_recording
    heard: bool


class InboundSnapshot(TypedDict):
    """The inbound half's state in a snapshot."""

    global_dnd: bool
    devices: list[DeviceInfo]
    calls: list[InboundCallInfo]  # calls in progress
    unheard_voicemails: int
    last_caller: NotRequired[InboundCallInfo | None]


class PlaceCallData(TypedDict):
    """``place_call`` request data. ``target`` is a phone number or a ``sip:`` URI."""

    target: str
    company: NotRequired[str | None]
    intent: NotRequired[str | None]
    call_flow: NotRequired[str | None]
    transfer_to: NotRequired[str | None]


def encode(message: dict[str, Any]) -> str:
    """Serialise one frame."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def fits_frame(encoded: str) -> bool:
    """Return True when an encoded frame is within ``MAX_MESSAGE_BYTES`` as UTF-8."""
    # A character takes at most 4 bytes in UTF-8: most frames are cleared without encoding them.
    return len(encoded) * 4 <= MAX_MESSAGE_BYTES or len(encoded.encode("utf-8", "replace")) <= MAX_MESSAGE_BYTES


def decode(raw: str | bytes) -> dict[str, Any]:
    """Parse one frame and check its envelope; raise ``ProtocolError`` on anything malformed."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "message too large")
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:  # also int strings over sys.get_int_max_str_digits()
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"not JSON: {err}") from err
    except RecursionError as err:  # json nests by recursion: 5,000 '[' exhaust the interpreter's stack limit
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "not JSON: nested too deeply") from err
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a message must be a JSON object")
    request_id = _request_id(message)
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:  # a list or object is unhashable: test the type first
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"unknown message type: {_clip(kind)}", request_id)
    if _LONE_SURROGATE_ESCAPE.search(raw if isinstance(raw, str) else raw.decode("utf-8", "replace")):
        _check_encodable(message, request_id)
    _check_envelope(MessageType(kind), message, request_id)
    return message


_TYPES: Final = frozenset(t.value for t in MessageType)
# JSON may escape a UTF-16 surrogate alone ("\ud800"); Python keeps it, and it cannot be encoded as UTF-8 again,
# so an error message that quoted it would break the connection's writer.
_LONE_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def _check_encodable(message: dict[str, Any], request_id: int | None) -> None:
    try:
        json.dumps(message, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a string holds a lone UTF-16 surrogate", request_id) from err
    except RecursionError as err:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "not JSON: nested too deeply", request_id) from err


def _request_id(message: dict[str, Any]) -> int | None:
    """Return the id of a request when it has a usable one, so a malformed request still gets its result."""
    value = message.get("id")
    if message.get("type") == MessageType.REQUEST and isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _clip(value: Any) -> str:
    """Return a short repr of a stranger's value for an error message."""
    text = repr(value) if isinstance(value, str | int | float | bool | None) else type(value).__name__
    return text if len(text) <= 40 else text[:40] + "..."


_REQUIRED: Final[dict[MessageType, dict[str, type | tuple[type, ...]]]] = {
    MessageType.HELLO: {"token": str, "protocol": int},
    MessageType.WELCOME: {"protocol": int, "sidecar_version": str, "snapshot": dict},
    MessageType.ERROR: {"code": str, "message": str},
    MessageType.REQUEST: {"id": int, "command": str},
    MessageType.RESULT: {"id": int, "success": bool},
    MessageType.EVENT: {"seq": int, "event": str, "data": dict},
}


def _check_envelope(kind: MessageType, message: dict[str, Any], request_id: int | None) -> None:
    for key, expected in _REQUIRED[kind].items():
        value = message.get(key)
        # bool is an int subclass; an id or version of True is a bug, not a number.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problem = f"{kind.value}: field {key!r} is missing or not {_name(expected)}"
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, problem, request_id)
    if kind is MessageType.REQUEST and not isinstance(message.get("data", {}), dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "request: field 'data' must be an object", request_id)


def _name(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def hello(token: str, client: str) -> dict[str, Any]:
    """Build the first frame a client sends."""
    return {"type": MessageType.HELLO, "token": token, "protocol": PROTOCOL_VERSION, "client": client}


def error(code: str, message: str) -> dict[str, Any]:
    """Build an error frame not tied to a request."""
    return {"type": MessageType.ERROR, "code": code, "message": message}


def request(request_id: int, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build a request frame."""
    return {"type": MessageType.REQUEST, "id": request_id, "command": command, "data": data or {}}


def result_ok(request_id: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build a successful result."""
    return {"type": MessageType.RESULT, "id": request_id, "success": True, "data": data or {}}


def result_error(request_id: int, code: str, message: str) -> dict[str, Any]:
    """Build a failed result."""
    return {"type": MessageType.RESULT, "id": request_id, "success": False, "error": {"code": code, "message": message}}


def event(seq: int, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Build an event frame."""
    return {"type": MessageType.EVENT, "seq": seq, "event": name, "data": data}

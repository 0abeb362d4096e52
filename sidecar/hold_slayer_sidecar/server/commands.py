"""Requests: validate each command's data, call the call service, shape the result."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import protocol
from ..calls.errors import CallError
from ..configure.control import ConfigureRefused
from ..dialplan import DialPolicyError, check_dtmf
from ..history.model_summary import SummaryRejectedError
from ..history.service import HistoryError
from ..inbound.errors import InboundError
from ..nav.flows import CallFlow
from ..protocol import (
    MAX_COMPANY_CHARS,
    MAX_FLOW_ID_CHARS,
    MAX_INTENT_CHARS,
    MAX_TARGET_CHARS,
    CallInfo,
    Command,
    ConfigureResult,
    ErrorCode,
    Snapshot,
)
from ..store.history import CallQuery
from ..store.sqlite import StoreError
from .inbound_commands import INBOUND_HANDLERS, InboundCommandError

_LOGGER = logging.getLogger(__name__)


class CallService(Protocol):
    """What the server needs from the call manager."""

    def snapshot(self) -> Snapshot:
        """Return the full state."""
        ...

    async def place_call(
        self,
        target: str,
        *,
        company: str | None = None,
        intent: str | None = None,
        call_flow: str | None = None,
        transfer_to: str | None = None,
    ) -> CallInfo:
        """Start a call."""
        ...

    async def hang_up(self, call_id: str) -> CallInfo:
        """End a call."""
        ...

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send digits by hand."""
        ...

    async def list_flows(
        self, company: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> list[CallFlow]:
        """List stored flows by id (a page with ``after`` and ``limit``)."""
        ...

    async def get_flow(self, flow_id: str) -> CallFlow:
        """Return one flow."""
        ...

    async def save_flow(self, flow: CallFlow) -> None:
        """Store a flow."""
        ...

    async def delete_flow(self, flow_id: str) -> None:
        """Delete a flow."""
        ...

    async def find_calls(self, query: CallQuery) -> dict[str, Any]:
        """Return the calls matching a query ({"calls", "stats"}; the handler pages them)."""
        ...

    async def get_call(self, call_id: str, after_seq: int) -> dict[str, Any]:
        """Return one call with its transcript, recordings and summary."""
        ...

    async def statistics(self, tz: ZoneInfo, company: str | None) -> dict[str, Any]:
        """Return hold statistics per company."""
        ...

    async def submit_summary(self, call_id: str, reply: dict[str, Any], source: str) -> dict[str, Any]:
        """Store a summary another model wrote (checked against the transcript)."""
        ...

    async def forecast(self, company: str, tz: ZoneInfo) -> dict[str, Any]:
        """Return the hold forecast of one company."""
        ...

    async def fetch_recording(self, call_id: str, name: str, offset: int) -> dict[str, Any]:
        """Return one chunk of a recording."""
        ...


@runtime_checkable
class SettingsService(Protocol):
    """A service that also takes settings from Home Assistant (``configure``, ``get_settings``)."""

    async def configure(self, data: dict[str, Any]) -> ConfigureResult:
        """Apply settings as one unit."""
        ...

    def get_settings(self) -> dict[str, Any]:
        """Return the applied settings, without secrets."""
        ...


class CommandError(Exception):
    """A request that cannot be answered with success."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _PlaceCall(_Data):
    target: str = Field(min_length=1, max_length=MAX_TARGET_CHARS)
    company: str | None = Field(default=None, max_length=MAX_COMPANY_CHARS)
    intent: str | None = Field(default=None, max_length=MAX_INTENT_CHARS)
    call_flow: str | None = Field(default=None, max_length=MAX_FLOW_ID_CHARS)
    transfer_to: str | None = Field(default=None, max_length=MAX_TARGET_CHARS)


class _CallRef(_Data):
    call_id: str = Field(min_length=1, max_length=64)


class _SendDtmf(_CallRef):
    digits: str = Field(min_length=1, max_length=256)

    @field_validator("digits")
    @classmethod
    def _policy(cls, value: str) -> str:
        # The integration checks digits with the same policy, so both sides accept the same strings.
        try:
            return check_dtmf(value)
        except DialPolicyError as err:
            raise ValueError(err.message) from err


class _FlowRef(_Data):
    id: str = Field(min_length=1, max_length=64)


class _Page(_Data):
    limit: int = Field(default=protocol.DEFAULT_PAGE_SIZE, ge=1, le=protocol.MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=64)  # the id of the last item seen
    company: str | None = Field(default=None, max_length=120)


class _History(_Page):
    limit: int = Field(default=50, ge=1, le=protocol.MAX_PAGE_SIZE)
    number: str | None = Field(default=None, max_length=256)
    outcome: str | None = Field(default=None, max_length=32)
    since: datetime | None = None
    until: datetime | None = None


# A page leaves this much of a frame for the envelope, the cursor and the other keys of the result.
PAGE_BYTES = protocol.MAX_MESSAGE_BYTES - 4096
# A call flow of 50 steps with 500-character prompts takes about 40 kB; past 64 kB it is not a menu
# but an attempt to fill the disk, and every flow must fit in one page of list_call_flows.
MAX_FLOW_BYTES = 64 * 1024
# Hold statistics are per company; the companies with the most calls come first.
MAX_STATS = 100


class _GetCall(_CallRef):
    after_seq: int = Field(default=0, ge=0)


class _SubmitSummary(_CallRef):
    reply: dict[str, Any]
    source: Literal["ai_task"] = "ai_task"


class _TimeZone(_Data):
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)


class _Statistics(_TimeZone):
    company: str | None = Field(default=None, max_length=120)


class _Forecast(_TimeZone):
    company: str = Field(min_length=1, max_length=120)


class _FetchRecording(_CallRef):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    offset: int = Field(default=0, ge=0)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise CommandError(ErrorCode.INVALID_DATA, f"time_zone: unknown time zone {name!r}") from err


def _aware(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _parse[M: BaseModel](model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise CommandError(ErrorCode.INVALID_DATA, _describe(err)) from err


def _describe(err: ValidationError) -> str:
    """'field: problem' for each error, so the client sees which field is wrong."""
    parts = []
    for item in err.errors()[:5]:
        field = ".".join(str(part) for part in item["loc"]) or "data"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


type Handler = Callable[[CallService, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _ping(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    return {"pong": True, "time": datetime.now(UTC).isoformat()}


async def _snapshot(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    return dict(service.snapshot())


async def _place_call(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_PlaceCall, data)
    info = await service.place_call(
        req.target, company=req.company, intent=req.intent, call_flow=req.call_flow, transfer_to=req.transfer_to
    )
    return {"call_id": info["call_id"], "call": dict(info)}


async def _hang_up(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    info = await service.hang_up(_parse(_CallRef, data).call_id)
    return {"call": dict(info)}


async def _send_dtmf(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_SendDtmf, data)
    await service.send_dtmf(req.call_id, req.digits)
    return {}


def _paged(items: list[dict[str, Any]], limit: int, key: str, budget: int) -> dict[str, Any]:
    """Take up to ``limit`` items within ``budget`` bytes; give the cursor and the keys of items too large.

    An item too large for a frame on its own is skipped and named in ``omitted``, so paging always moves on.
    """
    page: list[dict[str, Any]] = []
    omitted: list[str] = []
    used = 0
    last: str | None = None
    for item in items[:limit]:
        size = len(protocol.encode(item).encode("utf-8", "replace")) + 1
        if size > budget:
            omitted.append(str(item[key]))
        elif used + size > budget:
            break
        else:
            page.append(item)
            used += size
        last = str(item[key])
    more = len(page) + len(omitted) < len(items)
    return {"items": page, "next_cursor": last if more else None, "omitted": omitted}


async def _list_flows(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_Page, data)
    # One more than asked: whether it exists says if there is a next page.
    flows = await service.list_flows(req.company, after=req.cursor, limit=req.limit + 1)
    page = _paged([flow.model_dump(mode="json") for flow in flows], req.limit, "id", PAGE_BYTES)
    result = {"flows": page["items"], "next_cursor": page["next_cursor"]}
    if page["omitted"]:
        result["omitted"] = page["omitted"]
    return result


async def _get_flow(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    flow = await service.get_flow(_parse(_FlowRef, data).id)
    return {"flow": flow.model_dump(mode="json")}


async def _save_flow(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    # Accept {"flow": {...}} or the flow object itself as the data.
    body = data.get("flow", data)
    if not isinstance(body, dict):
        raise CommandError(ErrorCode.INVALID_DATA, "flow: must be an object")
    try:
        flow = CallFlow.model_validate(body)
    except ValidationError as err:
        raise CommandError(ErrorCode.INVALID_DATA, _describe(err)) from err
    if (size := len(flow.model_dump_json().encode())) > MAX_FLOW_BYTES:
        raise CommandError(ErrorCode.INVALID_DATA, f"flow: {size} bytes, at most {MAX_FLOW_BYTES} are kept")
    await service.save_flow(flow)
    return {"flow": flow.model_dump(mode="json")}


async def _delete_flow(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    await service.delete_flow(_parse(_FlowRef, data).id)
    return {}


async def _history(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_History, data)
    query = CallQuery(
        company=req.company,
        number=req.number,
        outcome=req.outcome,
        since=_aware(req.since),
        until=_aware(req.until),
        limit=req.limit + 1,  # one more than asked: whether it exists says if there is a next page
        after=req.cursor,
    )
    found = await service.find_calls(query)
    stats = sorted(found["stats"], key=lambda s: -int(s.get("calls", 0)))[:MAX_STATS]
    budget = PAGE_BYTES - len(protocol.encode({"stats": stats}).encode("utf-8", "replace"))
    page = _paged(found["calls"], req.limit, "call_id", budget)
    result = {"calls": page["items"], "stats": stats, "next_cursor": page["next_cursor"]}
    if page["omitted"]:
        result["omitted"] = page["omitted"]
    return result


async def _get_call(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_GetCall, data)
    return await service.get_call(req.call_id, req.after_seq)


async def _submit_summary(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_SubmitSummary, data)
    return {"summary": await service.submit_summary(req.call_id, req.reply, req.source)}


async def _statistics(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_Statistics, data)
    return await service.statistics(_zone(req.time_zone), req.company)


async def _forecast(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_Forecast, data)
    return await service.forecast(req.company, _zone(req.time_zone))


async def _fetch_recording(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_FetchRecording, data)
    return await service.fetch_recording(req.call_id, req.name, req.offset)


def _settings(service: CallService) -> SettingsService:
    if not isinstance(service, SettingsService):
        raise CommandError(ErrorCode.NOT_READY, "this sidecar takes no settings from Home Assistant")
    return service


async def _configure(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await _settings(service).configure(data))


async def _get_settings(service: CallService, data: dict[str, Any]) -> dict[str, Any]:
    return _settings(service).get_settings()


HANDLERS: dict[str, Handler] = {
    Command.PING: _ping,
    Command.GET_SNAPSHOT: _snapshot,
    Command.PLACE_CALL: _place_call,
    Command.HANG_UP: _hang_up,
    Command.SEND_DTMF: _send_dtmf,
    Command.LIST_CALL_FLOWS: _list_flows,
    Command.GET_CALL_FLOW: _get_flow,
    Command.SAVE_CALL_FLOW: _save_flow,
    Command.DELETE_CALL_FLOW: _delete_flow,
    Command.GET_HISTORY: _history,
    Command.GET_CALL: _get_call,
    Command.GET_STATISTICS: _statistics,
    Command.GET_FORECAST: _forecast,
    Command.FETCH_RECORDING: _fetch_recording,
    Command.SUBMIT_SUMMARY: _submit_summary,
    **INBOUND_HANDLERS,
    Command.CONFIGURE: _configure,
    Command.GET_SETTINGS: _get_settings,
}


async def dispatch(service: CallService, command: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run one command; raise CommandError with a protocol code on any failure."""
    handler = HANDLERS.get(command)
    if handler is None:
        raise CommandError(ErrorCode.UNKNOWN_COMMAND, f"unknown command: {command!r}")
    try:
        return await handler(service, data)
    except (CallError, InboundError, InboundCommandError) as err:
        raise CommandError(err.code, err.message) from err
    except HistoryError as err:
        raise CommandError(ErrorCode.NOT_FOUND, str(err)) from err
    except SummaryRejectedError as err:
        raise CommandError(ErrorCode.INVALID_DATA, str(err)) from err
    except ConfigureRefused as err:
        raise CommandError(err.code, err.message) from err
    except StoreError as err:
        _LOGGER.error("store failed during %s: %s", command, err)
        raise CommandError(ErrorCode.INTERNAL_ERROR, f"storage failed: {err}") from err

"""Requests of the inbound half: devices, DND, rules, route tests, contacts, inbound calls, voicemails.

Every field is checked strictly (a string where a number belongs is refused, not guessed at) and every
error names its field, so the HA forms can show it next to that field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import protocol
from ..inbound.directory import MAX_CONTACTS, MAX_RING_TIMEOUT_S, MIN_RING_TIMEOUT_S
from ..inbound.service import InboundService
from ..protocol import Command, Contact, ErrorCode


class InboundCommandError(Exception):
    """A request of the inbound half that cannot be answered with success."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        """Keep the protocol code."""
        super().__init__(message)
        self.code = code
        self.message = message


_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"  # the ids the sidecar makes; anything else cannot name one of them


def _id() -> Any:
    return Field(min_length=1, max_length=64, pattern=_ID_PATTERN)


def _optional_id() -> Any:
    return Field(default=None, min_length=1, max_length=64, pattern=_ID_PATTERN)


_Kind = Literal["sip_uri", "number", "extension", "registered"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class _DeviceData(_Strict):
    device_id: str | None = _optional_id()
    name: str = Field(min_length=1, max_length=80)
    kind: _Kind
    address: str | None = Field(default=None, max_length=256)
    priority: int | None = Field(default=None, ge=0, le=1000)
    ring_timeout_s: float | None = Field(default=None, ge=MIN_RING_TIMEOUT_S, le=MAX_RING_TIMEOUT_S)
    dnd: bool | None = None
    reset_credentials: bool = False


class _DeviceRef(_Strict):
    device_id: str = _id()


class _SetDnd(_Strict):
    device_id: str | None = _optional_id()
    enabled: bool


class _RuleRef(_Strict):
    rule_id: str = _id()


class _RouteQuery(_Strict):
    caller: str = Field(min_length=1, max_length=64)
    dialled: str | None = Field(default=None, max_length=64)
    at: str | None = Field(default=None, max_length=64)  # ISO 8601, with an offset (else the sidecar's zone)

    @field_validator("at")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError as err:
                raise ValueError("an ISO 8601 date and time, e.g. 2026-06-03T23:30:00-04:00") from err
        return value


class _Contact(_Strict):
    name: str = Field(min_length=1, max_length=120)
    number: str = Field(min_length=1, max_length=64)


class _Contacts(_Strict):
    contacts: list[_Contact] = Field(max_length=MAX_CONTACTS)


class _AnswerInbound(_Strict):
    call_id: str = _id()
    device_id: str = _id()


class _RejectInbound(_Strict):
    call_id: str = _id()
    to_voicemail: bool = False


class _VoicemailPage(_Strict):
    limit: int = Field(default=protocol.DEFAULT_PAGE_SIZE, ge=1, le=protocol.MAX_PAGE_SIZE)
    cursor: str | None = _optional_id()


class _VoicemailRef(_Strict):
    voicemail_id: str = _id()


class _MarkVoicemail(_VoicemailRef):
    heard: bool


def _parse[M: BaseModel](model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        parts = []
        for item in err.errors()[:5]:
            field = ".".join(str(part) for part in item["loc"]) or "data"
            parts.append(f"{field}: {item['msg']}")
        raise InboundCommandError(ErrorCode.INVALID_DATA, "; ".join(parts)) from err


def _service(owner: Any) -> InboundService:
    inbound: InboundService | None = getattr(owner, "inbound", None)
    if inbound is None:
        raise InboundCommandError(ErrorCode.NOT_READY, "the inbound half is not running")
    return inbound


def _body(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Accept {"rule": {...}} or the object itself as the data (as save_call_flow does)."""
    body = data.get(key, data) if set(data) == {key} else data
    if not isinstance(body, dict):
        raise InboundCommandError(ErrorCode.INVALID_DATA, f"{key}: must be an object")
    return body


async def _list_devices(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    _parse(_Strict, data)
    return await _service(owner).list_devices()


async def _save_device(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_DeviceData, _body(data, "device"))
    return await _service(owner).save_device(req.model_dump(exclude_none=True))


async def _delete_device(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    await _service(owner).delete_device(_parse(_DeviceRef, data).device_id)
    return {}


async def _set_dnd(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_SetDnd, data)
    await _service(owner).set_dnd(req.device_id, req.enabled)
    return {}


async def _list_rules(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    _parse(_Strict, data)
    return {"rules": _service(owner).list_rules()}


async def _save_rule(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {"rule": await _service(owner).save_rule(_body(data, "rule"))}


async def _delete_rule(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    await _service(owner).delete_rule(_parse(_RuleRef, data).rule_id)
    return {}


async def _test_route(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_RouteQuery, data)
    at = datetime.fromisoformat(req.at) if req.at is not None else None
    return {"decision": _service(owner).test_route(req.caller, req.dialled, at)}


async def _set_contacts(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_Contacts, data)
    kept = await _service(owner).set_contacts([Contact(name=c.name, number=c.number) for c in req.contacts])
    return {"contacts": kept}


async def _answer_inbound(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_AnswerInbound, data)
    await _service(owner).answer_inbound(req.call_id, req.device_id)
    return {}


async def _reject_inbound(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_RejectInbound, data)
    await _service(owner).reject_inbound(req.call_id, req.to_voicemail)
    return {}


async def _list_voicemails(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_VoicemailPage, data)
    return await _service(owner).list_voicemails(req.limit, req.cursor)


async def _mark_voicemail(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    req = _parse(_MarkVoicemail, data)
    await _service(owner).mark_voicemail(req.voicemail_id, req.heard)
    return {}


async def _delete_voicemail(owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    await _service(owner).delete_voicemail(_parse(_VoicemailRef, data).voicemail_id)
    return {}


INBOUND_HANDLERS: dict[str, Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    Command.LIST_DEVICES: _list_devices,
    Command.SAVE_DEVICE: _save_device,
    Command.DELETE_DEVICE: _delete_device,
    Command.SET_DND: _set_dnd,
    Command.LIST_RULES: _list_rules,
    Command.SAVE_RULE: _save_rule,
    Command.DELETE_RULE: _delete_rule,
    Command.TEST_ROUTE: _test_route,
    Command.SET_CONTACTS: _set_contacts,
    Command.ANSWER_INBOUND: _answer_inbound,
    Command.REJECT_INBOUND: _reject_inbound,
    Command.LIST_VOICEMAILS: _list_voicemails,
    Command.MARK_VOICEMAIL: _mark_voicemail,
    Command.DELETE_VOICEMAIL: _delete_voicemail,
}

"""Actions: place a call, hang up, send digits, and manage stored call flows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .client import HoldSlayerCommandError, HoldSlayerConnectionError, HoldSlayerError
from .const import (
    CONF_ALIASES,
    CONF_CALL_FLOW,
    CONF_NUMBER,
    CONF_REASON,
    CONF_TRANSFER_TO,
    DOMAIN,
    SUBENTRY_COMPANY,
)
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator
from .dialplan import DialPolicyError, check_dtmf, check_target
from .protocol import (
    FINAL_STATES,
    MAX_COMPANY_CHARS,
    MAX_FLOW_ID_CHARS,
    MAX_INTENT_CHARS,
    MAX_TARGET_CHARS,
    ErrorCode,
)

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_COMPANY: Final = "company"
ATTR_NUMBER: Final = "number"
ATTR_REASON: Final = "reason"
ATTR_CALL_FLOW: Final = "call_flow"
ATTR_TRANSFER_TO: Final = "transfer_to"
ATTR_CALL_ID: Final = "call_id"
ATTR_DIGITS: Final = "digits"
ATTR_FLOW: Final = "flow"
ATTR_FLOW_ID: Final = "flow_id"

SERVICE_PLACE_CALL: Final = "place_call"
SERVICE_HANG_UP: Final = "hang_up"
SERVICE_SEND_DTMF: Final = "send_dtmf"
SERVICE_SAVE_CALL_FLOW: Final = "save_call_flow"
SERVICE_DELETE_CALL_FLOW: Final = "delete_call_flow"

# Spoken references such as "my bank" or "the bank" should find the company "Bank".
_FILLER_PREFIXES: Final = ("my ", "the ", "our ")


def _dtmf(value: str) -> str:
    """Check digits with the dialling policy the sidecar uses, so both accept the same strings."""
    try:
        return check_dtmf(value)
    except DialPolicyError as err:
        raise vol.Invalid(err.message) from err


_TEXT = vol.All(cv.string, vol.Strip, vol.Length(min=1))


def _text(max_chars: int) -> vol.All:
    """Accept a non-empty string no longer than the sidecar takes (refused here, before anything is sent)."""
    return vol.All(cv.string, vol.Strip, vol.Length(min=1, max=max_chars))


_ENTRY: dict[vol.Marker, object] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}

PLACE_CALL_SCHEMA: Final = vol.Schema(
    vol.All(
        {
            **_ENTRY,
            vol.Exclusive(ATTR_COMPANY, "target"): _text(MAX_COMPANY_CHARS),
            vol.Exclusive(ATTR_NUMBER, "target"): _text(MAX_TARGET_CHARS),
            vol.Optional(ATTR_REASON): _text(MAX_INTENT_CHARS),
            vol.Optional(ATTR_CALL_FLOW): _text(MAX_FLOW_ID_CHARS),
            vol.Optional(ATTR_TRANSFER_TO): _text(MAX_TARGET_CHARS),
        },
        cv.has_at_least_one_key(ATTR_COMPANY, ATTR_NUMBER),
    )
)
HANG_UP_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Optional(ATTR_CALL_ID): _TEXT})
SEND_DTMF_SCHEMA: Final = vol.Schema(
    {
        **_ENTRY,
        vol.Optional(ATTR_CALL_ID): _TEXT,
        vol.Required(ATTR_DIGITS): vol.All(cv.string, _dtmf),
    }
)
SAVE_CALL_FLOW_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_FLOW): dict})
DELETE_CALL_FLOW_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_FLOW_ID): _TEXT})


type ServiceHandler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, in ``async_setup``)."""
    handlers: dict[str, tuple[ServiceHandler, vol.Schema, SupportsResponse]] = {
        SERVICE_PLACE_CALL: (_place_call, PLACE_CALL_SCHEMA, SupportsResponse.OPTIONAL),
        SERVICE_HANG_UP: (_hang_up, HANG_UP_SCHEMA, SupportsResponse.NONE),
        SERVICE_SEND_DTMF: (_send_dtmf, SEND_DTMF_SCHEMA, SupportsResponse.NONE),
        SERVICE_SAVE_CALL_FLOW: (_save_call_flow, SAVE_CALL_FLOW_SCHEMA, SupportsResponse.OPTIONAL),
        SERVICE_DELETE_CALL_FLOW: (_delete_call_flow, DELETE_CALL_FLOW_SCHEMA, SupportsResponse.NONE),
    }
    for name, (handler, schema, supports_response) in handlers.items():
        hass.services.async_register(DOMAIN, name, handler, schema=schema, supports_response=supports_response)


async def _place_call(call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(call)
    company: ConfigSubentry | None = None
    if company_name := call.data.get(ATTR_COMPANY):
        company = find_company(entry, company_name)
        if company is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_company",
                translation_placeholders={"company": company_name},
            )
        target = str(company.data[CONF_NUMBER])
    else:
        target = call.data[ATTR_NUMBER]
    # Emergency numbers are for a person to dial directly, and a target cannot carry SIP headers or
    # routes; the sidecar applies the same policy again before anything reaches SIP.
    target = checked_target(target)
    company_data = company.data if company else {}
    transfer_to = (
        call.data.get(ATTR_TRANSFER_TO) or company_data.get(CONF_TRANSFER_TO) or entry.options.get(CONF_TRANSFER_TO)
    )
    if transfer_to:
        transfer_to = checked_target(str(transfer_to))
    coordinator = _coordinator(entry)
    call_id = await _run(
        coordinator.client.place_call(
            target,
            company=company.title if company else None,
            intent=call.data.get(ATTR_REASON) or company_data.get(CONF_REASON),
            call_flow=call.data.get(ATTR_CALL_FLOW) or company_data.get(CONF_CALL_FLOW),
            transfer_to=transfer_to or None,
        )
    )
    if not call.return_response:
        return None
    # The resolved company name lets a voice reply say "Calling Acme Bank" rather than the alias heard.
    return {ATTR_CALL_ID: call_id, "company": company.title if company else None, "target": target}


async def _hang_up(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    await _run(coordinator.client.hang_up(_call_id(coordinator, call)))
    return None


async def _send_dtmf(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    await _run(coordinator.client.send_dtmf(_call_id(coordinator, call), call.data[ATTR_DIGITS]))
    return None


async def _save_call_flow(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    result = await _run(coordinator.client.save_call_flow(call.data[ATTR_FLOW]))
    return result if call.return_response else None


async def _delete_call_flow(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    await _run(coordinator.client.delete_call_flow(call.data[ATTR_FLOW_ID]))
    return None


def find_company(entry: HoldSlayerConfigEntry, spoken: str) -> ConfigSubentry | None:
    """Return the company whose name or alias matches ``spoken`` ("my bank" finds "Bank")."""
    wanted = {_simplify(spoken)}
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_COMPANY:
            continue
        names = {_simplify(subentry.title), *(_simplify(alias) for alias in subentry.data.get(CONF_ALIASES, []))}
        if wanted & names:
            return subentry
    return None


def _simplify(text: str) -> str:
    text = " ".join(text.casefold().split())
    for prefix in _FILLER_PREFIXES:
        text = text.removeprefix(prefix)
    return text


def _resolve_entry(call: ServiceCall) -> HoldSlayerConfigEntry:
    """Return the loaded entry named in the call, or the only loaded one."""
    entries: list[HoldSlayerConfigEntry] = call.hass.config_entries.async_loaded_entries(DOMAIN)
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entry = call.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_loaded",
                translation_placeholders={"entry_id": entry_id},
            )
        return entry
    if len(entries) != 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_entry" if not entries else "ambiguous_entry",
        )
    return entries[0]


def checked_target(value: str) -> str:
    """Return the target normalised by the dialling policy, or raise the translated validation error."""
    try:
        return check_target(value).value
    except DialPolicyError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.code,  # "emergency_number" or "invalid_target"
            translation_placeholders={"target": value},
        ) from err


def _coordinator(entry: HoldSlayerConfigEntry) -> HoldSlayerCoordinator:
    coordinator = entry.runtime_data
    if not coordinator.client.connected:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="not_connected")
    return coordinator


def _call_id(coordinator: HoldSlayerCoordinator, call: ServiceCall) -> str:
    """Return the call named in the service call, or the call in progress."""
    if call_id := call.data.get(ATTR_CALL_ID):
        return str(call_id)
    current = coordinator.state.current_call
    if current is None or current.get("state") in FINAL_STATES:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_active_call")
    return current["call_id"]


async def _run[T](request: Awaitable[T]) -> T:
    """Await a client request and turn its failures into translated Home Assistant errors."""
    try:
        return await request
    except HoldSlayerCommandError as err:
        if err.code == ErrorCode.EMERGENCY_NUMBER:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="emergency_number",
                translation_placeholders={"target": "?"},
            ) from err
        if err.code == ErrorCode.NOT_FOUND:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_found",
                translation_placeholders={"message": err.message},
            ) from err
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="sidecar_error",
            translation_placeholders={"code": err.code, "message": err.message},
        ) from err
    except HoldSlayerConnectionError as err:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="not_connected") from err
    except HoldSlayerError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="sidecar_error",
            translation_placeholders={"code": "error", "message": str(err)},
        ) from err

"""Actions of the inbound half: devices and rules (subentries too), a dry run of the rules, the call coming in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any, Final, cast

import voluptuous as vol
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .const import CONF_DEVICE_ID, CONF_RULE_ID, DOMAIN, SUBENTRY_DEVICE, SUBENTRY_RULE
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator
from .dialplan import normalize_number
from .entity import phone_identifier
from .inbound_model import FINAL_INBOUND_STATES
from .inbound_sync import device_subentry, rule_subentry
from .inbound_validation import DAYS, check_caller, clean_device, clean_rule
from .protocol import Contact, DeviceInfo, DeviceKind, RouteQuery, RuleAction
from .services import ATTR_CONFIG_ENTRY_ID, ServiceHandler, _coordinator, _resolve_entry, _run

ATTR_DEVICE: Final = "device"
ATTR_RULE: Final = "rule"
ATTR_CALLER: Final = "caller"
ATTR_DIALLED: Final = "dialled"
ATTR_AT: Final = "at"
ATTR_CALL_ID: Final = "call_id"
ATTR_TO_VOICEMAIL: Final = "to_voicemail"
ATTR_VOICEMAIL_ID: Final = "voicemail_id"
ATTR_HEARD: Final = "heard"
ATTR_CONTACTS: Final = "contacts"
MAX_CONTACTS: Final = 5000  # what the sidecar keeps (a household's phone book is far smaller)

_TEXT = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=256))
_ENTRY: dict[vol.Marker, object] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}

ADD_DEVICE_SCHEMA: Final = vol.Schema(
    {
        **_ENTRY,
        vol.Required("name"): _TEXT,
        vol.Required("kind"): vol.In([kind.value for kind in DeviceKind]),
        vol.Optional("address"): _TEXT,
        vol.Optional("priority"): vol.Coerce(int),
        vol.Optional("ring_timeout_s"): vol.Coerce(float),
    }
)
DEVICE_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_DEVICE): _TEXT})
ADD_RULE_SCHEMA: Final = vol.Schema(
    {
        **_ENTRY,
        vol.Required("name"): _TEXT,
        vol.Required("action"): vol.In([action.value for action in RuleAction]),
        vol.Optional("enabled", default=True): cv.boolean,
        vol.Optional("priority"): vol.Coerce(int),
        vol.Optional("caller_pattern"): cv.string,
        vol.Optional("dialled_pattern"): cv.string,
        vol.Optional("time_start"): cv.string,
        vol.Optional("time_end"): cv.string,
        vol.Optional("days"): vol.All(cv.ensure_list, [vol.In(DAYS)]),
        vol.Optional("time_zone"): cv.string,
        vol.Optional("known_contact"): vol.In(["anyone", "contacts", "strangers"]),
        vol.Optional(ATTR_DEVICE): _TEXT,
        vol.Optional("reject_code"): vol.Coerce(int),
        vol.Optional("reject_message"): cv.string,
    }
)
RULE_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_RULE): _TEXT})
LIST_SCHEMA: Final = vol.Schema(_ENTRY)
TEST_ROUTE_SCHEMA: Final = vol.Schema(
    {**_ENTRY, vol.Required(ATTR_CALLER): _TEXT, vol.Optional(ATTR_DIALLED): _TEXT, vol.Optional(ATTR_AT): _TEXT}
)
ANSWER_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_DEVICE): _TEXT, vol.Optional(ATTR_CALL_ID): _TEXT})
REJECT_SCHEMA: Final = vol.Schema(
    {**_ENTRY, vol.Optional(ATTR_CALL_ID): _TEXT, vol.Optional(ATTR_TO_VOICEMAIL, default=False): cv.boolean}
)
CONTACTS_SCHEMA: Final = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_CONTACTS): vol.All(
            # A blank "contacts:" in YAML is None, which ensure_list turns into [] and so wipes the phone book:
            # refused here; an explicit [] still clears it.
            vol.Any(list, dict, msg="expected a list of contacts (use [] to clear them)"),
            cv.ensure_list,
            vol.Length(max=MAX_CONTACTS),
            [vol.Schema({vol.Required("name"): _TEXT, vol.Required("number"): _TEXT})],
        ),
    }
)
VOICEMAIL_SCHEMA: Final = vol.Schema(
    {**_ENTRY, vol.Required(ATTR_VOICEMAIL_ID): _TEXT, vol.Optional(ATTR_HEARD, default=True): cv.boolean}
)
DELETE_VOICEMAIL_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_VOICEMAIL_ID): _TEXT})


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders)


def _refuse(errors: dict[str, str], data: Mapping[str, object]) -> None:
    """Raise the first form error as a translated validation error naming the field."""
    if not errors:
        return
    field, key = next(iter(errors.items()))
    if key == "emergency_number":  # the same words as place_call: never rung, never dialled by automation
        raise _invalid("emergency_number", target=str(data.get(field, "")))
    raise _invalid("invalid_field", field=field, error=key)


def _subentry(entry: HoldSlayerConfigEntry, kind: str, key: str, ident: str) -> ConfigSubentry | None:
    for sub in entry.subentries.values():
        if sub.subentry_type == kind and sub.data.get(key) == ident:
            return sub
    return None


def resolve_device(hass: HomeAssistant, coordinator: HoldSlayerCoordinator, reference: str) -> DeviceInfo:
    """Return the device named by its sidecar id, its name, or its Home Assistant device id."""
    devices = coordinator.state.inbound.devices
    if reference in devices:
        return devices[reference]
    if (registered := dr.async_get(hass).async_get(reference)) is not None:
        entry_id = coordinator.config_entry.entry_id
        for device_id, device in devices.items():
            if (DOMAIN, phone_identifier(entry_id, device_id)) in registered.identifiers:
                return device
    wanted = reference.casefold()
    for device in devices.values():
        if str(device.get("name", "")).casefold() == wanted:
            return device
    raise _invalid("unknown_device", device=reference)


def _resolve_rule(coordinator: HoldSlayerCoordinator, reference: str) -> str:
    rules = coordinator.state.inbound.rules
    if reference in rules:
        return reference
    wanted = reference.casefold()
    for rule_id, rule in rules.items():
        if str(rule.get("name", "")).casefold() == wanted:
            return rule_id
    raise _invalid("unknown_rule", rule=reference)


async def _add_device(call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(call)
    coordinator = _coordinator(entry)
    device, errors = clean_device(dict(call.data))
    _refuse(errors, call.data)
    result = await _run(coordinator.client.save_device(device))
    saved = result.get("device")
    if not isinstance(saved, dict) or not isinstance(saved.get("device_id"), str):
        raise _invalid("sidecar_answer", command="save_device")
    coordinator.state.inbound.devices[saved["device_id"]] = saved  # type: ignore[assignment]
    call.hass.config_entries.async_add_subentry(entry, device_subentry(saved))  # type: ignore[arg-type]
    if not call.return_response:
        return None
    # The response is the one place a script sees a registered phone's password: HA stores it nowhere.
    return {"device_id": saved["device_id"], "credentials": result.get("credentials")}


async def _remove_device(call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(call)
    coordinator = _coordinator(entry)
    device = resolve_device(call.hass, coordinator, call.data[ATTR_DEVICE])
    await _run(coordinator.client.delete_device(device["device_id"]))
    coordinator.state.inbound.devices.pop(device["device_id"], None)
    if sub := _subentry(entry, SUBENTRY_DEVICE, CONF_DEVICE_ID, device["device_id"]):
        call.hass.config_entries.async_remove_subentry(entry, sub.subentry_id)
    return None


async def _add_rule(call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(call)
    coordinator = _coordinator(entry)
    data = dict(call.data)
    if reference := data.pop(ATTR_DEVICE, None):
        data[CONF_DEVICE_ID] = resolve_device(call.hass, coordinator, reference)["device_id"]
    rule, errors = clean_rule(data, set(coordinator.state.inbound.devices))
    _refuse(errors, data)
    stored = await _run(coordinator.client.save_rule(rule))
    if not isinstance(stored.get("rule_id"), str):
        raise _invalid("sidecar_answer", command="save_rule")
    coordinator.state.inbound.rules[stored["rule_id"]] = stored
    call.hass.config_entries.async_add_subentry(entry, rule_subentry(stored))
    return {"rule_id": stored["rule_id"]} if call.return_response else None


async def _remove_rule(call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(call)
    coordinator = _coordinator(entry)
    rule_id = _resolve_rule(coordinator, call.data[ATTR_RULE])
    await _run(coordinator.client.delete_rule(rule_id))
    coordinator.state.inbound.rules.pop(rule_id, None)
    if sub := _subentry(entry, SUBENTRY_RULE, CONF_RULE_ID, rule_id):
        call.hass.config_entries.async_remove_subentry(entry, sub.subentry_id)
    return None


async def _list_rules(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    rules = await _run(coordinator.client.list_rules())
    coordinator.state.inbound.set_rules(list(rules))
    return {"rules": [cast(dict[str, Any], rule) for rule in rules]}


async def _list_devices(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    return await _run(coordinator.client.list_devices())


def parse_at(hass: HomeAssistant, value: str) -> str:
    """Return ``at`` as ISO 8601 with an offset: "23:00" is today at 23:00 in Home Assistant's time zone."""
    text = value.strip()
    try:
        clock = time.fromisoformat(text)
    except ValueError:
        moment = dt_util.parse_datetime(text)
        if moment is None:
            raise _invalid("invalid_at", at=value) from None
    else:
        moment = datetime.combine(dt_util.now().date(), clock)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return moment.isoformat()


async def _test_route(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    caller = check_caller(call.data[ATTR_CALLER])
    if caller is None:
        raise _invalid("invalid_caller", caller=call.data[ATTR_CALLER])
    query: RouteQuery = {"caller": caller}
    if dialled := call.data.get(ATTR_DIALLED):
        query["dialled"] = dialled
    if at := call.data.get(ATTR_AT):
        query["at"] = parse_at(call.hass, at)
    decision = await _run(coordinator.client.test_route(query))
    devices = coordinator.state.inbound.devices
    names = [str(devices[d]["name"]) if d in devices else d for d in decision.get("device_ids") or []]
    return {**cast(dict[str, Any], decision), "device_names": names, "at": query.get("at")}


def _inbound_call_id(coordinator: HoldSlayerCoordinator, call: ServiceCall) -> str:
    if call_id := call.data.get(ATTR_CALL_ID):
        return str(call_id)
    active = coordinator.state.inbound.active_call
    if active is None or active.get("state") in FINAL_INBOUND_STATES:
        raise _invalid("no_inbound_call")
    return active["call_id"]


async def _answer_inbound(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    call_id = _inbound_call_id(coordinator, call)
    device = resolve_device(call.hass, coordinator, call.data[ATTR_DEVICE])
    await _run(coordinator.client.answer_inbound(call_id, device["device_id"]))
    return None


async def _reject_inbound(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    call_id = _inbound_call_id(coordinator, call)
    await _run(coordinator.client.reject_inbound(call_id, to_voicemail=call.data[ATTR_TO_VOICEMAIL]))
    return None


async def _set_contacts(call: ServiceCall) -> ServiceResponse:
    """Replace the callers known by name (rules may match contacts only, or strangers only)."""
    coordinator = _coordinator(_resolve_entry(call))
    contacts: list[Contact] = []
    for item in call.data[ATTR_CONTACTS]:
        number = normalize_number(item["number"])
        if number is None:  # the whole list is refused: a half-replaced phone book would route callers wrongly
            raise _invalid("invalid_contact_number", name=item["name"], number=item["number"])
        contacts.append({"name": item["name"], "number": number})
    kept = await _run(coordinator.client.set_contacts(contacts))
    return {"contacts": kept}


async def _mark_voicemail_heard(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    await _run(coordinator.client.mark_voicemail(call.data[ATTR_VOICEMAIL_ID], heard=call.data[ATTR_HEARD]))
    return None


async def _delete_voicemail(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    await _run(coordinator.client.delete_voicemail(call.data[ATTR_VOICEMAIL_ID]))
    return None


@callback
def async_setup_inbound_actions(hass: HomeAssistant) -> None:
    """Register the inbound half's actions (once, in ``async_setup``)."""
    handlers: dict[str, tuple[ServiceHandler, vol.Schema, SupportsResponse]] = {
        "add_device": (_add_device, ADD_DEVICE_SCHEMA, SupportsResponse.OPTIONAL),
        "remove_device": (_remove_device, DEVICE_SCHEMA, SupportsResponse.NONE),
        "add_rule": (_add_rule, ADD_RULE_SCHEMA, SupportsResponse.OPTIONAL),
        "remove_rule": (_remove_rule, RULE_SCHEMA, SupportsResponse.NONE),
        "list_rules": (_list_rules, LIST_SCHEMA, SupportsResponse.ONLY),
        "list_devices": (_list_devices, LIST_SCHEMA, SupportsResponse.ONLY),
        "test_route": (_test_route, TEST_ROUTE_SCHEMA, SupportsResponse.ONLY),
        "answer_inbound": (_answer_inbound, ANSWER_SCHEMA, SupportsResponse.NONE),
        "reject_inbound": (_reject_inbound, REJECT_SCHEMA, SupportsResponse.NONE),
        "set_contacts": (_set_contacts, CONTACTS_SCHEMA, SupportsResponse.OPTIONAL),
        "mark_voicemail_heard": (_mark_voicemail_heard, VOICEMAIL_SCHEMA, SupportsResponse.NONE),
        "delete_voicemail": (_delete_voicemail, DELETE_VOICEMAIL_SCHEMA, SupportsResponse.NONE),
    }
    for name, (handler, schema, supports_response) in handlers.items():
        hass.services.async_register(DOMAIN, name, handler, schema=schema, supports_response=supports_response)

"""Subentry flows of the inbound half: add, edit and refuse devices and routing rules from the integration's UI."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import HoldSlayerCommandError, HoldSlayerConnectionError
from custom_components.hold_slayer.const import DOMAIN, SUBENTRY_DEVICE, SUBENTRY_RULE

from .inbound_common import FakeInboundSidecar


async def start(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init((entry.entry_id, kind), context={"source": "user"})
    assert result["type"] is FlowResultType.FORM
    return dict(result)


async def submit(hass: HomeAssistant, flow: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.subentries.async_configure(flow["flow_id"], data))


def subentry(entry: MockConfigEntry, title: str) -> ConfigSubentry:
    return next(s for s in entry.subentries.values() if s.title == title)


# -- devices ---------------------------------------------------------------------------------------


async def test_add_sip_phone(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    flow = await start(hass, loaded, SUBENTRY_DEVICE)
    result = await submit(
        hass,
        flow,
        {
            "name": "Garage",
            "kind": "sip_uri",
            "address": " sip:garage@192.168.1.31 ",
            "priority": 30,
            "ring_timeout_s": 15,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    sent = inbound.client.save_device.await_args.args[0]
    assert sent == {
        "name": "Garage",
        "kind": "sip_uri",
        "address": "sip:garage@192.168.1.31",
        "priority": 30,
        "ring_timeout_s": 15.0,
    }
    await hass.async_block_till_done()
    added = subentry(loaded, "Garage")
    assert added.data["device_id"] in inbound.devices
    assert hass.states.get("switch.garage_do_not_disturb") is not None


async def test_add_registered_phone_shows_credentials_once(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    flow = await start(hass, loaded, SUBENTRY_DEVICE)
    result = await submit(hass, flow, {"name": "Softphone", "kind": "registered", "priority": 50, "ring_timeout_s": 20})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == "registered"
    assert result["description_placeholders"]["password"] == "Zq8-secret-pw"
    assert result["description_placeholders"]["registrar"] == "192.168.1.5:5060"
    await hass.async_block_till_done()
    stored = subentry(loaded, "Softphone")
    assert "Zq8-secret-pw" not in repr(dict(stored.data)) and "password" not in stored.data
    assert "Zq8-secret-pw" not in repr(loaded.as_dict())
    assert hass.states.get("binary_sensor.softphone_registered") is not None


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"name": " ", "kind": "sip_uri", "address": "sip:a@b"}, "name", "invalid_name"),
        ({"name": "x" * 65, "kind": "sip_uri", "address": "sip:a@b"}, "name", "invalid_name"),
        ({"name": "Kitchen phone", "kind": "sip_uri", "address": "sip:a@b"}, "name", "name_in_use"),
        ({"name": "A", "kind": "number", "address": "911"}, "address", "emergency_number"),
        ({"name": "A", "kind": "number", "address": "+1 (911)"}, "address", "emergency_number"),
        ({"name": "A", "kind": "number", "address": "112"}, "address", "emergency_number"),
        ({"name": "A", "kind": "sip_uri", "address": "sip:911@pbx.local"}, "address", "emergency_number"),
        ({"name": "A", "kind": "number", "address": "sip:me@host"}, "address", "invalid_number"),
        ({"name": "A", "kind": "sip_uri", "address": "+15550100200"}, "address", "invalid_sip_uri"),
        ({"name": "A", "kind": "sip_uri", "address": "sip:a@b?Subject=x"}, "address", "invalid_target"),
        ({"name": "A", "kind": "sip_uri"}, "address", "invalid_target"),
        ({"name": "A", "kind": "extension", "address": "12a"}, "address", "invalid_extension"),
        ({"name": "A", "kind": "extension", "address": "101"}, "address", "emergency_number"),
        ({"name": "A", "kind": "extension", "address": "911"}, "address", "emergency_number"),
        (
            {"name": "A", "kind": "extension", "address": "201", "ring_timeout_s": 2},
            "ring_timeout_s",
            "invalid_ring_timeout",
        ),
        ({"name": "A", "kind": "extension", "address": "201", "priority": 5000}, "priority", "invalid_priority"),
    ],
)
async def test_device_form_refuses(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    inbound: FakeInboundSidecar,
    data: dict[str, Any],
    field: str,
    error: str,
) -> None:
    from custom_components.hold_slayer.inbound_validation import clean_device

    flow = await start(hass, loaded, SUBENTRY_DEVICE)
    data = {"priority": 100, "ring_timeout_s": 20, **data}
    if field in ("priority", "ring_timeout_s"):  # the form's number box refuses these; an action meets clean_device
        with pytest.raises(InvalidData):
            await submit(hass, flow, data)
        assert clean_device(data)[1] == {field: error}
        return
    result = await submit(hass, flow, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    inbound.client.save_device.assert_not_awaited()


async def test_device_form_unknown_kind(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    from custom_components.hold_slayer.inbound_validation import clean_device

    _, errors = clean_device({"name": "A", "kind": "fax", "address": "sip:a@b"})
    assert errors == {"kind": "invalid_kind"}


@pytest.mark.parametrize(
    ("error", "base"),
    [
        (HoldSlayerCommandError("invalid_data", "address: host unreachable"), "sidecar_refused"),
        (HoldSlayerConnectionError("gone"), "cannot_connect"),
        (HoldSlayerCommandError("not_ready", "the registrar is not running"), "sidecar_refused"),
    ],
)
async def test_device_form_shows_sidecar_errors(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar, error: Exception, base: str
) -> None:
    inbound.client.save_device.side_effect = error
    flow = await start(hass, loaded, SUBENTRY_DEVICE)
    result = await submit(
        hass, flow, {"name": "A", "kind": "extension", "address": "201", "priority": 1, "ring_timeout_s": 20}
    )
    assert result["errors"] == {"base": base}
    if base == "sidecar_refused":
        assert result["description_placeholders"]["error"] == error.message  # type: ignore[attr-defined]


async def test_edit_device(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    kitchen = subentry(loaded, "Kitchen phone")
    result = dict(await loaded.start_subentry_reconfigure_flow(hass, kitchen.subentry_id))
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure"
    assert "kind" not in result["data_schema"].schema  # the kind stays
    result = await submit(
        hass,
        result,
        {"name": "Kitchen wall phone", "address": "sip:kitchen@192.168.1.32", "priority": 5, "ring_timeout_s": 25},
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    sent = inbound.client.save_device.await_args.args[0]
    assert sent["device_id"] == "dev-kitchen" and sent["kind"] == "sip_uri" and sent["reset_credentials"] is False
    await hass.async_block_till_done()
    assert loaded.subentries[kitchen.subentry_id].title == "Kitchen wall phone"
    assert inbound.devices["dev-kitchen"]["address"] == "sip:kitchen@192.168.1.32"


async def test_edit_registered_phone_new_password(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    desk = subentry(loaded, "Desk phone")
    result = dict(await loaded.start_subentry_reconfigure_flow(hass, desk.subentry_id))
    assert "address" not in result["data_schema"].schema
    result = await submit(
        hass, result, {"name": "Desk phone", "priority": 20, "ring_timeout_s": 20, "reset_credentials": True}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "credentials_reset"
    assert result["description_placeholders"]["password"] == "Zq8-secret-pw"
    assert "Zq8-secret-pw" not in repr(loaded.as_dict())


async def test_flows_need_the_sidecar(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.connected = False
    for kind in (SUBENTRY_DEVICE, SUBENTRY_RULE):
        result = await hass.config_entries.subentries.async_init((loaded.entry_id, kind), context={"source": "user"})
        assert result["type"] is FlowResultType.ABORT and result["reason"] == "not_connected"


# -- rules -----------------------------------------------------------------------------------------

DROP = object()  # a field left out of the form
SELECTOR_REFUSED = {"action", "days", "time_zone", "device_id", "reject_code", "priority"}
NIGHT_RULE: dict[str, Any] = {
    "name": "Mobile at night",
    "enabled": True,
    "priority": 20,
    "action": "ring_device",
    "device_id": "dev-desk",
    "caller_pattern": "+1555*",
    "time_start": "22:00",
    "time_end": "06:00",
    "days": ["sun", "fri"],
    "time_zone": "Europe/Berlin",
    "known_contact": "contacts",
}


async def test_add_rule(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    flow = await start(hass, loaded, SUBENTRY_RULE)
    devices = flow["data_schema"].schema["device_id"].config["options"]
    assert {"value": "dev-desk", "label": "Desk phone"} in devices
    result = await submit(hass, flow, NIGHT_RULE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    sent = inbound.client.save_rule.await_args.args[0]
    assert sent["days"] == ["fri", "sun"]  # one order, Monday first
    assert sent["known_contact"] is True and sent["device_id"] == "dev-desk" and sent["dialled_pattern"] is None
    assert "rule_id" not in sent
    await hass.async_block_till_done()
    added = subentry(loaded, "Mobile at night")
    assert added.data["rule_id"] in inbound.rules
    assert hass.states.get("switch.hold_slayer_rule_mobile_at_night") is not None


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"caller_pattern": "+1[800"}, "caller_pattern", "invalid_pattern"),
        ({"caller_pattern": "+1800]"}, "caller_pattern", "invalid_pattern"),
        ({"caller_pattern": "+1[[8]]"}, "caller_pattern", "invalid_pattern"),
        ({"caller_pattern": "+1[]"}, "caller_pattern", "invalid_pattern"),
        ({"caller_pattern": "+1[!]"}, "caller_pattern", "invalid_pattern"),
        ({"caller_pattern": "+1 800 *"}, "caller_pattern", "invalid_pattern"),
        ({"dialled_pattern": "x" * 65}, "dialled_pattern", "invalid_pattern"),
        ({"time_start": "7:00"}, "time_start", "invalid_time"),
        ({"time_end": "24:00"}, "time_end", "invalid_time"),
        ({"time_end": ""}, "time_end", "time_range_incomplete"),
        ({"time_start": ""}, "time_start", "time_range_incomplete"),
        ({"days": ["funday"]}, "days", "invalid_days"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "invalid_time_zone"),
        ({"device_id": DROP}, "device_id", "device_required"),
        ({"device_id": "dev-gone"}, "device_id", "unknown_device"),
        ({"action": "reject", "reject_code": 200}, "reject_code", "invalid_reject_code"),
        ({"action": "transfer"}, "action", "invalid_action"),
        ({"priority": -1}, "priority", "invalid_priority"),
        ({"name": "Toll-free at night"}, "name", "name_in_use"),
        ({"name": ""}, "name", "invalid_name"),
    ],
)
async def test_rule_form_refuses(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    inbound: FakeInboundSidecar,
    changes: dict[str, Any],
    field: str,
    error: str,
) -> None:
    from custom_components.hold_slayer.inbound_validation import clean_rule

    data = {key: value for key, value in {**NIGHT_RULE, **changes}.items() if value is not DROP}
    assert clean_rule(data, {"dev-desk", "dev-kitchen"})[1] == {field: error} or field == "name"
    flow = await start(hass, loaded, SUBENTRY_RULE)
    if field in SELECTOR_REFUSED and changes.get(field) is not DROP:  # the form's selectors refuse these first
        with pytest.raises(InvalidData):
            await submit(hass, flow, data)
        return
    result = await submit(hass, flow, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    inbound.client.save_rule.assert_not_awaited()


async def test_rule_form_shows_the_sidecar_refusal(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.save_rule.side_effect = HoldSlayerCommandError("invalid_data", "time_zone: not known to the sidecar")
    flow = await start(hass, loaded, SUBENTRY_RULE)
    result = await submit(hass, flow, NIGHT_RULE)
    assert result["errors"] == {"base": "sidecar_refused"}
    assert result["description_placeholders"]["error"] == "time_zone: not known to the sidecar"


async def test_edit_rule(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    rule = subentry(loaded, "Toll-free at night")
    result = dict(await loaded.start_subentry_reconfigure_flow(hass, rule.subentry_id))
    assert result["step_id"] == "reconfigure"
    changed = {
        "name": "Toll-free always",
        "enabled": True,
        "priority": 10,
        "action": "reject",
        "caller_pattern": "+1800*",
        "known_contact": "strangers",
        "reject_message": "We do not take sales calls.",
        "time_zone": "America/New_York",
    }
    result = await submit(hass, result, changed)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    sent = inbound.client.save_rule.await_args.args[0]
    assert sent["rule_id"] == "rule-tollfree" and sent["time_start"] is None and sent["known_contact"] is False
    await hass.async_block_till_done()
    assert loaded.subentries[rule.subentry_id].title == "Toll-free always"
    assert inbound.rules["rule-tollfree"]["reject_message"] == "We do not take sales calls."


def test_rule_form_values_round_trip() -> None:
    from custom_components.hold_slayer.inbound_flow import rule_form_values, rule_subentry_data

    values = rule_form_values(rule_subentry_data({"rule_id": "r", "name": "n", "known_contact": None, "days": []}))
    assert values == {"name": "n", "days": [], "known_contact": "anyone"}
    assert rule_form_values({"known_contact": True})["known_contact"] == "contacts"


def test_strings_cover_every_form_error() -> None:
    import json
    from pathlib import Path

    strings = json.loads(Path("custom_components/hold_slayer/strings.json").read_text())
    for kind in (SUBENTRY_DEVICE, SUBENTRY_RULE):
        known = set(strings["config_subentries"][kind]["error"])
        assert known >= {"sidecar_refused", "cannot_connect", "invalid_name", "name_in_use"}
    rule_errors = set(strings["config_subentries"][SUBENTRY_RULE]["error"])
    assert {"invalid_pattern", "invalid_time", "invalid_time_zone", "device_required", "unknown_device"} <= rule_errors
    assert DOMAIN == "hold_slayer"

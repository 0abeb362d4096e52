"""Actions of the inbound half: devices and rules, listing, test_route, the call coming in, voicemail; and bad calls."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import HoldSlayerCommandError
from custom_components.hold_slayer.const import DOMAIN, SUBENTRY_DEVICE, SUBENTRY_RULE

from .inbound_common import FakeInboundSidecar, make_inbound_call


async def call(hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=response)


async def test_add_and_remove_device(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    result = await call(
        hass, "add_device", {"name": "Mobile", "kind": "number", "address": "+1 555 010 0400"}, response=True
    )
    device_id = result["device_id"]
    assert inbound.devices[device_id]["address"] == "+15550100400"
    assert result["credentials"] is None
    await hass.async_block_till_done()
    assert any(s.subentry_type == SUBENTRY_DEVICE and s.title == "Mobile" for s in loaded.subentries.values())
    assert hass.states.get("switch.mobile_do_not_disturb") is not None

    await call(hass, "remove_device", {"device": "mobile"})  # by name, any case
    await hass.async_block_till_done()
    assert device_id not in inbound.devices
    assert not any(s.title == "Mobile" for s in loaded.subentries.values())


async def test_add_registered_device_returns_credentials(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    result = await call(hass, "add_device", {"name": "Softphone", "kind": "registered"}, response=True)
    assert result["credentials"]["password"] == "Zq8-secret-pw"
    await hass.async_block_till_done()
    assert "Zq8-secret-pw" not in repr(loaded.as_dict())


async def test_remove_device_by_ha_device(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, f"{loaded.entry_id}_device_dev-desk")})
    assert device is not None
    await call(hass, "remove_device", {"device": device.id})
    assert "dev-desk" not in inbound.devices


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"name": "Police", "kind": "number", "address": "911"}, "emergency_number"),
        ({"name": "Police", "kind": "number", "address": "0 112"}, "emergency_number"),
        ({"name": "Police", "kind": "sip_uri", "address": "sip:sos@pbx.local"}, "emergency_number"),
        ({"name": "Police", "kind": "number", "address": "tel:999"}, "emergency_number"),
        ({"name": "A", "kind": "sip_uri", "address": "sip:a@b;maddr=evil.example"}, "invalid_field"),
        ({"name": "A", "kind": "extension", "address": "1; DROP"}, "invalid_field"),
        ({"name": "A", "kind": "number", "address": "+15550100", "ring_timeout_s": 9999}, "invalid_field"),
    ],
)
async def test_add_device_refuses(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_device", data)
    assert err.value.translation_key == key
    inbound.client.save_device.assert_not_awaited()


async def test_add_device_bad_kind_is_a_schema_error(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    with pytest.raises(vol.Invalid):
        await call(hass, "add_device", {"name": "A", "kind": "fax"})


async def test_add_device_incomplete_answer(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.save_device.side_effect = None
    inbound.client.save_device.return_value = {"device": "nope"}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_device", {"name": "A", "kind": "extension", "address": "201"})
    assert err.value.translation_key == "sidecar_answer"


async def test_add_and_remove_rule(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    result = await call(
        hass,
        "add_rule",
        {
            "name": "Mum always rings",
            "action": "ring_device",
            "device": "Kitchen phone",
            "caller_pattern": "+15550100777",
            "priority": 1,
            "known_contact": "contacts",
        },
        response=True,
    )
    rule_id = result["rule_id"]
    assert inbound.rules[rule_id]["device_id"] == "dev-kitchen"
    await hass.async_block_till_done()
    assert any(s.subentry_type == SUBENTRY_RULE and s.title == "Mum always rings" for s in loaded.subentries.values())
    listed = await call(hass, "list_rules", {}, response=True)
    assert {rule["name"] for rule in listed["rules"]} == {"Toll-free at night", "Mum always rings"}
    await call(hass, "remove_rule", {"rule": rule_id})
    await hass.async_block_till_done()
    assert rule_id not in inbound.rules
    assert not any(s.title == "Mum always rings" for s in loaded.subentries.values())


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"caller_pattern": "+1[800"}, "invalid_field"),
        ({"caller_pattern": "+1 800 *; rm"}, "invalid_field"),
        ({"time_start": "25:00", "time_end": "06:00"}, "invalid_field"),
        ({"time_start": "22:00"}, "invalid_field"),
        ({"time_zone": "Nowhere/Land"}, "invalid_field"),
        ({"action": "ring_device"}, "invalid_field"),
        ({"action": "ring_device", "device": "Toaster"}, "unknown_device"),
        ({"reject_code": 180}, "invalid_field"),
    ],
)
async def test_add_rule_refuses(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_rule", {"name": "Bad", "action": "reject", **data})
    assert err.value.translation_key == key
    inbound.client.save_rule.assert_not_awaited()


async def test_add_rule_sidecar_refusal(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.save_rule.side_effect = HoldSlayerCommandError("invalid_data", "time_zone: unknown")
    with pytest.raises(HomeAssistantError, match="time_zone: unknown"):
        await call(hass, "add_rule", {"name": "Night", "action": "dnd"})
    inbound.client.save_rule.side_effect = None
    inbound.client.save_rule.return_value = {"name": "no id"}
    with pytest.raises(ServiceValidationError):
        await call(hass, "add_rule", {"name": "Night", "action": "dnd"})


async def test_remove_unknown(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "remove_rule", {"rule": "nope"})
    assert err.value.translation_key == "unknown_rule"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "remove_device", {"device": "nope"})
    assert err.value.translation_key == "unknown_device"
    await call(hass, "remove_rule", {"rule": "toll-free at NIGHT"})


async def test_list_devices(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    result = await call(hass, "list_devices", {}, response=True)
    assert {d["name"] for d in result["devices"]} == {"Kitchen phone", "Desk phone"}
    assert result["global_dnd"] is False


async def test_test_route(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    result = await call(hass, "test_route", {"caller": "+1 800 555 1234", "at": "23:00"}, response=True)
    query = inbound.client.test_route.await_args.args[0]
    assert query["caller"] == "+18005551234"
    assert query["at"].endswith(("-05:00", "-04:00")) and "T23:00:00" in query["at"]
    assert result["rule_name"] == "Toll-free at night" and result["action"] == "reject"
    inbound.client.test_route.return_value = {
        "action": "ring_chain",
        "rule_id": None,
        "rule_name": None,
        "device_ids": ["dev-kitchen", "dev-gone"],
        "reason": "default",
    }
    result = await call(
        hass,
        "test_route",
        {"caller": "anonymous", "dialled": "+15550100999", "at": "2026-12-24T10:00:00+01:00"},
        response=True,
    )
    assert result["device_names"] == ["Kitchen phone", "dev-gone"]
    assert inbound.client.test_route.await_args.args[0] == {
        "caller": "anonymous",
        "dialled": "+15550100999",
        "at": "2026-12-24T10:00:00+01:00",
    }
    await call(hass, "test_route", {"caller": "+15550100200", "at": "2026-12-24 10:00"}, response=True)
    assert inbound.client.test_route.await_args.args[0]["at"].startswith("2026-12-24T10:00:00-05:00")


@pytest.mark.parametrize(
    ("data", "key"),
    [({"caller": "robert'); --"}, "invalid_caller"), ({"caller": "+1555", "at": "teatime"}, "invalid_at")],
)
async def test_test_route_refuses(hass: HomeAssistant, loaded: MockConfigEntry, data: dict[str, Any], key: str) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "test_route", data, response=True)
    assert err.value.translation_key == key


async def test_answer_and_reject_inbound(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "answer_inbound", {"device": "Kitchen phone"})
    assert err.value.translation_key == "no_inbound_call"
    inbound.client.emit("incoming_call", make_inbound_call())
    await hass.async_block_till_done()
    await call(hass, "answer_inbound", {"device": "Desk phone"})
    inbound.client.answer_inbound.assert_awaited_with("in-1", "dev-desk")
    await call(hass, "reject_inbound", {"to_voicemail": True})
    inbound.client.reject_inbound.assert_awaited_with("in-1", to_voicemail=True)
    await call(hass, "reject_inbound", {"call_id": "in-7"})
    inbound.client.reject_inbound.assert_awaited_with("in-7", to_voicemail=False)
    with pytest.raises(ServiceValidationError):
        await call(hass, "answer_inbound", {"device": "Toaster"})


async def test_voicemail_actions(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    await call(hass, "mark_voicemail_heard", {"voicemail_id": "vm-1"})
    inbound.client.mark_voicemail.assert_awaited_with("vm-1", heard=True)
    await call(hass, "mark_voicemail_heard", {"voicemail_id": "vm-1", "heard": False})
    inbound.client.mark_voicemail.assert_awaited_with("vm-1", heard=False)
    await call(hass, "delete_voicemail", {"voicemail_id": "vm-1"})
    inbound.client.delete_voicemail.assert_awaited_with("vm-1")
    inbound.client.mark_voicemail.side_effect = HoldSlayerCommandError("not_found", "no voicemail vm-9")
    with pytest.raises(ServiceValidationError, match="no voicemail vm-9"):
        await call(hass, "mark_voicemail_heard", {"voicemail_id": "vm-9"})


async def test_actions_need_the_sidecar(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.connected = False
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "list_rules", {}, response=True)
    assert err.value.translation_key == "not_connected"

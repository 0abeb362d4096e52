"""The inbound half in Home Assistant: device entities, DND and rule switches, events, sensors, and subentry sync."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.hold_slayer.const import DOMAIN, SUBENTRY_DEVICE, SUBENTRY_RULE

from .common import FakeHoldSlayerClient
from .inbound_common import FakeInboundSidecar, make_device, make_inbound_call, make_voicemail, setup_entry


def state(hass: HomeAssistant, entity_id: str) -> Any:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found


async def test_devices_are_ha_devices_with_their_entities(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    registry = dr.async_get(hass)
    kitchen = registry.async_get_device(identifiers={(DOMAIN, f"{loaded.entry_id}_device_dev-kitchen")})
    desk = registry.async_get_device(identifiers={(DOMAIN, f"{loaded.entry_id}_device_dev-desk")})
    assert kitchen is not None and kitchen.name == "Kitchen phone" and kitchen.model == "SIP phone"
    assert desk is not None and desk.model == "Registered SIP phone"
    assert state(hass, "switch.kitchen_phone_do_not_disturb").state == STATE_OFF
    assert state(hass, "sensor.kitchen_phone_last_call").state == "2026-12-01T18:00:00+00:00"
    assert state(hass, "binary_sensor.kitchen_phone_ringing").state == STATE_OFF
    # Only a phone that registers has a registration sensor.
    assert hass.states.get("binary_sensor.kitchen_phone_registered") is None
    assert state(hass, "binary_sensor.desk_phone_registered").state == STATE_ON
    assert state(hass, "switch.hold_slayer_do_not_disturb").state == STATE_OFF
    assert state(hass, "switch.hold_slayer_rule_toll_free_at_night").state == STATE_ON
    assert state(hass, "sensor.hold_slayer_unheard_voicemails").state == "1"
    assert state(hass, "sensor.hold_slayer_incoming_call").state == "idle"


async def test_sidecar_without_inbound_half(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    await setup_entry(hass, mock_config_entry)
    assert state(hass, "switch.hold_slayer_do_not_disturb").state == STATE_UNAVAILABLE
    assert state(hass, "sensor.hold_slayer_last_caller").state == STATE_UNAVAILABLE


async def test_dnd_switches(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.kitchen_phone_do_not_disturb"}, blocking=True
    )
    inbound.client.set_dnd.assert_awaited_with("dev-kitchen", True)
    assert state(hass, "switch.kitchen_phone_do_not_disturb").state == STATE_ON
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.hold_slayer_do_not_disturb"}, blocking=True
    )
    inbound.client.set_dnd.assert_awaited_with(None, True)
    assert state(hass, "switch.hold_slayer_do_not_disturb").state == STATE_ON
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.hold_slayer_do_not_disturb"}, blocking=True
    )
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.kitchen_phone_do_not_disturb"}, blocking=True
    )
    assert state(hass, "switch.hold_slayer_do_not_disturb").state == STATE_OFF
    assert state(hass, "switch.kitchen_phone_do_not_disturb").state == STATE_OFF


async def test_rule_switch(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    entity_id = "switch.hold_slayer_rule_toll_free_at_night"
    await hass.services.async_call("switch", "turn_off", {"entity_id": entity_id}, blocking=True)
    saved = inbound.client.save_rule.await_args.args[0]
    assert saved["rule_id"] == "rule-tollfree" and saved["enabled"] is False and saved["caller_pattern"] == "+1800*"
    assert state(hass, entity_id).state == STATE_OFF
    assert state(hass, entity_id).attributes["action"] == "reject"
    await hass.services.async_call("switch", "turn_on", {"entity_id": entity_id}, blocking=True)
    assert state(hass, entity_id).state == STATE_ON
    # Deleted on the sidecar by someone else: the switch says so rather than pretending.
    inbound.client.emit("rule_deleted", {"rule_id": "rule-tollfree"})
    await hass.async_block_till_done()
    assert state(hass, entity_id).state == STATE_UNAVAILABLE


async def test_registration_and_ringing_follow_events(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.emit(
        "device_state", make_device("dev-desk", name="Desk phone", kind="registered", registered=False, ringing=True)
    )
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor.desk_phone_registered").state == STATE_OFF
    assert state(hass, "binary_sensor.desk_phone_ringing").state == STATE_ON
    inbound.client.emit("device_deleted", {"device_id": "dev-desk"})
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor.desk_phone_ringing").state == STATE_UNAVAILABLE


async def test_incoming_call_events(hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar) -> None:
    incoming = async_capture_events(hass, "hold_slayer_incoming_call")
    answered = async_capture_events(hass, "hold_slayer_call_answered")
    rejected = async_capture_events(hass, "hold_slayer_call_rejected")
    robocalls = async_capture_events(hass, "hold_slayer_robocall_blocked")
    client = inbound.client
    client.emit("incoming_call", make_inbound_call())
    await hass.async_block_till_done()
    sensor = state(hass, "sensor.hold_slayer_incoming_call")
    assert sensor.state == "screening"
    assert sensor.attributes["heard"] == "Hi, this is the dentist about tomorrow's appointment."
    assert state(hass, "sensor.hold_slayer_last_caller").state == "Dr. Molar's office"
    [event] = incoming
    assert event.data["caller"] == "+15550100300"
    assert event.data["caller_name"] == "Dr. Molar's office"
    assert event.data["dialled"] == "+15550100999"
    assert event.data["action"] == "receptionist"
    assert event.data["rule"] is None
    assert event.data["config_entry_id"] == loaded.entry_id
    assert event.data["device_id"] is not None

    client.emit("inbound_answered", make_inbound_call(state="answered", answered_by="dev-kitchen"))
    await hass.async_block_till_done()
    assert answered[0].data["answered_by"] == "dev-kitchen"
    assert state(hass, "sensor.hold_slayer_incoming_call").state == "idle"

    decision = {
        "action": "reject",
        "rule_id": "rule-tollfree",
        "rule_name": "Toll-free at night",
        "device_ids": [],
        "reason": "rule",
    }
    client.emit(
        "inbound_rejected", make_inbound_call("in-2", caller="+18005551234", state="rejected", decision=decision)
    )
    client.emit(
        "robocall_blocked", make_inbound_call("in-3", state="ended", robocall=True, reason="a recording: press 1")
    )
    await hass.async_block_till_done()
    assert rejected[0].data["rule"] == "Toll-free at night" and rejected[0].data["rule_id"] == "rule-tollfree"
    assert robocalls[0].data["robocall"] is True and robocalls[0].data["reason"] == "a recording: press 1"
    # Inbound call ids never leak into the outbound call entities.
    assert state(hass, "sensor.hold_slayer_call_state").state == "idle"


async def test_voicemail_event_and_sensor(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    events = async_capture_events(hass, "hold_slayer_voicemail")
    inbound.client.emit("voicemail", make_voicemail("vm-2", transcript="It's Sam, call me back.", recording="vm-2.wav"))
    await hass.async_block_till_done()
    [event] = events
    assert event.data["transcript"] == "It's Sam, call me back."
    assert event.data["recording"] == "vm-2.wav"
    assert event.data["media_content_id"] == f"media-source://hold_slayer/{loaded.entry_id}/voicemail/vm-2"
    sensor = state(hass, "sensor.hold_slayer_unheard_voicemails")
    assert sensor.state == "2"
    assert [vm["voicemail_id"] for vm in sensor.attributes["voicemails"]] == ["vm-2", "vm-1"]
    inbound.client.emit("voicemail_changed", {"voicemail_id": "vm-2", "heard": True, "deleted": False, "unheard": 1})
    await hass.async_block_till_done()
    sensor = state(hass, "sensor.hold_slayer_unheard_voicemails")
    assert sensor.state == "1"
    assert sensor.attributes["voicemails"][0]["heard"] is True
    inbound.client.emit("voicemail_changed", {"voicemail_id": "vm-2", "deleted": True, "unheard": 1})
    await hass.async_block_till_done()
    assert [
        vm["voicemail_id"] for vm in state(hass, "sensor.hold_slayer_unheard_voicemails").attributes["voicemails"]
    ] == ["vm-1"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("incoming_call", {}),
        ("incoming_call", {"call_id": 7}),
        ("incoming_call", {"call_id": "x", "decision": "reject", "ringing_devices": "dev-kitchen"}),
        ("inbound_state", {"call_id": ""}),
        ("voicemail", {"voicemail_id": None}),
        ("voicemail", {"voicemail_id": "vm-x", "duration_s": "long", "transcript": ["a"]}),
        ("voicemail_changed", {"voicemail_id": 3, "heard": "yes", "unheard": -4}),
        ("device_state", {"device_id": "dev-kitchen"}),
        ("device_state", {"device_id": "dev-kitchen", "name": "Kitchen phone", "dnd": "yes", "last_call_at": 12}),
        ("device_state", {"device_id": "dev-kitchen", "name": "Kitchen phone", "last_call_at": "2026-12-01T18:00:00"}),
        ("device_state", {"device_id": "dev-kitchen", "name": "Kitchen phone", "last_call_at": "yesterday"}),
        ("incoming_call", {"call_id": "in-x", "caller_name": 5, "caller": ["+1"], "started_at": None}),
        ("device_deleted", {}),
        ("rule_saved", {"name": "no id"}),
        ("rule_deleted", {"rule_id": None}),
        ("dnd_changed", {"global_dnd": "on"}),
    ],
)
async def test_malformed_events_do_not_break_anything(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar, name: str, data: dict[str, Any]
) -> None:
    inbound.client.emit(name, data)
    await hass.async_block_till_done()
    # Everything still works afterwards.
    inbound.client.emit("incoming_call", make_inbound_call("in-9"))
    await hass.async_block_till_done()
    assert state(hass, "sensor.hold_slayer_incoming_call").state == "screening"
    assert state(hass, "switch.hold_slayer_do_not_disturb").state == STATE_OFF
    assert state(hass, "switch.kitchen_phone_do_not_disturb").state in (STATE_OFF, STATE_ON)
    assert state(hass, "sensor.kitchen_phone_last_call").state != STATE_UNAVAILABLE


async def test_malformed_snapshot(
    hass: HomeAssistant, inbound_entry: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.publish(
        devices=[{"device_id": 5}, "x", make_device()],
        calls=[None, {"call_id": "c"}],
        unheard_voicemails="2",
        last_caller=[],
    )
    await setup_entry(hass, inbound_entry)
    assert state(hass, "switch.kitchen_phone_do_not_disturb").state == STATE_OFF
    assert state(hass, "switch.desk_phone_do_not_disturb").state == STATE_UNAVAILABLE
    assert state(hass, "sensor.hold_slayer_unheard_voicemails").state == "1"  # list_voicemails says 1


async def test_adopts_sidecar_devices_and_rules(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    await setup_entry(hass, mock_config_entry)
    kinds = sorted(
        (sub.subentry_type, sub.title)
        for sub in mock_config_entry.subentries.values()
        if sub.subentry_type != "company"
    )
    assert kinds == [
        (SUBENTRY_DEVICE, "Desk phone"),
        (SUBENTRY_DEVICE, "Kitchen phone"),
        (SUBENTRY_RULE, "Toll-free at night"),
    ]
    await hass.async_block_till_done()
    assert state(hass, "switch.kitchen_phone_do_not_disturb").state == STATE_OFF


async def test_removing_subentries_deletes_on_the_sidecar(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    kitchen = next(s for s in loaded.subentries.values() if s.title == "Kitchen phone")
    rule = next(s for s in loaded.subentries.values() if s.subentry_type == SUBENTRY_RULE)
    assert hass.config_entries.async_remove_subentry(loaded, kitchen.subentry_id)
    assert hass.config_entries.async_remove_subentry(loaded, rule.subentry_id)
    await hass.async_block_till_done()
    inbound.client.delete_device.assert_awaited_with("dev-kitchen")
    inbound.client.delete_rule.assert_awaited_with("rule-tollfree")
    assert "dev-kitchen" not in inbound.devices
    assert er.async_get(hass).async_get("switch.kitchen_phone_do_not_disturb") is None
    # After the reload nothing removed comes back.
    assert not any(s.title == "Kitchen phone" for s in loaded.subentries.values())


async def test_delete_failure_is_logged_not_raised(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar, caplog: pytest.LogCaptureFixture
) -> None:
    from custom_components.hold_slayer.client import HoldSlayerCommandError, HoldSlayerConnectionError

    inbound.client.delete_device.side_effect = HoldSlayerCommandError("internal_error", "disk full")
    inbound.client.delete_rule.side_effect = HoldSlayerConnectionError("gone")
    kitchen = next(s for s in loaded.subentries.values() if s.title == "Kitchen phone")
    rule = next(s for s in loaded.subentries.values() if s.subentry_type == SUBENTRY_RULE)
    hass.config_entries.async_remove_subentry(loaded, kitchen.subentry_id)
    hass.config_entries.async_remove_subentry(loaded, rule.subentry_id)
    await hass.async_block_till_done()
    assert "The sidecar kept device Kitchen phone: disk full" in caplog.text
    assert "Could not delete rule Toll-free at night" in caplog.text


async def test_reconnect_reads_rules_again(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.rules["rule-tollfree"]["enabled"] = False
    inbound.client.drop()
    await hass.async_block_till_done()
    inbound.client.restore()
    await hass.async_block_till_done()
    assert state(hass, "switch.hold_slayer_rule_toll_free_at_night").state == STATE_OFF


async def test_rules_unreadable_leaves_calls_working(
    hass: HomeAssistant, inbound_entry: MockConfigEntry, inbound: FakeInboundSidecar, caplog: pytest.LogCaptureFixture
) -> None:
    from custom_components.hold_slayer.client import HoldSlayerCommandError

    inbound.client.list_rules.side_effect = HoldSlayerCommandError("unknown_command", "list_rules")
    await setup_entry(hass, inbound_entry)
    assert "Could not read the routing rules and voicemails" in caplog.text
    assert state(hass, "sensor.hold_slayer_call_state").state == "idle"
    assert state(hass, "switch.hold_slayer_rule_toll_free_at_night").state == STATE_UNAVAILABLE


async def test_new_subentries_add_entities_without_reconnecting(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    from homeassistant.config_entries import ConfigSubentry

    from custom_components.hold_slayer.inbound_sync import device_subentry

    connects = inbound.client.connect_count
    inbound.devices["dev-hall"] = make_device("dev-hall", name="Hall phone")
    inbound.client.emit("device_state", dict(inbound.devices["dev-hall"]))
    hass.config_entries.async_add_subentry(loaded, device_subentry(inbound.devices["dev-hall"]))
    await hass.async_block_till_done()
    assert state(hass, "switch.hall_phone_do_not_disturb").state == STATE_OFF
    assert inbound.client.connect_count == connects  # the connection stayed up: actions never fail meanwhile
    # A rename is a reload (the HA device's name follows).
    hall = next(s for s in loaded.subentries.values() if s.title == "Hall phone")
    assert isinstance(hall, ConfigSubentry)
    hass.config_entries.async_update_subentry(loaded, hall, title="Hallway phone")
    await hass.async_block_till_done()
    assert inbound.client.connect_count == connects + 1
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, f"{loaded.entry_id}_device_dev-hall")})
    assert device is not None and device.name == "Hallway phone"

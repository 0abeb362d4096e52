"""Contract: the inbound half of the integration (subentry flows, entities, actions) against the REAL sidecar.

Devices and rules made in HA's forms and actions are stored by the real sidecar and come back as entities;
switches change the sidecar's state; test_route answers from the real rule evaluator; refusals of the
sidecar reach the form and the action caller. Calls over SIP are the sidecar's own end-to-end tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import MATCH_ALL, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import HoldSlayerCommandError
from custom_components.hold_slayer.const import DOMAIN, SUBENTRY_DEVICE, SUBENTRY_RULE

from .conftest import REPO, RunningSidecar, loaded_entry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.skipif(
        not (REPO / "sidecar" / "hold_slayer_sidecar" / "inbound" / "service.py").exists(),
        reason="this sidecar has no inbound half yet (branch inbound)",
    ),
]


async def _wait_for(hass: HomeAssistant, predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate`` holds, re-checking whenever anything happens on the bus."""
    changed = asyncio.Event()

    @callback
    def on_event(_event: Event) -> None:
        changed.set()

    unsubscribe = hass.bus.async_listen(MATCH_ALL, on_event)
    try:
        async with asyncio.timeout(30):
            while not predicate():
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return found.state if found else None


@pytest.fixture
async def entry(hass: HomeAssistant, real_sidecar: RunningSidecar) -> AsyncGenerator[MockConfigEntry]:
    """The integration set up against the real sidecar."""
    async with loaded_entry(hass, real_sidecar) as config_entry:
        yield config_entry


async def _flow(hass: HomeAssistant, entry: MockConfigEntry, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init((entry.entry_id, kind), context={"source": "user"})
    assert result["type"] is FlowResultType.FORM
    done = dict(await hass.config_entries.subentries.async_configure(result["flow_id"], data))
    await hass.async_block_till_done()
    return done


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=response)


async def test_devices_and_dnd_against_the_real_sidecar(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert _state(hass, "switch.hold_slayer_do_not_disturb") == STATE_OFF
    assert _state(hass, "sensor.hold_slayer_unheard_voicemails") == "0"

    result = await _flow(
        hass,
        entry,
        SUBENTRY_DEVICE,
        {
            "name": "Kitchen phone",
            "kind": "sip_uri",
            "address": "sip:kitchen@127.0.0.1:5999",
            "priority": 10,
            "ring_timeout_s": 15,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await _wait_for(hass, lambda: _state(hass, "switch.kitchen_phone_do_not_disturb") == STATE_OFF)
    device_id = next(s.data["device_id"] for s in entry.subentries.values() if s.title == "Kitchen phone")
    listed = await _call(hass, "list_devices", {}, response=True)
    [kitchen] = [d for d in listed["devices"] if d["device_id"] == device_id]
    assert kitchen["address"] == "sip:kitchen@127.0.0.1:5999" and kitchen["ring_timeout_s"] == 15.0

    # A switch is a request to the sidecar; its event brings the state back.
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.kitchen_phone_do_not_disturb"}, blocking=True
    )
    await _wait_for(hass, lambda: _state(hass, "switch.kitchen_phone_do_not_disturb") == STATE_ON)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.hold_slayer_do_not_disturb"}, blocking=True
    )
    await _wait_for(hass, lambda: _state(hass, "switch.hold_slayer_do_not_disturb") == STATE_ON)
    listed = await _call(hass, "list_devices", {}, response=True)
    assert listed["global_dnd"] is True
    assert next(d for d in listed["devices"] if d["device_id"] == device_id)["dnd"] is True

    # An action adds a number; emergency numbers never get that far.
    added = await _call(
        hass, "add_device", {"name": "Mobile", "kind": "number", "address": "+1 555 010 0400"}, response=True
    )
    await hass.async_block_till_done()  # a new subentry reloads the entry: its entities are built then
    await _wait_for(hass, lambda: _state(hass, "switch.mobile_do_not_disturb") == STATE_OFF)
    with pytest.raises(ServiceValidationError):
        await _call(hass, "add_device", {"name": "Police", "kind": "number", "address": "911"})
    # Nor past the sidecar itself, asked directly (a client that skipped HA's check).
    with pytest.raises(HoldSlayerCommandError):
        await entry.runtime_data.client.save_device({"name": "Police", "kind": "number", "address": "911"})

    # Removing a subentry in the UI deletes the device on the sidecar; the action removes one too.
    kitchen_sub = next(s for s in entry.subentries.values() if s.title == "Kitchen phone")
    hass.config_entries.async_remove_subentry(entry, kitchen_sub.subentry_id)
    await hass.async_block_till_done()
    await _call(hass, "remove_device", {"device": "Mobile"})
    await hass.async_block_till_done()
    remaining = {d["device_id"] for d in (await _call(hass, "list_devices", {}, response=True))["devices"]}
    assert device_id not in remaining and added["device_id"] not in remaining
    assert entry.state is ConfigEntryState.LOADED
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.hold_slayer_do_not_disturb"}, blocking=True
    )
    await _wait_for(hass, lambda: _state(hass, "switch.hold_slayer_do_not_disturb") == STATE_OFF)


async def test_registered_phone_credentials_shown_once(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await _flow(
        hass, entry, SUBENTRY_DEVICE, {"name": "Softphone", "kind": "registered", "priority": 30, "ring_timeout_s": 20}
    )
    if result["type"] is FlowResultType.FORM:  # a sidecar without a registrar says why and what to do, on the form
        assert result["errors"] == {"base": "sidecar_refused"}, result
        said = result["description_placeholders"]["error"]
        assert "edge.phones_on_lan: true" in said and "restart" in said, said
        assert not [s for s in entry.subentries.values() if s.title == "Softphone"]  # nothing half made
        return
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == "registered"
    password = result["description_placeholders"]["password"]
    assert password and password not in repr(entry.as_dict())
    await _wait_for(hass, lambda: _state(hass, "binary_sensor.softphone_registered") == STATE_OFF)


async def test_rules_and_test_route_against_the_real_sidecar(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    desk = await _flow(
        hass,
        entry,
        SUBENTRY_DEVICE,
        {"name": "Desk phone", "kind": "extension", "address": "201", "priority": 10, "ring_timeout_s": 20},
    )
    assert desk["type"] is FlowResultType.CREATE_ENTRY, desk
    rule = {
        "name": "Toll-free at night",
        "enabled": True,
        "priority": 10,
        "action": "reject",
        "caller_pattern": "+1800*",
        "time_start": "22:00",
        "time_end": "07:00",
        "time_zone": "America/New_York",
        "known_contact": "anyone",
        "reject_code": 603,
    }
    result = await _flow(hass, entry, SUBENTRY_RULE, rule)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    switch = "switch.hold_slayer_rule_toll_free_at_night"
    await _wait_for(hass, lambda: _state(hass, switch) == STATE_ON)

    night = await _call(
        hass, "test_route", {"caller": "+1 800 555 1234", "at": "2026-12-07T23:00:00-05:00"}, response=True
    )
    assert night["action"] == "reject" and night["rule_name"] == "Toll-free at night"
    day = await _call(hass, "test_route", {"caller": "+18005551234", "at": "2026-12-07T12:00:00-05:00"}, response=True)
    assert day["rule_id"] is None
    # Wrapping midnight: 06:59 the next morning is still the night.
    early = await _call(
        hass, "test_route", {"caller": "+18005551234", "at": "2026-12-08T06:59:00-05:00"}, response=True
    )
    assert early["action"] == "reject"

    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    await _wait_for(hass, lambda: _state(hass, switch) == STATE_OFF)
    off = await _call(hass, "test_route", {"caller": "+18005551234", "at": "2026-12-07T23:00:00-05:00"}, response=True)
    assert off["rule_id"] is None

    # An action adds a rule that rings the desk phone for one caller; list_rules shows both in order.
    await _call(
        hass,
        "add_rule",
        {
            "name": "Mum",
            "action": "ring_device",
            "device": "Desk phone",
            "caller_pattern": "+15550100777",
            "priority": 1,
        },
    )
    listed = await _call(hass, "list_rules", {}, response=True)
    assert [r["name"] for r in listed["rules"]] == ["Mum", "Toll-free at night"]
    mum = await _call(hass, "test_route", {"caller": "+15550100777"}, response=True)
    assert mum["action"] == "ring_device" and mum["device_names"] == ["Desk phone"]

    # Refusals: the form's own check, then the sidecar's (a client that skipped HA's check).
    bad = await _flow(hass, entry, SUBENTRY_RULE, {**rule, "name": "Bad", "caller_pattern": "+1[800"})
    assert bad["errors"] == {"caller_pattern": "invalid_pattern"}
    with pytest.raises(HoldSlayerCommandError) as err:
        await entry.runtime_data.client.save_rule({"name": "Bad", "enabled": True, "priority": 1, "action": "teleport"})
    assert err.value.code == "invalid_data" and "action" in err.value.message

    await _call(hass, "remove_rule", {"rule": "Mum"})
    await hass.async_block_till_done()
    rule_sub = next(s for s in entry.subentries.values() if s.title == "Toll-free at night")
    hass.config_entries.async_remove_subentry(entry, rule_sub.subentry_id)
    await hass.async_block_till_done()
    assert (await _call(hass, "list_rules", {}, response=True))["rules"] == []


async def test_unknown_calls_and_voicemails_are_clear_errors(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    with pytest.raises(ServiceValidationError):
        await _call(hass, "mark_voicemail_heard", {"voicemail_id": "vm-none"})
    with pytest.raises(HomeAssistantError):
        await _call(hass, "reject_inbound", {"call_id": "in-none"})
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "answer_inbound", {"device": "nobody"})
    assert err.value.translation_key == "no_inbound_call"
    assert _state(hass, "sensor.hold_slayer_incoming_call") == "idle"


async def test_contacts_set_in_home_assistant_drive_contacts_only_rules(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    rule = {"name": "Strangers to voicemail", "action": "take_message", "known_contact": "strangers", "priority": 1}
    await _call(hass, "add_rule", rule)
    stranger = await _call(hass, "test_route", {"caller": "+15550100123"}, response=True)
    assert stranger["rule_name"] == "Strangers to voicemail"

    # Any common spelling of the number; the sidecar keeps one contact per number.
    kept = await _call(
        hass,
        "set_contacts",
        {"contacts": [{"name": "Mum", "number": "+1 (555) 010-0123"}, {"name": "Mum again", "number": "+15550100123"}]},
        response=True,
    )
    assert kept == {"contacts": 1}
    known = await _call(hass, "test_route", {"caller": "+15550100123"}, response=True)
    assert known["rule_id"] is None and known["action"] == "receptionist"

    # A bad number refuses the whole list and keeps the old one: a half-replaced phone book routes callers wrongly.
    with pytest.raises(ServiceValidationError) as err:
        bad = [{"name": "Bob", "number": "+15550100999"}, {"name": "X", "number": "call me"}]
        await _call(hass, "set_contacts", {"contacts": bad})
    assert err.value.translation_key == "invalid_contact_number"
    still = await _call(hass, "test_route", {"caller": "+15550100123"}, response=True)
    assert still["rule_id"] is None
    hostile_data = (
        {"contacts": None},
        {"contacts": "Mum"},
        {"contacts": [{"name": "Mum"}]},
        {"contacts": [{"name": "", "number": "1"}]},
    )
    for hostile in hostile_data:
        with pytest.raises(vol.Invalid):
            await _call(hass, "set_contacts", hostile)
    too_many = [{"name": f"c{i}", "number": f"+1555{i:07d}"} for i in range(5001)]
    with pytest.raises(vol.Invalid):
        await _call(hass, "set_contacts", {"contacts": too_many})
    await _call(hass, "set_contacts", {"contacts": []})
    again = await _call(hass, "test_route", {"caller": "+15550100123"}, response=True)
    assert again["rule_name"] == "Strangers to voicemail"

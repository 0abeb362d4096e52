"""Device triggers of the sidecar device: a person answered, hold started, the call ended or failed."""

from __future__ import annotations

import pytest
from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import InvalidDeviceAutomationConfig
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_get_device_automations

from custom_components.hold_slayer import device_trigger
from custom_components.hold_slayer.const import DOMAIN

from .common import FakeHoldSlayerClient, make_call

TYPES = [
    "human_detected",
    "hold_started",
    "call_ended",
    "call_failed",
    "incoming_call",
    "call_answered",
    "call_rejected",
    "robocall_blocked",
    "voicemail",
]


def _sidecar(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    return device


async def test_get_triggers(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    device = _sidecar(hass, init_integration)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    assert sorted(t["type"] for t in triggers if t["domain"] == DOMAIN) == sorted(TYPES)
    assert all(t["device_id"] == device.id and t["metadata"] == {} for t in triggers if t["domain"] == DOMAIN)


async def test_other_devices_have_none(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(config_entry_id=other.entry_id, identifiers={("other", "x")})
    assert await device_trigger.async_get_triggers(hass, device.id) == []
    with pytest.raises(InvalidDeviceAutomationConfig):
        await device_trigger.async_validate_trigger_config(
            hass, {"platform": "device", "domain": DOMAIN, "device_id": device.id, "type": "human_detected"}
        )


@pytest.mark.parametrize(
    ("trigger_type", "event", "data"),
    [
        ("human_detected", "human_detected", {"state": "human"}),
        ("hold_started", "hold_started", {"state": "hold"}),
        ("call_ended", "call_ended", {"state": "ended", "outcome": "connected"}),
        ("call_failed", "call_ended", {"state": "failed", "outcome": "failed", "reason": "busy"}),
    ],
)
async def test_trigger_fires_from_sidecar_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    service_calls: list[ServiceCall],
    trigger_type: str,
    event: str,
    data: dict[str, str],
) -> None:
    """A sidecar event arrives; the coordinator fires the bus event; the device trigger runs the automation."""
    device = _sidecar(hass, init_integration)
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "triggers": {"platform": "device", "domain": DOMAIN, "device_id": device.id, "type": trigger_type},
                "actions": {
                    "action": "test.automation",
                    "data": {"some": "{{ trigger.event.data.company }} {{ trigger.event.data.call_id }}"},
                },
            }
        },
    )
    mock_client.emit(event, dict(make_call("call-5"), **data))
    await hass.async_block_till_done()

    fired = [call for call in service_calls if call.domain == "test"]
    assert [call.data["some"] for call in fired] == ["Acme Bank call-5"]


async def test_trigger_ignores_other_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry, service_calls: list[ServiceCall]
) -> None:
    device = _sidecar(hass, init_integration)
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "triggers": {"platform": "device", "domain": DOMAIN, "device_id": device.id, "type": "human_detected"},
                "actions": {"action": "test.automation"},
            }
        },
    )
    hass.bus.async_fire("hold_slayer_human_detected", {"call_id": "x", "device_id": "another-device"})
    await hass.async_block_till_done()
    assert not [call for call in service_calls if call.domain == "test"]

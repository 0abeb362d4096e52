"""Device triggers on the sidecar device: a person answered, hold started, a call ended or failed, a call came in."""

from __future__ import annotations

from typing import Final

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import InvalidDeviceAutomationConfig
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_EVENT_DATA, CONF_PLATFORM, CONF_TYPE
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, EVENT_PREFIX

# Trigger type -> the bus event the coordinator fires (hold_slayer_<type>).
TRIGGER_TYPES: Final = (
    "human_detected",
    "hold_started",
    "call_ended",
    "call_failed",
    # The inbound half (issue #18).
    "incoming_call",
    "call_answered",
    "call_rejected",
    "robocall_blocked",
    "voicemail",
)

TRIGGER_SCHEMA: Final = DEVICE_TRIGGER_BASE_SCHEMA.extend({vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES)})


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Validate the trigger and that its device is a Hold Slayer sidecar."""
    config = TRIGGER_SCHEMA(config)
    device = dr.async_get(hass).async_get(config[CONF_DEVICE_ID])
    if device is None or not any(domain == DOMAIN for domain, _ in device.identifiers):
        raise InvalidDeviceAutomationConfig(f"Device {config[CONF_DEVICE_ID]} is not a Hold Slayer sidecar")
    return config


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """List the call-event triggers of a Hold Slayer sidecar device."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None or not any(domain == DOMAIN for domain, _ in device.identifiers):
        return []
    return [
        {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: trigger_type}
        for trigger_type in TRIGGER_TYPES
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the call event of this device on the bus."""
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: f"{EVENT_PREFIX}{config[CONF_TYPE]}",
            CONF_EVENT_DATA: {CONF_DEVICE_ID: config[CONF_DEVICE_ID]},
        }
    )
    return await event_trigger.async_attach_trigger(hass, event_config, action, trigger_info, platform_type="device")

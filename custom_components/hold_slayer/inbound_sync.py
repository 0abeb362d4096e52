"""Keep the device and rule subentries and the sidecar's devices and rules in step.

The sidecar stores devices and rules; HA shows each as a subentry. A subentry removed in the UI deletes its
device or rule on the sidecar; one the sidecar has and HA does not show (made before an upgrade, or by another
Home Assistant) is adopted as a subentry, so nothing rings that the user cannot see and switch off.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback

from .client import HoldSlayerCommandError, HoldSlayerError
from .const import (
    CONF_ADDRESS,
    CONF_DEVICE_ID,
    CONF_KIND,
    CONF_PRIORITY,
    CONF_RING_TIMEOUT,
    CONF_RULE_ID,
    DEFAULT_PRIORITY,
    DEFAULT_RING_TIMEOUT,
    LOGGER,
    SUBENTRY_DEVICE,
    SUBENTRY_RULE,
)
from .coordinator import HoldSlayerConfigEntry, InboundSubentries
from .inbound_flow import rule_subentry_data
from .protocol import DeviceInfo, ErrorCode, RoutingRule

_ID_KEY: Final = {SUBENTRY_DEVICE: CONF_DEVICE_ID, SUBENTRY_RULE: CONF_RULE_ID}


def inbound_subentries(entry: HoldSlayerConfigEntry) -> InboundSubentries:
    """Return subentry id -> (type, sidecar id, title) of the entry's device and rule subentries."""
    return {
        sub.subentry_id: (sub.subentry_type, str(sub.data.get(_ID_KEY[sub.subentry_type])), sub.title)
        for sub in entry.subentries.values()
        if sub.subentry_type in _ID_KEY
    }


def device_subentry(device: DeviceInfo) -> ConfigSubentry:
    """Return the subentry that shows one of the sidecar's devices."""
    data = {
        CONF_DEVICE_ID: device["device_id"],
        "name": device["name"],
        CONF_KIND: device.get("kind"),
        CONF_ADDRESS: device.get("address") or "",
        CONF_PRIORITY: device.get("priority", DEFAULT_PRIORITY),
        CONF_RING_TIMEOUT: device.get("ring_timeout_s", DEFAULT_RING_TIMEOUT),
    }
    return ConfigSubentry(
        data=MappingProxyType(data), subentry_type=SUBENTRY_DEVICE, title=device["name"], unique_id=device["device_id"]
    )


def rule_subentry(rule: RoutingRule) -> ConfigSubentry:
    """Return the subentry that shows one of the sidecar's routing rules."""
    return ConfigSubentry(
        data=MappingProxyType(rule_subentry_data(rule)),
        subentry_type=SUBENTRY_RULE,
        title=str(rule.get("name") or rule.get("rule_id")),
        unique_id=rule.get("rule_id"),
    )


@callback
def async_adopt(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> None:
    """Add a subentry for every device and rule of the sidecar that has none, then remember the set."""
    inbound = entry.runtime_data.state.inbound
    shown = {(kind, ident) for kind, ident, _ in inbound_subentries(entry).values()}
    for device in inbound.devices.values():
        if (SUBENTRY_DEVICE, device["device_id"]) not in shown:
            hass.config_entries.async_add_subentry(entry, device_subentry(device))
    for rule in inbound.rules.values():
        if (SUBENTRY_RULE, rule["rule_id"]) not in shown:
            hass.config_entries.async_add_subentry(entry, rule_subentry(rule))
    entry.runtime_data.inbound_subentries = inbound_subentries(entry)


async def async_sync(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> bool:
    """Add the entities of new subentries, delete on the sidecar what was removed; True: a rename needs a reload.

    HA itself removes the entities and devices of a removed subentry. A reload would close the connection
    and fail every action for a moment, so only a renamed device or rule (its HA device's name) asks for one.
    """
    coordinator = entry.runtime_data
    before, now = coordinator.inbound_subentries, inbound_subentries(entry)
    coordinator.inbound_subentries = now
    for subentry_id in now.keys() - before.keys():
        coordinator.async_subentry_added(entry.subentries[subentry_id])
    for subentry_id in before.keys() - now.keys():
        kind, ident, title = before[subentry_id]
        try:
            if kind == SUBENTRY_DEVICE:
                await coordinator.client.delete_device(ident)
            else:
                await coordinator.client.delete_rule(ident)
        except HoldSlayerCommandError as err:
            if err.code != ErrorCode.NOT_FOUND:  # already gone (an action deleted it first): nothing to do
                LOGGER.warning("The sidecar kept %s %s: %s", kind, title, err.message)
        except HoldSlayerError as err:
            LOGGER.warning("Could not delete %s %s on the sidecar: %s", kind, title, err)
    return any(before[key] != now[key] for key in before.keys() & now.keys())

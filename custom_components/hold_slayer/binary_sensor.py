"""Binary sensors: is the sidecar connected, and is a person on the line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_KIND, SUBENTRY_DEVICE
from .coordinator import HoldSlayerConfigEntry
from .entity import HoldSlayerEntity, HoldSlayerPhoneEntity, async_setup_subentry_entities
from .model import HoldSlayerData
from .protocol import CallState, DeviceInfo, DeviceKind

PARALLEL_UPDATES = 0
# A person is on the line from detection until the call ends (while the user's phone rings, and bridged).
_HUMAN_STATES = frozenset({CallState.HUMAN, CallState.RINGING_USER, CallState.BRIDGED})


@dataclass(frozen=True, kw_only=True)
class HoldSlayerBinarySensorDescription(BinarySensorEntityDescription):
    """Describes a Hold Slayer binary sensor."""

    is_on_fn: Callable[[HoldSlayerData], bool]
    always_available: bool = False


def _human_on_line(data: HoldSlayerData) -> bool:
    call = data.current_call
    return call is not None and call.get("state") in _HUMAN_STATES


BINARY_SENSORS: tuple[HoldSlayerBinarySensorDescription, ...] = (
    HoldSlayerBinarySensorDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda data: data.connected,
        always_available=True,
    ),
    HoldSlayerBinarySensorDescription(
        key="human_on_line",
        translation_key="human_on_line",
        is_on_fn=_human_on_line,
    ),
)


@dataclass(frozen=True, kw_only=True)
class PhoneBinarySensorDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a device calls ring on."""

    is_on_fn: Callable[[DeviceInfo], bool]


PHONE_BINARY_SENSORS: tuple[PhoneBinarySensorDescription, ...] = (
    PhoneBinarySensorDescription(
        key="ringing",
        translation_key="ringing",
        is_on_fn=lambda phone: phone.get("ringing") is True,
    ),
    # Registered phones only: a contact is bound at the registrar now (the phone can be rung).
    PhoneBinarySensorDescription(
        key="registered",
        translation_key="registered",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda phone: phone.get("registered") is True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HoldSlayerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of a sidecar."""
    async_add_entities(HoldSlayerBinarySensor(entry.runtime_data, description) for description in BINARY_SENSORS)

    def build(subentry: ConfigSubentry) -> list[PhoneBinarySensor]:
        if subentry.subentry_type != SUBENTRY_DEVICE:
            return []
        registered = subentry.data.get(CONF_KIND) == DeviceKind.REGISTERED
        return [
            PhoneBinarySensor(entry.runtime_data, subentry, description)
            for description in PHONE_BINARY_SENSORS
            if registered or description.key != "registered"  # only a registered phone has a registration
        ]

    async_setup_subentry_entities(entry, async_add_entities, build)


class HoldSlayerBinarySensor(HoldSlayerEntity, BinarySensorEntity):
    """A Hold Slayer binary sensor."""

    entity_description: HoldSlayerBinarySensorDescription

    @property
    def available(self) -> bool:
        """Return True; the connectivity sensor reports a lost sidecar instead of vanishing."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool:
        """Return the state from the coordinator's data."""
        return self.entity_description.is_on_fn(self.coordinator.state)


class PhoneBinarySensor(HoldSlayerPhoneEntity, BinarySensorEntity):
    """A binary sensor of a device calls ring on."""

    entity_description: PhoneBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Return the state from the device as the sidecar reports it."""
        phone = self.phone
        return phone is not None and self.entity_description.is_on_fn(phone)

"""Base entities: the sidecar's device, and each device calls ring on (a phone, a number, an extension)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_DEVICE_ID, CONF_KIND, DEFAULT_NAME, DOMAIN
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator
from .protocol import CallInfo, DeviceKind
from .protocol import DeviceInfo as ProtocolDeviceInfo

PHONE_MODELS: Final[dict[str, str]] = {
    DeviceKind.SIP_URI: "SIP phone",
    DeviceKind.NUMBER: "Phone number",
    DeviceKind.EXTENSION: "PBX extension",
    DeviceKind.REGISTERED: "Registered SIP phone",
}


class HoldSlayerEntity(CoordinatorEntity[HoldSlayerCoordinator]):
    """An entity of the Hold Slayer sidecar device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: HoldSlayerCoordinator, description: EntityDescription) -> None:
        """Attach the entity to the sidecar device of its config entry."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name=DEFAULT_NAME,
            manufacturer="Hold Slayer",
            model="Hold Slayer sidecar",
            sw_version=coordinator.state.sidecar_version,
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def current_call(self) -> CallInfo | None:
        """Return the call the entities describe (the active one, else the latest)."""
        return self.coordinator.state.current_call


class HoldSlayerPhoneEntity(CoordinatorEntity[HoldSlayerCoordinator]):
    """An entity of one device calls ring on (a config subentry), shown as its own HA device under the sidecar."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: HoldSlayerCoordinator, subentry: ConfigSubentry, description: EntityDescription
    ) -> None:
        """Attach the entity to the device of its subentry."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self.device_key = str(subentry.data[CONF_DEVICE_ID])
        self._attr_unique_id = f"{entry_id}_{self.device_key}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, phone_identifier(entry_id, self.device_key))},
            name=subentry.title,
            manufacturer="Hold Slayer",
            model=PHONE_MODELS.get(str(subentry.data.get(CONF_KIND)), "Phone"),
            via_device=(DOMAIN, entry_id),
        )

    @property
    def phone(self) -> ProtocolDeviceInfo | None:
        """Return the device as the sidecar last reported it (None: the sidecar does not know it)."""
        return self.coordinator.state.inbound.devices.get(self.device_key)

    @property
    def available(self) -> bool:
        """Return False while the sidecar is away or no longer knows the device."""
        return super().available and self.phone is not None


def phone_identifier(entry_id: str, device_id: str) -> str:
    """Return the device registry identifier of one device calls ring on."""
    return f"{entry_id}_device_{device_id}"


@callback
def async_setup_subentry_entities(
    entry: HoldSlayerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[ConfigSubentry], Sequence[Entity]],
) -> None:
    """Add the entities of each subentry now, and of each subentry added while the entry is loaded."""

    @callback
    def add(subentry: ConfigSubentry) -> None:
        if entities := build(subentry):
            async_add_entities(entities, config_subentry_id=subentry.subentry_id)

    for subentry in entry.subentries.values():
        add(subentry)
    entry.async_on_unload(entry.runtime_data.async_add_subentry_listener(add))

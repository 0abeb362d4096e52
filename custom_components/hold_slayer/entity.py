"""Base entity: every Hold Slayer entity belongs to the sidecar's device."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_NAME, DOMAIN
from .coordinator import HoldSlayerCoordinator
from .protocol import CallInfo


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

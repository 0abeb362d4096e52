"""Event entity: one event per milestone of a call (dialing, on hold, human, bridged, ...)."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CALL_EVENT_TYPES
from .coordinator import HoldSlayerConfigEntry
from .entity import HoldSlayerEntity
from .protocol import CallInfo

PARALLEL_UPDATES = 0

CALL_EVENTS = EventEntityDescription(
    key="call_events",
    translation_key="call_events",
    event_types=CALL_EVENT_TYPES,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HoldSlayerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call events entity of a sidecar."""
    async_add_entities([HoldSlayerCallEvents(entry.runtime_data, CALL_EVENTS)])


class HoldSlayerCallEvents(HoldSlayerEntity, EventEntity):
    """Fires when a call reaches a milestone."""

    _unrecorded_attributes = frozenset({"target"})  # the number dialled stays out of the recorder

    async def async_added_to_hass(self) -> None:
        """Listen for milestones while the entity exists."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_milestone_listener(self._on_milestone))

    @callback
    def _on_milestone(self, milestone: str, call: CallInfo) -> None:
        self._trigger_event(
            milestone,
            {
                "call_id": call["call_id"],
                "company": call.get("company"),
                "target": call.get("target"),
                "state": call.get("state"),
                "outcome": call.get("outcome"),
            },
        )
        self.async_write_ha_state()

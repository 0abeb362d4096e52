"""Sensors: state of the current call, who it calls, and how long it has been on hold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .company_sensor import company_sensors
from .const import CALL_STATE_OPTIONS, STATE_IDLE, SUBENTRY_COMPANY
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator
from .diagnostic_sensor import diagnostic_sensors
from .entity import HoldSlayerEntity, async_setup_subentry_entities
from .inbound_sensor import inbound_sensors, phone_sensors

PARALLEL_UPDATES = 0
# Kept out of the recorder database: what was said on the call, the touch-tones sent (account numbers,
# PINs) and the number dialled. They stay on the live state for cards and automations.
UNRECORDED_CALL_ATTRIBUTES = frozenset({"transcript", "digits_sent", "target"})


@dataclass(frozen=True, kw_only=True)
class HoldSlayerSensorDescription(SensorEntityDescription):
    """Describes a Hold Slayer sensor."""

    value_fn: Callable[[HoldSlayerCoordinator], StateType]
    attributes_fn: Callable[[HoldSlayerCoordinator], dict[str, Any]] = lambda _: {}


def _call_state(coordinator: HoldSlayerCoordinator) -> str:
    call = coordinator.state.current_call
    return str(call.get("state") or STATE_IDLE) if call else STATE_IDLE


def _call_state_attributes(coordinator: HoldSlayerCoordinator) -> dict[str, Any]:
    call = coordinator.state.current_call
    companies = [
        subentry.title
        for subentry in coordinator.config_entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_COMPANY
    ]
    return {
        "call_id": call["call_id"] if call else None,
        "company": call.get("company") if call else None,
        "target": call.get("target") if call else None,
        "intent": call.get("intent") if call else None,
        "department": call.get("department") if call else None,
        "state": call.get("state") if call else STATE_IDLE,
        "hold_started_at": call.get("hold_started_at") if call else None,
        "human_detected_at": call.get("human_detected_at") if call else None,
        "digits_sent": call.get("digits_sent") if call else None,
        "transcript": coordinator.state.transcript(call["call_id"]) if call else [],
        "companies": sorted(companies),
        "outcome": call.get("outcome") if call else None,
    }


def _company(coordinator: HoldSlayerCoordinator) -> str | None:
    call = coordinator.state.current_call
    if call is None:
        return None
    return call.get("company") or call.get("target")


def _hold_time(coordinator: HoldSlayerCoordinator) -> float | None:
    call = coordinator.state.current_call
    if call is None:
        return None
    return round(float(call.get("hold_seconds") or 0.0), 1)


def _hold_attributes(coordinator: HoldSlayerCoordinator) -> dict[str, Any]:
    call = coordinator.state.current_call
    # A card adds (now - hold_started_at) while state is "hold" to count live between pushes.
    return {
        "call_id": call["call_id"] if call else None,
        "state": call.get("state") if call else STATE_IDLE,
        "hold_started_at": call.get("hold_started_at") if call else None,
    }


SENSORS: tuple[HoldSlayerSensorDescription, ...] = (
    HoldSlayerSensorDescription(
        key="call_state",
        translation_key="call_state",
        device_class=SensorDeviceClass.ENUM,
        options=CALL_STATE_OPTIONS,
        value_fn=_call_state,
        attributes_fn=_call_state_attributes,
    ),
    HoldSlayerSensorDescription(
        key="company",
        translation_key="company",
        value_fn=_company,
    ),
    HoldSlayerSensorDescription(
        key="hold_time",
        translation_key="hold_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=0,
        value_fn=_hold_time,
        attributes_fn=_hold_attributes,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HoldSlayerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of a sidecar, and each company's hold statistics (on the company's subentry)."""
    async_add_entities(HoldSlayerSensor(entry.runtime_data, description) for description in SENSORS)
    async_add_entities(inbound_sensors(entry))
    async_setup_subentry_entities(entry, async_add_entities, lambda subentry: phone_sensors(entry, subentry))
    async_add_entities(diagnostic_sensors(entry.runtime_data))
    statistics = entry.runtime_data.statistics
    if statistics is None:
        return
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_COMPANY:
            async_add_entities(company_sensors(statistics, subentry), config_subentry_id=subentry.subentry_id)


class HoldSlayerSensor(HoldSlayerEntity, SensorEntity):
    """A Hold Slayer sensor."""

    entity_description: HoldSlayerSensorDescription
    _unrecorded_attributes = UNRECORDED_CALL_ATTRIBUTES

    @property
    def native_value(self) -> StateType:
        """Return the state from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the call details a card or automation needs."""
        return self.entity_description.attributes_fn(self.coordinator)

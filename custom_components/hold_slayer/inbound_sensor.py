"""Sensors of the inbound half: the call coming in, the last caller, unheard voicemails, each device's last call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import INBOUND_STATE_OPTIONS, SUBENTRY_DEVICE
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator, voicemail_media_id
from .entity import HoldSlayerEntity, HoldSlayerPhoneEntity
from .inbound_model import InboundData, call_payload, voicemail_payload
from .protocol import InboundCallInfo

# What callers said, what the receptionist heard and who they are stay out of the recorder database: a
# voicemail transcript is as personal as a letter. They stay on the live state for cards and automations.
UNRECORDED_INBOUND_ATTRIBUTES = frozenset(
    {"caller", "caller_name", "dialled", "heard", "purpose", "voicemails", "transcript", "last_caller", "reason"}
)


def _call_attributes(call: InboundCallInfo | None) -> dict[str, Any]:
    return call_payload(call) if call else {}


def _get(call: InboundCallInfo | None, key: str) -> Any:
    return cast(dict[str, Any], call).get(key) if call else None


def _caller(call: InboundCallInfo | None) -> str | None:
    if call is None:
        return None
    name, number = call.get("caller_name"), call.get("caller")
    return str(name or number or "") or None


def _voicemails(entry_id: str, inbound: InboundData) -> dict[str, Any]:
    return {
        "voicemails": [
            {
                **voicemail_payload(vm),
                "heard": vm.get("heard") is True,
                "media_content_id": voicemail_media_id(entry_id, vm["voicemail_id"]),
            }
            for vm in inbound.voicemails
        ]
    }


@dataclass(frozen=True, kw_only=True)
class InboundSensorDescription(SensorEntityDescription):
    """Describes a sensor of the inbound half on the sidecar device."""

    value_fn: Callable[[HoldSlayerCoordinator], StateType | datetime]
    attributes_fn: Callable[[HoldSlayerCoordinator], dict[str, Any]] = lambda _: {}


INBOUND_SENSORS: tuple[InboundSensorDescription, ...] = (
    InboundSensorDescription(
        key="inbound_call",
        translation_key="inbound_call",
        device_class=SensorDeviceClass.ENUM,
        options=INBOUND_STATE_OPTIONS,
        value_fn=lambda c: str(_get(c.state.inbound.active_call, "state") or "idle"),
        attributes_fn=lambda c: _call_attributes(c.state.inbound.active_call),
    ),
    InboundSensorDescription(
        key="last_caller",
        translation_key="last_caller",
        value_fn=lambda c: _caller(c.state.inbound.last_caller),
        attributes_fn=lambda c: {
            **_call_attributes(c.state.inbound.last_caller),
            "started_at": _get(c.state.inbound.last_caller, "started_at"),
        },
    ),
    InboundSensorDescription(
        key="unheard_voicemails",
        translation_key="unheard_voicemails",
        value_fn=lambda c: c.state.inbound.unheard_voicemails,
        attributes_fn=lambda c: _voicemails(c.config_entry.entry_id, c.state.inbound),
    ),
)

LAST_CALL = SensorEntityDescription(
    key="last_call", translation_key="last_call", device_class=SensorDeviceClass.TIMESTAMP
)


class InboundSensor(HoldSlayerEntity, SensorEntity):
    """A sensor of the inbound half on the sidecar device."""

    entity_description: InboundSensorDescription
    _unrecorded_attributes = UNRECORDED_INBOUND_ATTRIBUTES

    @property
    def available(self) -> bool:
        """Return False for a sidecar without the inbound half."""
        return super().available and self.coordinator.state.inbound.supported

    @property
    def native_value(self) -> StateType | datetime:
        """Return the state from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the call or voicemails a card or automation needs."""
        return self.entity_description.attributes_fn(self.coordinator)


class LastCallSensor(HoldSlayerPhoneEntity, SensorEntity):
    """When a device last rang, who called, and whether it rings now."""

    _unrecorded_attributes = UNRECORDED_INBOUND_ATTRIBUTES

    @property
    def native_value(self) -> datetime | None:
        """Return when the device last rang."""
        phone = cast(dict[str, Any], self.phone or {})
        value = phone.get("last_call_at")
        when = dt_util.parse_datetime(value) if isinstance(value, str) else None
        # The protocol says UTC; a time without an offset would make HA refuse the whole state write.
        return when.replace(tzinfo=dt_util.UTC) if when is not None and when.tzinfo is None else when

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the last caller and whether the device rings now."""
        phone = cast(dict[str, Any], self.phone or {})
        return {"last_caller": phone.get("last_caller"), "ringing": phone.get("ringing") is True}


def inbound_sensors(entry: HoldSlayerConfigEntry) -> list[SensorEntity]:
    """Build the sidecar-wide inbound sensors."""
    return [InboundSensor(entry.runtime_data, description) for description in INBOUND_SENSORS]


def phone_sensors(entry: HoldSlayerConfigEntry, subentry: ConfigSubentry) -> list[SensorEntity]:
    """Build the sensors of one device subentry."""
    if subentry.subentry_type != SUBENTRY_DEVICE:
        return []
    return [LastCallSensor(entry.runtime_data, subentry, LAST_CALL)]

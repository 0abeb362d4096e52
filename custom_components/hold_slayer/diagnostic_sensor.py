"""Diagnostic sensors: the trunk's registration and the health of each engine the sidecar runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory

from .coordinator import HoldSlayerCoordinator
from .entity import HoldSlayerEntity
from .protocol import RegistrationState

REGISTRATION_OPTIONS: Final = [state.value for state in RegistrationState]
HEALTH_OK: Final = "ok"
HEALTH_UNAVAILABLE: Final = "unavailable"
HEALTH_NOT_CONFIGURED: Final = "not_configured"
HEALTH_OPTIONS: Final = [HEALTH_OK, HEALTH_UNAVAILABLE, HEALTH_NOT_CONFIGURED]
# The engine roles the sidecar reports: speech-to-text, text-to-speech, the LLM, the media worker processes
# and the SIP edge (kamailio).
ENGINE_ROLES: Final = ("stt", "tts", "llm", "sip_workers", "edge")


def health_state(health: str | None) -> str | None:
    """Map the sidecar's health text ("ok", "unavailable: why", "not configured") to a sensor state."""
    if health is None:
        return None
    if health == HEALTH_OK:
        return HEALTH_OK
    if health.startswith("not configured") or health.endswith(": not configured"):
        return HEALTH_NOT_CONFIGURED
    return HEALTH_UNAVAILABLE


@dataclass(frozen=True, kw_only=True)
class EngineHealthDescription(SensorEntityDescription):
    """Describes the health sensor of one engine role."""

    role: str


class RegistrationSensor(HoldSlayerEntity, SensorEntity):
    """Where the trunk's registration stands, with the registrar's last answer."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = REGISTRATION_OPTIONS

    def __init__(self, coordinator: HoldSlayerCoordinator) -> None:
        """Describe the registration sensor."""
        super().__init__(
            coordinator, SensorEntityDescription(key="trunk_registration", translation_key="trunk_registration")
        )

    def _registration(self) -> dict[str, Any] | None:
        sidecar = self.coordinator.state.sidecar
        registration = sidecar.get("registration") if sidecar else None
        return dict(registration) if isinstance(registration, dict) else None

    @property
    def native_value(self) -> str | None:
        """Return the registration state (unknown from a sidecar that does not report it)."""
        registration = self._registration()
        state = registration.get("state") if registration else None
        return state if state in REGISTRATION_OPTIONS else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the registrar's last status code, the reason in words, and which registrar."""
        registration = self._registration() or {}
        return {key: registration.get(key) for key in ("code", "reason", "registrar")}


class EngineHealthSensor(HoldSlayerEntity, SensorEntity):
    """Whether one engine of the sidecar works, and why not (off by default: for finding a fault)."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_entity_registry_enabled_default = False
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = HEALTH_OPTIONS
    entity_description: EngineHealthDescription

    def _health(self) -> str | None:
        sidecar = self.coordinator.state.sidecar
        engines = sidecar.get("engines") if sidecar else None
        health = engines.get(self.entity_description.role) if isinstance(engines, dict) else None
        return str(health) if health is not None else None

    @property
    def native_value(self) -> str | None:
        """Return ok, unavailable or not_configured."""
        return health_state(self._health())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the sidecar's own words about the engine."""
        return {"detail": self._health()}


def diagnostic_sensors(coordinator: HoldSlayerCoordinator) -> list[SensorEntity]:
    """Return the registration sensor and one health sensor per engine role."""
    sensors: list[SensorEntity] = [RegistrationSensor(coordinator)]
    for role in ENGINE_ROLES:
        description = EngineHealthDescription(key=f"{role}_health", translation_key=f"{role}_health", role=role)
        sensors.append(EngineHealthSensor(coordinator, description))
    return sensors

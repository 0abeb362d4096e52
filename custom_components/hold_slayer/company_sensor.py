"""Per-company hold sensors (expected hold now, median, last hold, success rate) with long-term statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription, SensorStateClass
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import PERCENTAGE, UnitOfTime
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .history import CompanyFigures, HoldStatisticsCoordinator


def _minutes(seconds: Any) -> float | None:
    return round(float(seconds) / 60, 1) if isinstance(seconds, int | float) else None


def _expected(figures: CompanyFigures) -> StateType:
    now = (figures.get("forecast") or {}).get("now")
    return now.get("minutes") if isinstance(now, dict) else None


def _forecast_attributes(figures: CompanyFigures) -> dict[str, Any]:
    forecast = figures.get("forecast") or {}
    now = forecast.get("now") or {}
    return {
        "calls": now.get("calls", forecast.get("calls", 0)),
        "basis": now.get("basis"),
        "best_time": (forecast.get("best") or {}).get("at"),
        "best_time_minutes": (forecast.get("best") or {}).get("minutes"),
        "forecast": forecast.get("text"),
    }


@dataclass(frozen=True, kw_only=True)
class CompanySensorDescription(SensorEntityDescription):
    """Describes one statistics sensor of a company."""

    value_fn: Callable[[CompanyFigures], StateType]
    attributes_fn: Callable[[CompanyFigures], dict[str, Any]] = lambda _: {}


# MEASUREMENT so the recorder keeps long-term statistics (hourly mean/min/max) and the history graph works.
COMPANY_SENSORS: tuple[CompanySensorDescription, ...] = (
    CompanySensorDescription(
        key="expected_hold",
        translation_key="expected_hold",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=_expected,
        attributes_fn=_forecast_attributes,
    ),
    CompanySensorDescription(
        key="median_hold",
        translation_key="median_hold",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=lambda f: _minutes(f.get("hold_median_s")),
        attributes_fn=lambda f: {"calls": f.get("hold_calls", 0), "p90_minutes": _minutes(f.get("hold_p90_s"))},
    ),
    CompanySensorDescription(
        key="last_hold",
        translation_key="last_hold",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=lambda f: _minutes(f.get("last_hold_s")),
        attributes_fn=lambda f: {"last_call_at": f.get("last_call_at")},
    ),
    CompanySensorDescription(
        key="success_rate",
        translation_key="success_rate",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda f: round(float(f["success_rate"]) * 100, 1) if f.get("calls") else None,
        attributes_fn=lambda f: {"calls": f.get("calls", 0), "reached_person": f.get("reached_person", 0)},
    ),
)


class CompanyStatisticsSensor(CoordinatorEntity[HoldStatisticsCoordinator], SensorEntity):
    """One statistic of one company the user calls."""

    _attr_has_entity_name = True
    entity_description: CompanySensorDescription

    def __init__(
        self, coordinator: HoldStatisticsCoordinator, subentry: ConfigSubentry, description: CompanySensorDescription
    ) -> None:
        """Attach the sensor to the company's device (under the sidecar)."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._company = subentry.title
        self._attr_unique_id = f"{entry_id}_{subentry.subentry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry_id}_{subentry.subentry_id}")},
            name=subentry.title,
            manufacturer="Hold Slayer",
            model="Company",
            entry_type=DeviceEntryType.SERVICE,
            via_device=(DOMAIN, entry_id),
        )

    @property
    def _figures(self) -> CompanyFigures:
        data = self.coordinator.data or {}
        return data.get(self._company.casefold()) or CompanyFigures(company=self._company, calls=0)

    @property
    def native_value(self) -> StateType:
        """Return the statistic."""
        return self.entity_description.value_fn(self._figures)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return how many calls the figure rests on."""
        return self.entity_description.attributes_fn(self._figures)


def company_sensors(coordinator: HoldStatisticsCoordinator, subentry: ConfigSubentry) -> list[CompanyStatisticsSensor]:
    """Build the statistics sensors of one company."""
    return [CompanyStatisticsSensor(coordinator, subentry, description) for description in COMPANY_SENSORS]

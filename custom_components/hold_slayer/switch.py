"""Switches: Do Not Disturb for the whole line and for each device, and each routing rule on or off."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_RULE_ID, SUBENTRY_DEVICE, SUBENTRY_RULE
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator
from .entity import HoldSlayerEntity, HoldSlayerPhoneEntity, async_setup_subentry_entities
from .protocol import RoutingRule
from .services import _run

PARALLEL_UPDATES = 0

GLOBAL_DND = SwitchEntityDescription(key="global_dnd", translation_key="global_dnd")
DEVICE_DND = SwitchEntityDescription(key="dnd", translation_key="dnd")
RULE_ENABLED = SwitchEntityDescription(key="rule", translation_key="rule", entity_category=EntityCategory.CONFIG)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HoldSlayerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the global DND switch, a DND switch per device and an enabled switch per rule."""
    coordinator = entry.runtime_data
    async_add_entities([GlobalDndSwitch(coordinator, GLOBAL_DND)])

    def build(subentry: ConfigSubentry) -> list[SwitchEntity]:
        if subentry.subentry_type == SUBENTRY_DEVICE:
            return [DeviceDndSwitch(coordinator, subentry, DEVICE_DND)]
        if subentry.subentry_type == SUBENTRY_RULE:
            return [RuleSwitch(coordinator, subentry)]
        return []

    async_setup_subentry_entities(entry, async_add_entities, build)


class GlobalDndSwitch(HoldSlayerEntity, SwitchEntity):
    """Do Not Disturb for the whole line: nothing rings, callers go to voicemail."""

    @property
    def available(self) -> bool:
        """Return False for a sidecar without the inbound half."""
        return super().available and self.coordinator.state.inbound.supported

    @property
    def is_on(self) -> bool:
        """Return True while the whole line is on Do Not Disturb."""
        return self.coordinator.state.inbound.global_dnd

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn Do Not Disturb on for the whole line."""
        await _run(self.coordinator.client.set_dnd(None, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn Do Not Disturb off for the whole line."""
        await _run(self.coordinator.client.set_dnd(None, False))


class DeviceDndSwitch(HoldSlayerPhoneEntity, SwitchEntity):
    """Do Not Disturb for one device: a ring chain skips it."""

    @property
    def is_on(self) -> bool:
        """Return True while the device is on Do Not Disturb."""
        phone = self.phone
        return phone is not None and phone.get("dnd") is True

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Stop ringing this device."""
        await _run(self.coordinator.client.set_dnd(self.device_key, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Ring this device again."""
        await _run(self.coordinator.client.set_dnd(self.device_key, False))


class RuleSwitch(HoldSlayerEntity, SwitchEntity):
    """A routing rule, on or off (a rule that is off is skipped, and keeps its place)."""

    def __init__(self, coordinator: HoldSlayerCoordinator, subentry: ConfigSubentry) -> None:
        """Name the switch after its rule."""
        super().__init__(coordinator, RULE_ENABLED)
        self.rule_id = str(subentry.data[CONF_RULE_ID])
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_rule_{self.rule_id}"
        self._attr_translation_placeholders = {"rule": subentry.title}

    @property
    def rule(self) -> RoutingRule | None:
        """Return the rule as the sidecar stores it."""
        return self.coordinator.state.inbound.rules.get(self.rule_id)

    @property
    def available(self) -> bool:
        """Return False while the sidecar is away or no longer has the rule."""
        return super().available and self.rule is not None

    @property
    def is_on(self) -> bool:
        """Return True while the rule is evaluated."""
        rule = self.rule
        return rule is not None and rule.get("enabled") is True

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return what the rule matches and does, for a card or a template."""
        rule = cast(dict[str, Any], self.rule or {})
        keys = (
            "priority",
            "action",
            "caller_pattern",
            "dialled_pattern",
            "time_start",
            "time_end",
            "days",
            "time_zone",
        )
        return {key: rule.get(key) for key in keys}

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Evaluate the rule again."""
        await self._set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Skip the rule."""
        await self._set_enabled(False)

    async def _set_enabled(self, enabled: bool) -> None:
        if (rule := self.rule) is None:
            return
        stored = await _run(self.coordinator.client.save_rule({**rule, "enabled": enabled}))
        self.coordinator.state.inbound.rules[self.rule_id] = stored
        self.async_write_ha_state()

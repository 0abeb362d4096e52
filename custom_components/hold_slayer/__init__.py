"""The Hold Slayer integration: a sidecar waits on hold for you and rings you when a person answers."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
from homeassistant.loader import async_get_integration

from .const import DOMAIN
from .coordinator import HoldSlayerConfigEntry, HoldSlayerCoordinator
from .frontend import async_register_card
from .history import HoldStatisticsCoordinator, async_watch_calls
from .history_actions import async_setup_history_actions
from .intent import async_setup_intents
from .media_source import RecordingView
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions, voice intent and Lovelace card."""
    async_setup_services(hass)
    async_setup_history_actions(hass)
    if "http" in hass.config.components:
        hass.http.register_view(RecordingView())
    await async_setup_intents(hass)
    if "http" in hass.config.components:
        integration = await async_get_integration(hass, DOMAIN)
        await async_register_card(hass, str(integration.version))
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> bool:
    """Connect to the sidecar and set up its entities."""
    coordinator = HoldSlayerCoordinator.from_entry(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    coordinator.async_start()
    statistics = HoldStatisticsCoordinator(hass, entry, coordinator.client)
    await statistics.async_refresh()  # a failure leaves the statistics sensors unavailable, not the entry
    coordinator.statistics = statistics
    async_watch_calls(hass, entry, statistics)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> None:
    """Companies and options are read live: just refresh the entities' attributes."""
    entry.runtime_data.async_update_listeners()


async def async_unload_entry(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> bool:
    """Unload the entities and close the connection."""
    if unload_ok := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        await entry.runtime_data.async_stop()
    return unload_ok

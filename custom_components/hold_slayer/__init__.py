"""The Hold Slayer integration: a sidecar waits on hold for you and rings you when a person answers."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
from homeassistant.loader import async_get_integration

from .const import DOMAIN, LOGGER
from .coordinator import (
    HoldSlayerConfigEntry,
    HoldSlayerCoordinator,
    async_forget_entry,
    async_sidecar_down_at_setup,
)
from .frontend import async_register_card
from .history import HoldStatisticsCoordinator, async_watch_calls
from .history_actions import async_setup_history_actions
from .inbound_actions import async_setup_inbound_actions
from .inbound_sync import async_adopt, async_sync
from .media_source import RecordingView
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR, Platform.SWITCH]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions and Lovelace card.

    The voice intent is not registered here: HA's intent integration loads ``intent.py`` as a platform of
    every integration and calls its ``async_setup_intents`` itself (registering it here too made HA log
    "Intent HoldSlayerCall is being overwritten").
    """
    async_setup_services(hass)
    async_setup_history_actions(hass)
    async_setup_inbound_actions(hass)
    if "http" in hass.config.components:
        hass.http.register_view(RecordingView())
    if "http" in hass.config.components:
        integration = await async_get_integration(hass, DOMAIN)
        await async_register_card(hass, str(integration.version))
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> bool:
    """Move old entries forward: 1.1 used host:port as the unique id, 1.2 uses the sidecar's own id.

    The id comes from the sidecar's welcome, so the coordinator adopts it at the next connection
    (``HoldSlayerCoordinator._adopt_sidecar_id``); a sidecar that is down now is not a failed migration.
    """
    if entry.version > 1:
        return False  # written by a newer integration: refuse rather than guess
    if entry.minor_version < 2:
        LOGGER.debug("Migrating %s from 1.%s to 1.2", entry.title, entry.minor_version)
        hass.config_entries.async_update_entry(entry, minor_version=2)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> bool:
    """Connect to the sidecar and set up its entities."""
    coordinator = HoldSlayerCoordinator.from_entry(hass, entry)
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        if coordinator.sidecar_unreachable:
            async_sidecar_down_at_setup(hass, entry, coordinator.client.url)
        raise
    entry.runtime_data = coordinator
    coordinator.async_start()
    statistics = HoldStatisticsCoordinator(hass, entry, coordinator.client)
    await statistics.async_refresh()  # a failure leaves the statistics sensors unavailable, not the entry
    coordinator.statistics = statistics
    async_watch_calls(hass, entry, statistics)
    async_adopt(hass, entry)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> None:
    """Companies and options are read live; a device or rule added or removed rebuilds the entities."""
    if await async_sync(hass, entry):
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    entry.runtime_data.async_update_listeners()


async def async_unload_entry(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> bool:
    """Unload the entities and close the connection."""
    if unload_ok := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        await entry.runtime_data.async_stop()
    return unload_ok


async def async_remove_entry(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> None:
    """Forget the entry's repairs: nobody can fix a sidecar that is no longer configured."""
    async_forget_entry(hass, entry.entry_id)

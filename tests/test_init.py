"""Setting up and unloading a sidecar entry."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.hold_slayer.client import (
    HoldSlayerAuthenticationError,
    HoldSlayerConnectionError,
    HoldSlayerVersionError,
)
from custom_components.hold_slayer.const import DOMAIN

from .common import FakeHoldSlayerClient


@pytest.fixture
def no_platforms() -> Generator[None]:
    """Set up no entity platforms: HA's retry runs as a background task that loading them would outlive."""
    with patch("custom_components.hold_slayer.PLATFORMS", []):
        yield


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert mock_client.connected
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    assert device.name == "Hold Slayer"
    assert device.sw_version == "0.1.0"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not mock_client.connected


async def test_setup_retries_when_sidecar_down(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.connect_error = HoldSlayerConnectionError("refused")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_wrong_token_starts_reauth(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.connect_error = HoldSlayerAuthenticationError("bad token")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_setup_version_mismatch_raises_issue(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
) -> None:
    mock_client.connect_error = HoldSlayerVersionError("protocol 2", 2)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    issue = issue_registry.async_get_issue(DOMAIN, f"incompatible_version_{mock_config_entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"server": "2", "client": "1"}


@pytest.mark.usefixtures("no_platforms")
async def test_sidecar_down_at_start_raises_repair_then_clears_it(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """HA starts while the sidecar is down: setup retries, and after five minutes the repair appears."""
    issue_id = f"sidecar_unreachable_{mock_config_entry.entry_id}"
    mock_client.connect_error = HoldSlayerConnectionError("refused")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    retries = mock_client.connect_count
    for _ in range(8):  # HA's own retry backoff (5 s doubling to 80 s): 7.5 minutes of retries
        freezer.tick(timedelta(seconds=90))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert mock_client.connect_count > retries + 3
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"url": "ws://127.0.0.1:8765/api/ws", "minutes": "5"}

    mock_client.connect_error = None  # the sidecar is back: the next retry connects and clears the repair
    freezer.tick(timedelta(seconds=90))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.usefixtures("no_platforms")
async def test_short_outage_at_start_raises_no_repair(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A sidecar that comes up a minute after HA (an add-on still loading models) raises nothing."""
    mock_client.connect_error = HoldSlayerConnectionError("refused")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    mock_client.connect_error = None
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert not issue_registry.issues


async def test_removing_entry_clears_its_repairs(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    mock_client.connect_error = HoldSlayerConnectionError("refused")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    for _ in range(6):
        freezer.tick(timedelta(seconds=90))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert issue_registry.issues

    assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert not issue_registry.issues


async def test_migration_from_host_port_unique_id(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    """An entry from 1.1 (unique id host:port) moves to 1.2 and takes the sidecar's id at its first connection."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data=dict(mock_config_entry.data),
        unique_id="127.0.0.1:8765",
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    mock_client.sidecar_id = "0123456789abcdef0123456789abcdef"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.unique_id == "0123456789abcdef0123456789abcdef"
    assert dict(entry.data) == dict(mock_config_entry.data)


async def test_migration_with_sidecar_down_keeps_old_id_until_it_answers(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data=dict(mock_config_entry.data), unique_id="127.0.0.1:8765")
    entry.add_to_hass(hass)
    mock_client.connect_error = HoldSlayerConnectionError("refused")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY  # migrated, not a migration error
    assert (entry.minor_version, entry.unique_id) == (2, "127.0.0.1:8765")


async def test_migration_refuses_a_newer_entry(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data=dict(mock_config_entry.data), version=2)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


async def test_sidecar_id_already_used_by_another_entry_is_not_taken(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    MockConfigEntry(domain=DOMAIN, data={"host": "10.0.0.1", "port": 1, "token": "x"}, unique_id="the-id").add_to_hass(
        hass
    )
    mock_client.sidecar_id = "the-id"
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.unique_id == "127.0.0.1:8765"

"""Setting up and unloading a sidecar entry."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import (
    HoldSlayerAuthenticationError,
    HoldSlayerConnectionError,
    HoldSlayerVersionError,
)
from custom_components.hold_slayer.const import DOMAIN

from .common import FakeHoldSlayerClient


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

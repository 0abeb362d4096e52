"""Fixtures for the Hold Slayer integration tests (the HA UX tests use them too)."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import AsyncMock, PropertyMock, patch

import pytest
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.hold_slayer.const import (
    CONF_ALIASES,
    CONF_CALL_FLOW,
    CONF_NUMBER,
    CONF_REASON,
    CONF_TRANSFER_TO,
    DOMAIN,
    SUBENTRY_COMPANY,
)

from .common import HOST, PORT, TOKEN, FakeHoldSlayerClient, make_call, make_snapshot
from .inbound_common import DESK_SUBENTRY, KITCHEN_SUBENTRY, RULE_SUBENTRY, FakeInboundSidecar, setup_entry

COMPANY_ACME: ConfigSubentryData = ConfigSubentryData(
    data={
        CONF_NAME: "Acme Bank",
        CONF_NUMBER: "+18005550100",
        CONF_ALIASES: ["bank", "acme"],
        CONF_REASON: "check my balance",
        CONF_CALL_FLOW: "acme-bank",
    },
    subentry_id="01ACMEBANK0000000000000000",  # fixed: the company sensors' unique ids are in snapshots
    subentry_type=SUBENTRY_COMPANY,
    title="Acme Bank",
    unique_id="acme bank",
)
COMPANY_TELCO: ConfigSubentryData = ConfigSubentryData(
    data={CONF_NAME: "Telco", CONF_NUMBER: "sip:support@telco.example", CONF_ALIASES: []},
    subentry_id="01TELCO00000000000000000000",
    subentry_type=SUBENTRY_COMPANY,
    title="Telco",
    unique_id="telco",
)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Use HA's snapshot serializer (syrupy's own fixture shadows it)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/hold_slayer in every test."""


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Skip real setup in config flow tests."""
    with patch("custom_components.hold_slayer.async_setup_entry", return_value=True) as mock:
        yield mock


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """Return a config entry of one sidecar with two companies."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: HOST, CONF_PORT: PORT, CONF_TOKEN: TOKEN},
        options={CONF_TRANSFER_TO: "sip:me@192.168.1.20"},
        unique_id=f"{HOST}:{PORT}",
        entry_id="01JHOLDSLAYER0000000000000",
        minor_version=2,
        subentries_data=[COMPANY_ACME, COMPANY_TELCO],
    )


@pytest.fixture
def mock_client() -> Generator[FakeHoldSlayerClient]:
    """Return the fake client the coordinator and the config flow get instead of the real one."""
    client = FakeHoldSlayerClient()
    with (
        patch("custom_components.hold_slayer.coordinator.HoldSlayerClient", return_value=client),
        patch("custom_components.hold_slayer.config_flow.HoldSlayerClient", return_value=client),
        patch(
            "custom_components.hold_slayer.config_flow.fetch_tls_fingerprint",
            side_effect=client.fetch_tls_fingerprint,
        ),
    ):
        yield client


@pytest.fixture
def call_on_hold(mock_client: FakeHoldSlayerClient) -> FakeHoldSlayerClient:
    """Make the sidecar's snapshot hold one call waiting on hold."""
    mock_client.snapshot = make_snapshot(make_call())
    return mock_client


@pytest.fixture
def platforms() -> list[str]:
    """Platforms to set up (override in a module to snapshot one platform)."""
    return ["binary_sensor", "event", "sensor"]


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    platforms: list[str],
) -> MockConfigEntry:
    """Set up the integration with the fake client and return its entry."""
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.hold_slayer.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def inbound(mock_client: FakeHoldSlayerClient) -> FakeInboundSidecar:
    """Give the fake sidecar the inbound half: two devices, one rule, one unheard voicemail."""
    return FakeInboundSidecar(mock_client)


@pytest.fixture
def inbound_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The entry with the two devices and the rule already shown as subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=mock_config_entry.title,
        data=dict(mock_config_entry.data),
        options=dict(mock_config_entry.options),
        unique_id=mock_config_entry.unique_id,
        entry_id=mock_config_entry.entry_id,
        minor_version=2,
        subentries_data=[COMPANY_ACME, COMPANY_TELCO, KITCHEN_SUBENTRY, DESK_SUBENTRY, RULE_SUBENTRY],
    )


@pytest.fixture
async def loaded(hass: HomeAssistant, inbound_entry: MockConfigEntry, inbound: FakeInboundSidecar) -> MockConfigEntry:
    """The entry set up, with every platform, against a sidecar with the inbound half."""
    return await setup_entry(hass, inbound_entry)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are off by default (core's fixture of the same name)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield

"""Snapshots of the sensor entities with a call on hold and two transcript lines."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from .common import FakeHoldSlayerClient


@pytest.fixture
def platforms() -> list[str]:
    """Only set up the sensor platform."""
    return ["sensor"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the engine health sensors are off by default
async def test_entities(
    hass: HomeAssistant,
    call_on_hold: FakeHoldSlayerClient,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    call_on_hold.emit(
        "transcript", {"call_id": "call-1", "speaker": "company", "text": "Please hold.", "offset_s": 31.0}
    )
    call_on_hold.emit(
        "transcript", {"call_id": "call-1", "speaker": "agent", "text": "Hi, this is Maria.", "offset_s": 95.2}
    )
    await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)

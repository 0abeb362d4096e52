"""The recorder database keeps the call's progress but not the number, the touch-tones or the transcript."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from syrupy.assertion import SnapshotAssertion

from .common import FakeHoldSlayerClient, make_call

SENSITIVE = ("transcript", "digits_sent", "target")


@pytest.fixture
def mock_recorder_before_hass(async_setup_recorder_instance: object) -> None:
    """Prepare the recorder's database before hass starts (HA core's pattern for recorder tests)."""


async def test_call_details_not_recorded(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    call_on_hold: FakeHoldSlayerClient,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """A real (in-memory SQLite) recorder stores the states without the sensitive attributes."""
    start = dt_util.utcnow()
    call_on_hold.emit("dtmf_sent", {"call_id": "call-1", "digits": "4111"})
    call_on_hold.emit("transcript", {"call_id": "call-1", "speaker": "user", "text": "My PIN is 4111"})
    call_on_hold.emit("call_state", dict(make_call(state="human", digits_sent="124111")))
    call_on_hold.emit("human_detected", {"call_id": "call-1"})
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    live = hass.states.get("sensor.hold_slayer_call_state")
    assert live is not None
    assert live.attributes["digits_sent"] == "124111"  # the live state still has them for cards
    assert live.attributes["transcript"]

    entity_ids = ["sensor.hold_slayer_call_state", "event.hold_slayer_call_events"]
    history = await recorder_mock.async_add_executor_job(
        get_significant_states, hass, start, None, entity_ids, None, True, False
    )
    recorded: dict[str, list[dict[str, Any]]] = {
        entity_id: [dict(state.attributes) for state in states]  # type: ignore[union-attr]
        for entity_id, states in sorted(history.items())
    }
    for states in recorded.values():
        assert states
        for attributes in states:
            assert not set(SENSITIVE) & set(attributes)
    assert {entity_id: states[-1] for entity_id, states in recorded.items()} == snapshot

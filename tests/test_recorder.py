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


async def test_inbound_callers_and_messages_not_recorded(
    recorder_mock: Recorder, hass: HomeAssistant, inbound_entry: MockConfigEntry, inbound: Any
) -> None:
    """Who called, what the receptionist heard and what a voicemail says stay on the live state only."""
    from unittest.mock import patch

    from .inbound_common import make_inbound_call, make_voicemail

    inbound_entry.add_to_hass(hass)
    with patch("custom_components.hold_slayer.PLATFORMS", ["sensor"]):
        assert await hass.config_entries.async_setup(inbound_entry.entry_id)
        await hass.async_block_till_done()
    start = dt_util.utcnow()
    inbound.client.emit("incoming_call", make_inbound_call())
    inbound.client.emit("voicemail", make_voicemail("vm-2", transcript="My account number is 4111"))
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    entity_ids = [
        "sensor.hold_slayer_incoming_call",
        "sensor.hold_slayer_last_caller",
        "sensor.hold_slayer_unheard_voicemails",
        "sensor.kitchen_phone_last_call",
    ]
    live = hass.states.get("sensor.hold_slayer_unheard_voicemails")
    assert live is not None and live.attributes["voicemails"][0]["transcript"] == "My account number is 4111"
    history = await recorder_mock.async_add_executor_job(
        get_significant_states, hass, start, None, entity_ids, None, True, False
    )
    # Attributes only: the last caller's name is that sensor's state, kept in history like a phone's call log.
    recorded = repr({entity_id: [dict(s.attributes) for s in states] for entity_id, states in history.items()})  # type: ignore[union-attr]
    assert "sensor.hold_slayer_incoming_call" in recorded and "sensor.hold_slayer_unheard_voicemails" in recorded
    for personal in ("4111", "+15550100300", "dentist", "Molar", "+15550100999"):
        assert personal not in recorded, personal

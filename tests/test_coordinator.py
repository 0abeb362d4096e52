"""The push coordinator: events change state and reach the bus; disconnects and reconnects."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events, async_fire_time_changed

from custom_components.hold_slayer.client import HoldSlayerAuthenticationError, HoldSlayerVersionError
from custom_components.hold_slayer.const import DOMAIN

from .common import FakeHoldSlayerClient, make_call, make_snapshot

CALL_STATE = "sensor.hold_slayer_call_state"
HUMAN = "binary_sensor.hold_slayer_human_on_line"
CONNECTED = "binary_sensor.hold_slayer_connected"
EVENTS = "event.hold_slayer_call_events"
HOLD_TIME = "sensor.hold_slayer_hold_time"
COMPANY = "sensor.hold_slayer_company"


async def test_idle_without_calls(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert hass.states.get(CALL_STATE).state == "idle"
    assert hass.states.get(CALL_STATE).attributes["companies"] == ["Acme Bank", "Telco"]
    assert hass.states.get(COMPANY).state == "unknown"
    assert hass.states.get(HUMAN).state == STATE_OFF
    assert hass.states.get(CONNECTED).state == STATE_ON


async def test_call_progress_updates_entities_and_fires_events(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    human_events = async_capture_events(hass, "hold_slayer_human_detected")
    state_events = async_capture_events(hass, "hold_slayer_call_state")
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, init_integration.entry_id)})
    assert device is not None

    mock_client.emit("call_state", dict(make_call(state="dialing", hold_seconds=0.0, hold_started_at=None)))
    await hass.async_block_till_done()
    assert hass.states.get(CALL_STATE).state == "dialing"
    assert hass.states.get(COMPANY).state == "Acme Bank"
    assert hass.states.get(EVENTS).attributes["event_type"] == "dialing"

    mock_client.emit("hold_started", {"call_id": "call-1", "hold_started_at": "2026-11-21T10:01:30+00:00"})
    mock_client.emit("call_state", dict(make_call(state="hold", hold_seconds=0.0)))
    mock_client.emit(
        "transcript",
        {"call_id": "call-1", "speaker": "company", "text": "Your call is important to us", "offset_s": 12.5},
    )
    await hass.async_block_till_done()
    assert hass.states.get(CALL_STATE).state == "hold"
    assert hass.states.get(EVENTS).attributes["event_type"] == "hold_started"
    assert hass.states.get(CALL_STATE).attributes["transcript"] == [
        {"speaker": "company", "text": "Your call is important to us", "offset_s": 12.5}
    ]

    mock_client.emit(
        "human_detected",
        {"call_id": "call-1", "human_detected_at": "2026-11-21T10:20:00+00:00", "hold_seconds": 1110.0},
    )
    await hass.async_block_till_done()
    assert hass.states.get(HUMAN).state == STATE_OFF  # state still "hold" until the call_state event
    assert float(hass.states.get(HOLD_TIME).state) == 1110.0
    mock_client.emit("call_state", dict(make_call(state="human", hold_seconds=1110.0)))
    await hass.async_block_till_done()
    assert hass.states.get(HUMAN).state == STATE_ON
    assert hass.states.get(EVENTS).attributes["event_type"] == "human_detected"

    assert len(human_events) == 1
    assert human_events[0].data == {
        "call_id": "call-1",
        "company": "Acme Bank",
        "target": "+18005550100",
        "human_detected_at": "2026-11-21T10:20:00+00:00",
        "hold_seconds": 1110.0,
        "config_entry_id": init_integration.entry_id,
        "device_id": device.id,
    }
    assert [event.data["state"] for event in state_events] == ["dialing", "hold", "human"]


async def test_transcript_keeps_last_ten_lines(
    hass: HomeAssistant, call_on_hold: FakeHoldSlayerClient, init_integration: MockConfigEntry
) -> None:
    for line in range(15):
        call_on_hold.emit("transcript", {"call_id": "call-1", "speaker": "company", "text": f"line {line}"})
    await hass.async_block_till_done()
    transcript = hass.states.get(CALL_STATE).attributes["transcript"]
    assert [entry["text"] for entry in transcript] == [f"line {n}" for n in range(5, 15)]


async def test_failed_call_fires_call_failed(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    failed = async_capture_events(hass, "hold_slayer_call_failed")
    ended = async_capture_events(hass, "hold_slayer_call_ended")
    mock_client.emit("call_state", dict(make_call(state="dialing")))
    mock_client.emit("call_ended", {"call_id": "call-1", "outcome": "failed", "reason": "503 Service Unavailable"})
    await hass.async_block_till_done()
    assert hass.states.get(CALL_STATE).state == "failed"
    assert hass.states.get(CALL_STATE).attributes["outcome"] == "failed"
    assert hass.states.get(EVENTS).attributes["event_type"] == "call_failed"
    assert len(ended) == 1
    assert len(failed) == 1
    assert failed[0].data["reason"] == "503 Service Unavailable"


async def test_newest_active_call_is_current(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.emit("call_state", dict(make_call("old", state="hold", started_at="2026-11-21T09:00:00+00:00")))
    mock_client.emit(
        "call_state",
        dict(make_call("done", state="ended", outcome="connected", started_at="2026-11-21T11:00:00+00:00")),
    )
    await hass.async_block_till_done()
    assert hass.states.get(CALL_STATE).attributes["call_id"] == "old"
    mock_client.emit("call_ended", {"call_id": "old", "outcome": "no_human"})
    await hass.async_block_till_done()
    assert hass.states.get(CALL_STATE).attributes["call_id"] == "done"


async def test_disconnect_makes_entities_unavailable_and_reconnect_resyncs(
    hass: HomeAssistant, call_on_hold: FakeHoldSlayerClient, init_integration: MockConfigEntry
) -> None:
    assert hass.states.get(CALL_STATE).state == "hold"
    call_on_hold.drop()
    await hass.async_block_till_done()
    assert hass.states.get(CALL_STATE).state == STATE_UNAVAILABLE
    assert hass.states.get(HUMAN).state == STATE_UNAVAILABLE
    assert hass.states.get(CONNECTED).state == STATE_OFF  # always available, reports the outage

    # While we were away a person answered and the user was bridged.
    call_on_hold.snapshot = make_snapshot(make_call(state="bridged", human_detected_at="2026-11-21T10:20:00+00:00"))
    call_on_hold.restore()
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTED).state == STATE_ON
    assert hass.states.get(CALL_STATE).state == "bridged"
    assert hass.states.get(HUMAN).state == STATE_ON


async def test_unreachable_for_five_minutes_raises_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    issue_id = f"sidecar_unreachable_{init_integration.entry_id}"
    mock_client.drop()
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=4))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "sidecar_unreachable"

    mock_client.restore()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_short_outage_raises_no_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    mock_client.drop()
    await hass.async_block_till_done()
    mock_client.restore()
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not issue_registry.issues


async def test_version_mismatch_on_reconnect_raises_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = f"incompatible_version_{init_integration.entry_id}"
    mock_client.drop()
    mock_client.drop(HoldSlayerVersionError("protocol 2", 2))
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    mock_client.restore()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_token_refused_on_reconnect_starts_reauth(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.drop(HoldSlayerAuthenticationError("token changed"))
    mock_client.drop(HoldSlayerAuthenticationError("token changed"))
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


@pytest.mark.usefixtures("init_integration")
async def test_event_without_call_id_only_reaches_the_bus(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient
) -> None:
    saved = async_capture_events(hass, "hold_slayer_call_flow_saved")
    mock_client.emit("call_flow_saved", {"id": "acme-bank"})
    await hass.async_block_till_done()
    assert len(saved) == 1
    assert saved[0].data["id"] == "acme-bank"
    assert hass.states.get(CALL_STATE).state == "idle"


async def test_event_gap_triggers_resync(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.emit("transcript", {"call_id": "call-1", "text": "hello"}, seq=10)
    await hass.async_block_till_done()
    mock_client.get_snapshot.assert_not_awaited()
    mock_client.snapshot = make_snapshot(make_call(state="human"))
    mock_client.emit("transcript", {"call_id": "call-1", "text": "hello?"}, seq=13)  # 11 and 12 were lost
    await hass.async_block_till_done()
    mock_client.get_snapshot.assert_awaited_once()
    assert hass.states.get(CALL_STATE).state == "human"


async def test_upgraded_sidecar_updates_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.drop()
    mock_client.sidecar_version = "0.2.0"
    mock_client.restore()
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, init_integration.entry_id)})
    assert device is not None
    assert device.sw_version == "0.2.0"


async def test_refresh_while_disconnected_leaves_reconnecting_to_listener(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.drop()
    await hass.async_block_till_done()
    connects = mock_client.connect_count
    await init_integration.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert mock_client.connect_count == connects
    assert hass.states.get(CALL_STATE).state == STATE_UNAVAILABLE


async def test_loss_and_return_logged_once_each_at_info(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HA's log-when-unavailable rule: one info line when the sidecar goes away, one when it is back."""
    caplog.set_level("DEBUG", logger="custom_components.hold_slayer")
    mock_client.drop()
    for _ in range(3):  # failed reconnect attempts while it stays away
        mock_client.drop()
    await hass.async_block_till_done()
    mock_client.restore()
    await hass.async_block_till_done()

    ours = [r for r in caplog.records if r.name == "custom_components.hold_slayer" and r.levelno >= logging.INFO]
    assert [(r.levelname, r.getMessage()) for r in ours] == [
        ("INFO", "Lost connection to the Hold Slayer sidecar at ws://127.0.0.1:8765/api/ws: connection lost"),
        ("INFO", "Connection to the Hold Slayer sidecar at ws://127.0.0.1:8765/api/ws is back"),
    ]


async def test_a_late_call_summary_never_revives_a_call(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, init_integration: MockConfigEntry
) -> None:
    events = async_capture_events(hass, "hold_slayer_call_summary")
    coordinator = init_integration.runtime_data
    before = dict(coordinator.state.calls)
    mock_client.emit(
        "call_summary", {"call_id": "long-gone", "company": "Acme Bank", "reference": "48219", "commitments": []}
    )
    await hass.async_block_till_done()
    assert coordinator.state.calls.keys() == before.keys()
    assert events[0].data["reference"] == "48219" and events[0].data["call_id"] == "long-gone"

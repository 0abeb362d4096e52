"""Contract: the whole integration (real client, coordinator, entities, actions) against the REAL sidecar."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, MATCH_ALL, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.hold_slayer.const import CONF_TRANSFER_TO, DOMAIN

from .conftest import RunningSidecar, start_sidecar, stop

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]
# Nothing answers on the discard port, so the call stays in "dialing" until we hang up.
SILENT_TARGET = "sip:nobody@127.0.0.1:9"


async def _wait_for(hass: HomeAssistant, predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate`` holds, re-checking whenever anything happens on the bus."""
    changed = asyncio.Event()

    @callback
    def on_event(_event: Event) -> None:
        changed.set()

    unsubscribe = hass.bus.async_listen(MATCH_ALL, on_event)
    try:
        async with asyncio.timeout(30):
            while not predicate():
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()


async def test_integration_drives_real_sidecar(hass: HomeAssistant, real_sidecar: RunningSidecar) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: real_sidecar.host, CONF_PORT: real_sidecar.port, CONF_TOKEN: real_sidecar.token},
        options={CONF_TRANSFER_TO: "sip:me@127.0.0.1:9"},
        unique_id=f"{real_sidecar.host}:{real_sidecar.port}",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.hold_slayer_connected").state == STATE_ON
    assert hass.states.get("sensor.hold_slayer_call_state").state == "idle"

    bus = async_capture_events(hass, "hold_slayer_call_ended")

    response = await hass.services.async_call(
        DOMAIN, "place_call", {"number": SILENT_TARGET, "reason": "contract"}, blocking=True, return_response=True
    )
    assert response is not None
    call_id = response["call_id"]
    await _wait_for(hass, lambda: hass.states.get("sensor.hold_slayer_call_state").state == "dialing")
    state = hass.states.get("sensor.hold_slayer_call_state")
    assert state.attributes["call_id"] == call_id
    assert state.attributes["intent"] == "contract"
    assert hass.states.get("event.hold_slayer_call_events").attributes["event_type"] == "dialing"

    await hass.services.async_call(DOMAIN, "hang_up", {}, blocking=True)
    await _wait_for(hass, lambda: bool(bus))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.hold_slayer_call_state").state == "ended"
    assert hass.states.get("sensor.hold_slayer_call_state").attributes["outcome"] == "cancelled"
    ended = bus[0]
    assert ended.data["call_id"] == call_id
    assert ended.data["config_entry_id"] == entry.entry_id
    assert ended.data["device_id"]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _free_fixed_port() -> int:
    """Pick a free port BELOW the ephemeral range, so no outgoing connection (or a client's
    self-connect to a dead local port, which Linux allows) can take it while the sidecar is down."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


async def test_sidecar_crash_and_restart(hass: HomeAssistant, tmp_path: Path) -> None:
    """Kill the sidecar: entities go unavailable; start it again on the same port: HA reconnects and resyncs."""
    port = _free_fixed_port()
    process, sidecar = start_sidecar(tmp_path / "first", "--port", str(port))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: sidecar.host, CONF_PORT: port, CONF_TOKEN: sidecar.token},
        unique_id=f"{sidecar.host}:{port}",
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert hass.states.get("binary_sensor.hold_slayer_connected").state == STATE_ON

        process.kill()
        process.wait(timeout=10)
        await _wait_for(hass, lambda: hass.states.get("binary_sensor.hold_slayer_connected").state == STATE_OFF)
        assert hass.states.get("sensor.hold_slayer_call_state").state == STATE_UNAVAILABLE

        process, _ = start_sidecar(tmp_path / "second", "--port", str(port))
        await _wait_for(hass, lambda: hass.states.get("binary_sensor.hold_slayer_connected").state == STATE_ON)
        assert hass.states.get("sensor.hold_slayer_call_state").state == "idle"
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        stop(process)

"""End to end: Home Assistant's integration, the real sidecar, a simulated company and a simulated phone.

Everything is real except the company and the user's phone, which are the simulators on loopback SIP.
The user asks for "my bank"; HA must see dialing -> ivr -> hold -> human -> bridged and the
hold_slayer_human_detected bus event.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_TOKEN, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.hold_slayer.const import (
    CONF_ALIASES,
    CONF_CALL_FLOW,
    CONF_NUMBER,
    CONF_REASON,
    CONF_TRANSFER_TO,
    DOMAIN,
    SUBENTRY_COMPANY,
)

from .conftest import REPO, RunningSidecar, start_sidecar, start_sim, stop

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]
COMPANY_FILE = REPO / "sidecar" / "hold_slayer_sim" / "companies" / "first_city_bank.yaml"
DEPARTMENT = "fraud"  # the shortest queue of the bank: about 15 s of hold music before the agent
CALL_STATE = "sensor.hold_slayer_call_state"
CALL_TIMEOUT_S = 180


def _intent() -> tuple[str, dict[str, Any]]:
    company = yaml.safe_load(COMPANY_FILE.read_text(encoding="utf-8"))
    intent = next(item for item in company["test_intents"] if item["department"] == DEPARTMENT)
    return company["id"], intent


def _flow(company_id: str, intent: dict[str, Any], number: str) -> dict[str, Any]:
    """A stored call flow that presses the intent's keys and then holds (the sidecar's CallFlow format)."""
    steps: list[dict[str, Any]] = []
    for key in str(intent["path"]).split():
        steps += [{"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": key}]
    steps.append({"kind": "hold"})
    return {
        "id": f"{company_id}-{DEPARTMENT}",
        "name": f"First City Bank: {DEPARTMENT}",
        "company": company_id,
        "number": number,
        "intent": intent["intent"],
        "department": DEPARTMENT,
        "steps": steps,
    }


@pytest.fixture
def world(tmp_path: Path) -> Generator[tuple[RunningSidecar, str, str]]:
    """Start company, phone and sidecar; yield (sidecar, company URI, phone URI)."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        company, company_ready = start_sim(
            tmp_path, "hold_slayer_sim.company", "--company", str(COMPANY_FILE), "--report", str(tmp_path / "co.jsonl")
        )
        processes.append(company)
        phone, phone_ready = start_sim(tmp_path, "hold_slayer_sim.phone", "--report", str(tmp_path / "phone.jsonl"))
        processes.append(phone)
        sidecar_process, sidecar = start_sidecar(tmp_path)
        processes.append(sidecar_process)
        company_id, _ = _intent()
        companies: dict[str, str] = company_ready["companies"]  # type: ignore[assignment]
        yield sidecar, companies[company_id], str(phone_ready.get("uri") or f"sip:user@127.0.0.1:{phone_ready['port']}")
    finally:
        for process in reversed(processes):
            stop(process)


def _entry(sidecar: RunningSidecar, company_uri: str, phone_uri: str, flow: dict[str, Any]) -> MockConfigEntry:
    """The integration's config entry for the sidecar, with the bank as a company."""
    _, intent = _intent()
    return MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: sidecar.host, CONF_PORT: sidecar.port, CONF_TOKEN: sidecar.token},
        options={CONF_TRANSFER_TO: phone_uri},
        unique_id=f"{sidecar.host}:{sidecar.port}",
        subentries_data=[
            ConfigSubentryData(
                data={
                    CONF_NAME: "First City Bank",
                    CONF_NUMBER: company_uri,
                    CONF_ALIASES: ["bank"],
                    CONF_REASON: intent["intent"],
                    CONF_CALL_FLOW: flow["id"],
                },
                subentry_type=SUBENTRY_COMPANY,
                title="First City Bank",
                unique_id="first city bank",
            )
        ],
    )


async def test_my_bank_to_bridged(hass: HomeAssistant, world: tuple[RunningSidecar, str, str]) -> None:
    sidecar, company_uri, phone_uri = world
    company_id, intent = _intent()
    flow = _flow(company_id, intent, company_uri)
    entry = _entry(sidecar, company_uri, phone_uri, flow)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    states: list[str] = []
    human_events = async_capture_events(hass, "hold_slayer_human_detected")
    bridged = asyncio.Event()

    @callback
    def on_state(event: Event) -> None:
        if event.data["entity_id"] == CALL_STATE and event.data["new_state"] is not None:
            value = event.data["new_state"].state
            if not states or states[-1] != value:
                states.append(value)
            if value in {"bridged", "ended", "failed"}:
                bridged.set()

    hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)

    await hass.services.async_call(DOMAIN, "save_call_flow", {"flow": flow}, blocking=True)
    response = await hass.services.async_call(
        DOMAIN, "place_call", {"company": "my bank"}, blocking=True, return_response=True
    )
    assert response is not None
    async with asyncio.timeout(CALL_TIMEOUT_S):
        await bridged.wait()
    await hass.async_block_till_done()

    final = hass.states.get(CALL_STATE)
    assert final.state == "bridged", (states, final.attributes)
    it = iter(states)
    assert all(step in it for step in ["dialing", "ivr", "hold", "human", "bridged"]), states
    assert final.attributes["company"] == "First City Bank"
    assert final.attributes["digits_sent"] == str(intent["path"]).replace(" ", "")
    assert hass.states.get("binary_sensor.hold_slayer_human_on_line").state == "on"
    assert float(hass.states.get("sensor.hold_slayer_hold_time").state) > 5
    assert len(human_events) == 1
    assert human_events[0].data["call_id"] == response["call_id"]
    assert human_events[0].data["company"] == "First City Bank"

    await hass.services.async_call(DOMAIN, "hang_up", {}, blocking=True)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _media_workers(sidecar_pid: int) -> list[int]:
    """The sidecar's child processes (its PJSUA2 media workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == sidecar_pid:
            found.append(int(stat.parent.name))
    return found


async def test_a_crashed_media_worker_fails_the_call_with_its_reason_in_home_assistant(
    hass: HomeAssistant, world: tuple[RunningSidecar, str, str]
) -> None:
    """kill -9 of the PJSUA2 process carrying a call on hold: HA says why the call failed; the next call works."""
    sidecar, company_uri, phone_uri = world
    company_id, intent = _intent()
    flow = _flow(company_id, intent, company_uri)
    entry = _entry(sidecar, company_uri, phone_uri, flow)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    failed = async_capture_events(hass, "hold_slayer_call_failed")
    reached: dict[str, asyncio.Event] = {name: asyncio.Event() for name in ("ivr", "hold", "call_failed")}
    hass.bus.async_listen("hold_slayer_call_failed", callback(lambda _event: reached["call_failed"].set()))

    @callback
    def on_state(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == CALL_STATE and new is not None and new.state in reached:
            reached[new.state].set()

    hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
    await hass.services.async_call(DOMAIN, "save_call_flow", {"flow": flow}, blocking=True)
    await hass.services.async_call(DOMAIN, "place_call", {"company": "my bank"}, blocking=True, return_response=True)
    async with asyncio.timeout(CALL_TIMEOUT_S):
        await reached["hold"].wait()
    workers = _media_workers(sidecar.pid)
    assert len(workers) >= 2  # two workers (and a spare interpreter, once it has started)
    for pid in workers:  # the call's worker among them (which one is the sidecar's business)
        os.kill(pid, signal.SIGKILL)
    async with asyncio.timeout(30):
        await reached["call_failed"].wait()
    await hass.async_block_till_done()

    assert len(failed) == 1
    reason = failed[0].data["reason"]
    assert re.fullmatch(r"media worker [01] crashed \(killed by signal 9, SIGKILL\); restarted", reason), reason
    assert hass.states.get(CALL_STATE).state == "failed"

    reached["ivr"].clear()  # the sidecar itself lived on: a new call reaches the bank's menu again
    await hass.services.async_call(DOMAIN, "place_call", {"company": "my bank"}, blocking=True, return_response=True)
    async with asyncio.timeout(CALL_TIMEOUT_S):
        await reached["ivr"].wait()
    await hass.services.async_call(DOMAIN, "hang_up", {}, blocking=True)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

"""After the call, end to end: HA, the real sidecar, a simulated telecom whose agent promises something, a phone.

The agent gives a ticket number, a technician visit on Tuesday and a credit. Home Assistant must get the
``hold_slayer_call_summary`` event, the promises on the chosen to-do list with due dates, the call in
``get_history``/``get_call`` (with the agent's words), a forecast that says it has too little data, the
company's statistics sensors, and the recordings through the media source and its authenticated view.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import media_source
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_TOKEN
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.hold_slayer.const import (
    CONF_AI_TASK_ENTITY,
    CONF_ALIASES,
    CONF_CALL_FLOW,
    CONF_NUMBER,
    CONF_REASON,
    CONF_TODO_ENTITY,
    CONF_TRANSFER_TO,
    DOMAIN,
    SUBENTRY_COMPANY,
)

from ..ai_task_stub import ENTITY_ID, setup_stub_ai_task
from .conftest import REPO, RunningSidecar, start_sidecar, start_sim, stop

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]
COMPANY_FILE = REPO / "sidecar" / "tests" / "fixtures" / "companies" / "northwind_telecom.yaml"
CALL_TIMEOUT_S = 180
TODO = "todo.promises"


@pytest.fixture
def world(tmp_path: Path) -> Generator[tuple[RunningSidecar, str, str]]:
    """Start the telecom, the phone and the sidecar; yield (sidecar, company URI, phone URI)."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        company, company_ready = start_sim(tmp_path, "hold_slayer_sim.company", "--company", str(COMPANY_FILE))
        processes.append(company)
        phone, phone_ready = start_sim(tmp_path, "hold_slayer_sim.phone")
        processes.append(phone)
        sidecar_process, sidecar = start_sidecar(tmp_path)
        processes.append(sidecar_process)
        companies: dict[str, str] = company_ready["companies"]  # type: ignore[assignment]
        phone_uri = str(phone_ready.get("uri") or f"sip:user@127.0.0.1:{phone_ready['port']}")
        yield sidecar, companies["northwind_telecom"], phone_uri
    finally:
        for process in reversed(processes):
            stop(process)


def _flow(number: str) -> dict[str, Any]:
    steps = [{"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": "2"}, {"kind": "hold"}]
    return {
        "id": "northwind-outage",
        "name": "Outage",
        "company": "Northwind Telecom",
        "number": number,
        "steps": steps,
    }


async def _setup(
    hass: HomeAssistant,
    sidecar: RunningSidecar,
    company_uri: str,
    phone_uri: str,
    extra_options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    (Path(hass.config.config_dir) / ".storage").mkdir(parents=True, exist_ok=True)  # local_todo's .ics file
    todo_entry = MockConfigEntry(domain="local_todo", data={"todo_list_name": "Promises", "storage_key": "promises"})
    todo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(todo_entry.entry_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: sidecar.host, CONF_PORT: sidecar.port, CONF_TOKEN: sidecar.token},
        options={CONF_TRANSFER_TO: phone_uri, CONF_TODO_ENTITY: TODO, **(extra_options or {})},
        unique_id=f"{sidecar.host}:{sidecar.port}",
        subentries_data=[
            ConfigSubentryData(
                data={
                    CONF_NAME: "Northwind Telecom",
                    CONF_NUMBER: company_uri,
                    CONF_ALIASES: ["internet"],
                    CONF_REASON: "My internet line is down",
                    CONF_CALL_FLOW: "northwind-outage",
                },
                subentry_type=SUBENTRY_COMPANY,
                title="Northwind Telecom",
                unique_id="northwind telecom",
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _call_until_summarised(hass: HomeAssistant, company_uri: str) -> tuple[str, list[Event]]:
    """Place the outage call through HA; return its id and the summary events once the first has come."""
    summaries = async_capture_events(hass, "hold_slayer_call_summary")
    summarised = asyncio.Event()
    hass.bus.async_listen_once("hold_slayer_call_summary", lambda _event: summarised.set())
    await hass.services.async_call(DOMAIN, "save_call_flow", {"flow": _flow(company_uri)}, blocking=True)
    placed = await hass.services.async_call(
        DOMAIN, "place_call", {"company": "internet"}, blocking=True, return_response=True
    )
    assert placed is not None
    async with asyncio.timeout(CALL_TIMEOUT_S):
        await summarised.wait()
    await hass.async_block_till_done()
    return str(placed["call_id"]), summaries


async def test_a_promising_call_reaches_history_todo_sensors_and_media(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    world: tuple[RunningSidecar, str, str],
    tmp_path: Path,
) -> None:
    sidecar, company_uri, phone_uri = world
    hass.config.config_dir = str(tmp_path / "config")  # local_todo writes its list here, not in the package
    assert await async_setup_component(hass, "media_source", {})
    entry = await _setup(hass, sidecar, company_uri, phone_uri)
    call_id, summaries = await _call_until_summarised(hass, company_uri)

    # The summary event: what the agent said that matters.
    summary = summaries[0].data
    assert summary["call_id"] == call_id and summary["company"] == "Northwind Telecom"
    # The recogniser may mishear a word ("Danette" for "Dana"): what is checked is that what was extracted reaches
    # every place, not what the recogniser heard. The agent says a name, a ticket number and a dated visit; a
    # single misheard word loses at most one of them.
    ref = summary["reference"]
    dated = [c for c in summary["commitments"] if c["due"] is not None]
    assert sum([summary["agent_name"] is not None, ref is not None, bool(dated)]) >= 2, summary

    # The promises on the to-do list, with due dates where one was said.
    async with asyncio.timeout(10):
        while True:
            items = await hass.services.async_call(
                "todo", "get_items", {"entity_id": TODO}, blocking=True, return_response=True
            )
            listed: list[dict[str, Any]] = items[TODO]["items"]  # type: ignore[index,assignment]
            if len(listed) >= len(summary["commitments"]):
                break
            await asyncio.sleep(0.2)
    assert all(item["summary"].startswith("Northwind Telecom: ") for item in listed), listed
    for promise in dated:
        expected = f"Northwind Telecom: {promise['text']}"[:255]
        item = next(item for item in listed if item["summary"] == expected and item.get("due") == promise["due"])
        if ref is not None:
            assert f"reference {ref}" in item["description"]

    # History and one call with its transcript.
    history = await hass.services.async_call(
        DOMAIN, "get_history", {"company": "internet"}, blocking=True, return_response=True
    )
    assert history is not None
    (row,) = history["calls"]
    assert row["call_id"] == call_id and row["outcome"] == "connected" and row["reference"] == ref
    detail = await hass.services.async_call(
        DOMAIN, "get_call", {"call_id": call_id}, blocking=True, return_response=True
    )
    assert detail is not None
    speakers = {line["speaker"] for line in detail["transcript"]}
    assert {"company", "agent", "you"} <= speakers, detail["transcript"]
    assert detail["summary"]["agent_name"] == summary["agent_name"]

    # One call is not enough to forecast: said plainly.
    forecast = await hass.services.async_call(
        DOMAIN, "get_forecast", {"company": "internet"}, blocking=True, return_response=True
    )
    assert forecast is not None and forecast["enough_data"] is False
    assert forecast["text"].startswith("not enough data yet for Northwind Telecom (1 calls")

    # The company's statistics sensors (refreshed when the call ended).
    statistics = entry.runtime_data.statistics
    assert statistics is not None
    await statistics.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.northwind_telecom_success_rate").state == "100.0"
    last = hass.states.get("sensor.northwind_telecom_last_hold")
    assert float(last.state) > 0.1 and last.attributes["state_class"] == "measurement"
    assert hass.states.get("sensor.northwind_telecom_expected_hold").state == "unknown"  # not enough data

    # The media source: by date -> the day -> the call -> its recordings; played through the view.
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    by_date = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    day = await media_source.async_browse_media(hass, by_date.children[0].media_content_id)
    call = await media_source.async_browse_media(hass, day.children[0].media_content_id)
    assert "Northwind Telecom" in call.title and (ref is None or f"ref {ref}" in call.title)
    titles = {child.title: child for child in call.children}
    assert {"Both sides", "Company", "You"} <= set(titles)
    by_company = await media_source.async_browse_media(hass, root.children[1].media_content_id)
    assert [child.title for child in by_company.children] == ["Northwind Telecom"]
    played = await media_source.async_resolve_media(hass, titles["Both sides"].media_content_id, None)
    assert played.mime_type == "audio/wav"
    client = await hass_client()
    whole = await client.get(played.url)
    assert whole.status == 200
    body = await whole.read()
    assert body[:4] == b"RIFF" and len(body) > 8000  # seconds of a bridged conversation
    part = await client.get(played.url, headers={"Range": "bytes=0-99"})
    assert part.status == 206 and len(await part.read()) == 100
    anonymous = await (await hass_client_no_auth()).get(played.url.split("?")[0])
    assert anonymous.status == 401

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_the_ai_task_entity_writes_the_summary_and_an_invented_reference_is_dropped(
    hass: HomeAssistant, world: tuple[RunningSidecar, str, str], tmp_path: Path
) -> None:
    sidecar, company_uri, phone_uri = world
    hass.config.config_dir = str(tmp_path / "config")

    def model(task: Any) -> dict[str, Any]:
        # A model that read the transcript (the agent's ticket is in the instructions) and also invents one.
        assert "48219" in task.instructions.replace(" ", "")
        return {
            "summary": "Dana opened ticket 48219 for the outage; a technician comes Tuesday.",
            "agent_name": "Dana",
            "references": ["48219", "77777"],
            "commitments": [{"text": "Technician visit for the outage", "due": "2030-01-01"}],
        }

    entity = await setup_stub_ai_task(hass, model)
    entry = await _setup(hass, sidecar, company_uri, phone_uri, {CONF_AI_TASK_ENTITY: ENTITY_ID})
    call_id, summaries = await _call_until_summarised(hass, company_uri)

    (event,) = summaries  # one summary event per call: the embedded one was replaced, not announced too
    assert len(entity.tasks) == 1
    assert event.data["method"] == "ai_task" and event.data["references"] == ["48219"], event.data
    detail = await hass.services.async_call(
        DOMAIN, "get_call", {"call_id": call_id}, blocking=True, return_response=True
    )
    assert detail is not None and detail["summary"]["method"] == "ai_task"
    async with asyncio.timeout(10):
        while True:
            items = await hass.services.async_call(
                "todo", "get_items", {"entity_id": TODO}, blocking=True, return_response=True
            )
            listed: list[dict[str, Any]] = items[TODO]["items"]  # type: ignore[index,assignment]
            if listed:
                break
            await asyncio.sleep(0.2)
    assert [item["summary"] for item in listed] == ["Northwind Telecom: Technician visit for the outage"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

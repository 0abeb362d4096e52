"""History actions, the company sensors' refresh, promises to the to-do list, and hostile inputs."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
from homeassistant.components.todo.const import TodoListEntityFeature
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.hold_slayer.client import HoldSlayerCommandError
from custom_components.hold_slayer.const import CONF_TODO_ENTITY, DOMAIN
from custom_components.hold_slayer.history import add_commitments, todo_items

from .common import FakeHoldSlayerClient

pytestmark = pytest.mark.usefixtures("init_integration")
SUMMARY: dict[str, Any] = {
    "call_id": "call-1",
    "company": "Acme Bank",
    "agent_name": "Dana",
    "reference": "48219",
    "commitments": [
        {"text": "A technician will visit on Tuesday.", "due": "2026-12-08"},
        {"text": "You'll get a credit.", "due": None},
        {"text": "   ", "due": None},
    ],
}


async def _ask(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=True)


async def test_get_history_resolves_aliases_and_passes_filters(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient
) -> None:
    result = await _ask(
        hass, "get_history", {"company": "my bank", "outcome": "connected", "since": "2026-11-01 00:00:00", "limit": 5}
    )
    assert result["calls"][0]["reference"] == "48219"
    args = mock_client.get_history.await_args
    assert args.args == (5,)
    assert args.kwargs["company"] == "Acme Bank" and args.kwargs["outcome"] == "connected"
    assert args.kwargs["since"].startswith("2026-11-01T")


@pytest.mark.parametrize(
    "data",
    [
        {"limit": 0},
        {"limit": 201},
        {"outcome": "exploded"},
        {"since": "not a date"},
        {"company": ""},
        {"cursor": "x" * 101},
    ],
)
async def test_get_history_refuses_bad_filters(hass: HomeAssistant, data: dict[str, Any]) -> None:
    with pytest.raises(vol.Invalid):
        await _ask(hass, "get_history", data)


async def test_get_call_adds_signed_recording_urls(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    result = await _ask(hass, "get_call", {"call_id": "call-1"})
    assert [line["speaker"] for line in result["transcript"]] == ["company", "agent"]
    mock_client.get_call.side_effect = HoldSlayerCommandError("not_found", "call_id: no call 'x'")
    with pytest.raises(ServiceValidationError):
        await _ask(hass, "get_call", {"call_id": "x"})


async def test_get_forecast_uses_the_company_title_and_home_time_zone(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient
) -> None:
    result = await _ask(hass, "get_forecast", {"company": "bank"})
    assert result["now"]["minutes"] == 25
    assert mock_client.get_forecast.await_args.args == ("Acme Bank", str(hass.config.time_zone))


async def test_company_sensors_follow_a_call_summary(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, freezer: Any
) -> None:
    assert hass.states.get("sensor.acme_bank_expected_hold").state == "25"
    assert hass.states.get("sensor.acme_bank_success_rate").state == "80.0"
    mock_client.get_statistics.return_value = {
        "time_zone": "UTC",
        "companies": [
            {"company": "Acme Bank", "calls": 6, "reached_person": 6, "success_rate": 1.0, "last_hold_s": 60.0}
        ],
    }
    mock_client.emit("call_summary", SUMMARY)
    freezer.tick(10)
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.acme_bank_success_rate").state == "100.0"
    assert hass.states.get("sensor.acme_bank_last_hold").state == "1.0"


def test_todo_items_carry_company_due_dates_and_context() -> None:
    items = todo_items(SUMMARY)
    assert items == [
        {
            "item": "Acme Bank: A technician will visit on Tuesday.",
            "description": "Promised by Dana at Acme Bank, reference 48219",
            "due_date": "2026-12-08",
        },
        {"item": "Acme Bank: You'll get a credit.", "description": "Promised by Dana at Acme Bank, reference 48219"},
    ]
    assert todo_items({"commitments": "nonsense"}) == []
    assert todo_items({"commitments": ["text", None, {"text": 5}]}) == [
        {"item": "the company: 5", "description": "Promised by the company"}
    ]
    assert len(todo_items({"commitments": [{"text": "x" * 1000}]})[0]["item"]) == 255


async def test_commitments_go_to_the_chosen_list_without_fields_it_cannot_hold(hass: HomeAssistant) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "todo", "add_item")
    hass.states.async_set("todo.plain", "0", {"supported_features": int(TodoListEntityFeature.CREATE_TODO_ITEM)})
    assert await add_commitments(hass, "todo.plain", SUMMARY) == 2
    assert calls[0].data == {"item": "Acme Bank: A technician will visit on Tuesday.", "entity_id": "todo.plain"}
    assert await add_commitments(hass, "todo.missing", SUMMARY) == 0


async def test_a_summary_event_fills_the_option_list(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    calls = async_mock_service(hass, "todo", "add_item")
    features = TodoListEntityFeature.CREATE_TODO_ITEM | TodoListEntityFeature.SET_DUE_DATE_ON_ITEM
    hass.states.async_set("todo.promises", "0", {"supported_features": int(features)})
    hass.config_entries.async_update_entry(
        mock_config_entry, options={**mock_config_entry.options, CONF_TODO_ENTITY: "todo.promises"}
    )
    await hass.async_block_till_done()
    mock_client.emit("call_summary", SUMMARY)
    await hass.async_block_till_done()
    assert [call.data.get("due_date") for call in calls] == ["2026-12-08", None]

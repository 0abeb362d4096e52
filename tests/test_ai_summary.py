"""Summaries by the user's AI Task entity: the reply goes to the sidecar; a failure keeps the embedded one."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.todo.const import TodoListEntityFeature
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events, async_mock_service

from custom_components.hold_slayer.ai_summary import transcript_text
from custom_components.hold_slayer.client import HoldSlayerCommandError
from custom_components.hold_slayer.const import CONF_AI_TASK_ENTITY, CONF_TODO_ENTITY
from custom_components.hold_slayer.protocol import Command, ErrorCode

from .ai_task_stub import ENTITY_ID, setup_stub_ai_task
from .common import FakeHoldSlayerClient

pytestmark = pytest.mark.usefixtures("init_integration")

EMBEDDED: dict[str, Any] = {
    "call_id": "call-1",
    "company": "Acme Bank",
    "method": "embedded",
    "reference": "48219",
    "commitments": [{"text": "Your ticket is 48219.", "due": None}],
}
REPLY: dict[str, Any] = {
    "summary": "Ticket 48219 opened.",
    "references": ["48219"],
    "commitments": [{"text": "A technician visits Tuesday", "due": "2026-12-08"}],
}


async def _configure(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    calls = async_mock_service(hass, "todo", "add_item")
    features = TodoListEntityFeature.CREATE_TODO_ITEM | TodoListEntityFeature.SET_DUE_DATE_ON_ITEM
    hass.states.async_set("todo.promises", "0", {"supported_features": int(features)})
    options = {**entry.options, CONF_TODO_ENTITY: "todo.promises", CONF_AI_TASK_ENTITY: ENTITY_ID}
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()
    return calls


async def test_the_entity_summarises_and_the_sidecar_keeps_its_reply(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    entity = await setup_stub_ai_task(hass, lambda task: REPLY)
    todos = await _configure(hass, mock_config_entry)
    events = async_capture_events(hass, "hold_slayer_call_summary")
    kept = {**REPLY, "method": "ai_task", "reference": "48219"}
    mock_client.request.return_value = {"summary": kept}

    mock_client.emit("call_summary", EMBEDDED)
    await hass.async_block_till_done()

    (task,) = entity.tasks
    assert "agent: Your ticket is 48219." in task.instructions and "Press 1" not in task.instructions
    assert task.structure is not None
    mock_client.request.assert_awaited_once_with(
        Command.SUBMIT_SUMMARY, {"call_id": "call-1", "reply": REPLY, "source": "ai_task"}
    )
    assert events == [] and todos == []  # held back: the sidecar's call_summary (method ai_task) brings them
    mock_client.emit("call_summary", {"call_id": "call-1", "company": "Acme Bank", **kept})
    await hass.async_block_till_done()
    assert [event.data["method"] for event in events] == ["ai_task"]
    assert [call.data["due_date"] for call in todos] == ["2026-12-08"]


@pytest.mark.parametrize(
    "model",
    [
        lambda task: "a plain string, not the structure",
        lambda task: (_ for _ in ()).throw(RuntimeError("model crashed")),
    ],
)
async def test_a_failing_entity_leaves_the_embedded_summary(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry, model: Any
) -> None:
    await setup_stub_ai_task(hass, model)
    todos = await _configure(hass, mock_config_entry)
    events = async_capture_events(hass, "hold_slayer_call_summary")
    mock_client.emit("call_summary", EMBEDDED)
    await hass.async_block_till_done()
    assert [event.data["method"] for event in events] == ["embedded"]  # once, the embedded one
    assert [call.data["item"] for call in todos] == ["Acme Bank: Your ticket is 48219."]
    mock_client.request.assert_not_awaited()


async def test_a_sidecar_that_refuses_the_reply_leaves_the_embedded_summary(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    await setup_stub_ai_task(hass, lambda task: REPLY)
    await _configure(hass, mock_config_entry)
    events = async_capture_events(hass, "hold_slayer_call_summary")
    mock_client.request.side_effect = HoldSlayerCommandError(ErrorCode.INVALID_DATA, "reply: not a usable summary")
    mock_client.emit("call_summary", EMBEDDED)
    await hass.async_block_till_done()
    assert [event.data["method"] for event in events] == ["embedded"]


async def test_an_llm_summary_from_the_sidecar_is_not_redone(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    entity = await setup_stub_ai_task(hass, lambda task: REPLY)
    await _configure(hass, mock_config_entry)
    events = async_capture_events(hass, "hold_slayer_call_summary")
    mock_client.emit("call_summary", {**EMBEDDED, "method": "llm"})
    await hass.async_block_till_done()
    assert entity.tasks == [] and len(events) == 1


def test_transcript_text_keeps_the_conversation_and_its_end() -> None:
    call = {
        "transcript": [
            {"speaker": "company", "text": "Press 1."},
            {"speaker": "agent", "text": "Hi."},
            "garbage",
            {"speaker": "you", "text": "x" * 20000},
            {"speaker": "agent", "text": "Ticket 5."},
        ]
    }
    text = transcript_text(call)
    assert text.endswith("agent: Ticket 5.") and len(text) == 12000 and "Press 1" not in text
    assert transcript_text({"transcript": "nonsense"}) == ""

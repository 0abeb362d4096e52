"""A real AI Task entity in the HA harness whose model is a Python function (no LLM runs in tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.ai_task import AITaskEntity, AITaskEntityFeature, GenDataTask, GenDataTaskResult
from homeassistant.components.ai_task.const import DATA_COMPONENT
from homeassistant.components.conversation import ChatLog
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

ENTITY_ID = "ai_task.stub_model"

type Model = Callable[[GenDataTask], Any]


class StubAITaskEntity(AITaskEntity):
    """Answers data tasks with ``model(task)``; records the tasks it was given."""

    _attr_supported_features = AITaskEntityFeature.GENERATE_DATA
    _attr_name = "Stub model"
    _attr_unique_id = "stub-model"

    def __init__(self, model: Model) -> None:
        self.model = model
        self.tasks: list[GenDataTask] = []

    async def _async_generate_data(self, task: GenDataTask, chat_log: ChatLog) -> GenDataTaskResult:
        self.tasks.append(task)
        return GenDataTaskResult(conversation_id=chat_log.conversation_id, data=self.model(task))


async def setup_stub_ai_task(hass: HomeAssistant, model: Model) -> StubAITaskEntity:
    """Set up the ai_task component with one stub entity, added to the component as an integration would."""
    entity = StubAITaskEntity(model)
    assert await async_setup_component(hass, "homeassistant", {})  # conversation needs exposed_entities
    assert await async_setup_component(hass, "ai_task", {})
    await hass.data[DATA_COMPONENT].async_add_entities([entity])
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY_ID) is not None, "stub AI Task entity not registered"
    return entity

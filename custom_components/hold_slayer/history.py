"""After the call: per-company hold statistics (polled and refreshed when a call ends) and promises as to-dos."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from homeassistant.components.todo.const import DOMAIN as TODO_DOMAIN
from homeassistant.components.todo.const import TodoListEntityFeature
from homeassistant.const import ATTR_ENTITY_ID, ATTR_SUPPORTED_FEATURES
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .ai_summary import AiSummaryError, awaits_ai_task, summarize_with_ai_task
from .client import HoldSlayerClient, HoldSlayerError, SidecarEvent
from .const import CONF_AI_TASK_ENTITY, CONF_TODO_ENTITY, DOMAIN, LOGGER, SUBENTRY_COMPANY
from .coordinator import HoldSlayerConfigEntry
from .protocol import EventType

# Queues change by the hour (staffing follows the clock): poll so "expected hold now" follows the hour.
STATISTICS_INTERVAL: Final = timedelta(minutes=15)
REFRESH_COOLDOWN_S: Final = 5.0  # several calls ending together cause one refresh


class CompanyFigures(dict[str, Any]):
    """Statistics of one company (``get_statistics`` entry) with its ``forecast`` under the same keys."""


class HoldStatisticsCoordinator(DataUpdateCoordinator[dict[str, CompanyFigures]]):
    """Statistics and forecasts of every configured company, keyed by the company's casefolded name."""

    config_entry: HoldSlayerConfigEntry

    def __init__(self, hass: HomeAssistant, entry: HoldSlayerConfigEntry, client: HoldSlayerClient) -> None:
        """Poll the sidecar; refreshes requested by events are debounced."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN}_statistics",
            update_interval=STATISTICS_INTERVAL,
            request_refresh_debouncer=Debouncer(hass, LOGGER, cooldown=REFRESH_COOLDOWN_S, immediate=False),
        )
        self.client = client

    def companies(self) -> list[str]:
        """Return the configured companies' names."""
        return [
            subentry.title
            for subentry in self.config_entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_COMPANY
        ]

    async def _async_update_data(self) -> dict[str, CompanyFigures]:
        zone = str(self.hass.config.time_zone)
        try:
            stats = await self.client.get_statistics(zone)
            figures = {str(item["company"]).casefold(): CompanyFigures(item) for item in stats.get("companies", [])}
            for name in self.companies():
                entry = figures.setdefault(name.casefold(), CompanyFigures(company=name, calls=0))
                entry["forecast"] = await self.client.get_forecast(name, zone)
        except HoldSlayerError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        return figures


@callback
def async_watch_calls(hass: HomeAssistant, entry: HoldSlayerConfigEntry, statistics: HoldStatisticsCoordinator) -> None:
    """Refresh the statistics when a call ends and put the agent's promises on the user's to-do list."""

    @callback
    def on_event(event: SidecarEvent) -> None:
        if event.name in (EventType.CALL_ENDED, EventType.CALL_SUMMARY):
            hass.async_create_task(statistics.async_request_refresh(), eager_start=False)
        if event.name != EventType.CALL_SUMMARY:
            return
        call_id = str(event.data.get("call_id"))
        if awaits_ai_task(entry.options, event.data):
            entry.async_create_background_task(
                hass, _summarize_or_keep(hass, entry, event), f"{DOMAIN}-ai-summary-{call_id}"
            )
        elif todo := entry.options.get(CONF_TODO_ENTITY):
            entry.async_create_background_task(
                hass, add_commitments(hass, str(todo), event.data), f"{DOMAIN}-todo-{call_id}"
            )

    entry.async_on_unload(entry.runtime_data.client.subscribe_events(on_event))


async def _summarize_or_keep(hass: HomeAssistant, entry: HoldSlayerConfigEntry, event: SidecarEvent) -> None:
    """Let the AI Task entity rewrite the summary; if it cannot, the embedded one is announced and kept."""
    call_id = str(event.data.get("call_id"))
    try:
        # Its call_summary event (method "ai_task") brings the to-do items and the automation event.
        await summarize_with_ai_task(hass, entry.runtime_data.client, str(entry.options[CONF_AI_TASK_ENTITY]), call_id)
    except AiSummaryError as err:
        LOGGER.warning("AI Task summary of call %s failed, keeping the embedded one: %s", call_id, err)
        entry.runtime_data.fire_summary_event(event)
        if todo := entry.options.get(CONF_TODO_ENTITY):
            await add_commitments(hass, str(todo), event.data)


def todo_items(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One to-do item per commitment, with its due date and where it came from."""
    company = summary.get("company") or "the company"
    reference = summary.get("reference")
    agent = summary.get("agent_name")
    context = f"Promised by {agent + ' at ' if agent else ''}{company}" + (
        f", reference {reference}" if reference else ""
    )
    items = []
    commitments = summary.get("commitments")
    for commitment in commitments if isinstance(commitments, list) else []:
        if not isinstance(commitment, dict):
            continue  # a sidecar event is input from another process: skip what is not a commitment
        text = str(commitment.get("text") or "").strip()
        if not text:
            continue
        item: dict[str, Any] = {"item": f"{company}: {text}"[:255], "description": context}
        if commitment.get("due"):
            item["due_date"] = commitment["due"]
        items.append(item)
    return items


async def add_commitments(hass: HomeAssistant, todo_entity: str, summary: dict[str, Any]) -> int:
    """Add the commitments to the chosen list; a list without due dates gets the items without them."""
    state = hass.states.get(todo_entity)
    if state is None:
        LOGGER.warning("To-do list %s not found: commitments of call %s not added", todo_entity, summary.get("call_id"))
        return 0
    features = int(state.attributes.get(ATTR_SUPPORTED_FEATURES, 0))
    added = 0
    for item in todo_items(summary):
        # A list that cannot hold due dates or descriptions refuses the whole item: keep its text at least.
        if not features & TodoListEntityFeature.SET_DUE_DATE_ON_ITEM:
            item.pop("due_date", None)
        if not features & TodoListEntityFeature.SET_DESCRIPTION_ON_ITEM:
            item.pop("description", None)
        try:
            await hass.services.async_call(
                TODO_DOMAIN, "add_item", {**item, ATTR_ENTITY_ID: todo_entity}, blocking=True
            )
        except HomeAssistantError as err:
            LOGGER.warning("Cannot add %r to %s: %s", item["item"], todo_entity, err)
            continue
        added += 1
    return added

"""Call summaries by Home Assistant's AI Task entity, when the user picked one.

The sidecar summarises every call with its embedded extractor (or its own LLM). When the user chose an AI
Task entity in the options, the embedded summary is replaced: the call's transcript goes to the entity
with a structure to fill, and its reply goes back to the sidecar (``submit_summary``), which checks it
against the transcript exactly as it checks its own LLM (a reference never said is dropped), keeps it in the
history and announces it. If the entity fails, the embedded summary stands. Either way the user gets one
``hold_slayer_call_summary`` event and one set of to-do items per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import selector

from .client import HoldSlayerClient, HoldSlayerError
from .const import CONF_AI_TASK_ENTITY, LOGGER
from .protocol import Command

TASK_NAME: Final = "Hold Slayer call summary"
# About 3k tokens, as the sidecar's own LLM path: the end of a long call holds the promises.
MAX_TRANSCRIPT_CHARS: Final = 12000

INSTRUCTIONS: Final = (
    "You read the transcript of a phone call between a customer ('you') and a company agent ('agent'). "
    "Fill in: a one-sentence summary; the agent's name if they gave it; the reference, ticket, case or "
    "confirmation numbers the agent said (digits and letters only); the sums of money the agent said; every "
    "calendar day the agent named, as ISO dates resolved against the call date; and the commitments: what the "
    "company promised, or asked the customer to do by a date, each with its due date (ISO) if one was said. "
    "Only include what the agent actually said; leave a list empty when there is none."
)

_TEXT = selector.TextSelector()


def _objects(**fields: Any) -> selector.ObjectSelector:
    """Return a list of objects with these fields, as the AI Task structure describes them."""
    return selector.ObjectSelector(selector.ObjectSelectorConfig(multiple=True, fields=fields))


STRUCTURE: Final = vol.Schema(
    {
        vol.Required("summary", description="one sentence"): _TEXT,
        vol.Optional("agent_name", description="the agent's first name, if given"): _TEXT,
        vol.Optional("references", description="reference numbers as said"): selector.TextSelector(
            selector.TextSelectorConfig(multiple=True)
        ),
        vol.Optional("amounts", description="sums of money"): _objects(
            value={"selector": {"number": {"mode": "box"}}, "required": True},
            currency={"selector": {"text": {}}, "required": True},
        ),
        vol.Optional("dates", description="ISO dates"): selector.TextSelector(
            selector.TextSelectorConfig(multiple=True)
        ),
        vol.Optional("commitments", description="promises and deadlines"): _objects(
            text={"selector": {"text": {}}, "required": True}, due={"selector": {"text": {}}}
        ),
    }
)


def awaits_ai_task(options: Mapping[str, Any], summary: dict[str, Any]) -> bool:
    """Whether this summary is the embedded one that the user's AI Task entity (in ``options``) is to replace."""
    return bool(options.get(CONF_AI_TASK_ENTITY)) and summary.get("method") == "embedded"


class AiSummaryError(HomeAssistantError):
    """The AI Task entity gave no usable summary."""


def transcript_text(call: dict[str, Any]) -> str:
    """Return the agent's and the user's lines as ``speaker: text``, the end kept when it is long."""
    lines = call.get("transcript")
    said = [
        f"{line.get('speaker')}: {line.get('text')}"
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, dict) and line.get("speaker") in ("agent", "you") and line.get("text")
    ]
    return "\n".join(said)[-MAX_TRANSCRIPT_CHARS:]


async def summarize_with_ai_task(
    hass: HomeAssistant, client: HoldSlayerClient, entity_id: str, call_id: str
) -> dict[str, Any]:
    """Ask the AI Task entity for the call's summary and hand it to the sidecar; return the kept summary."""
    try:
        call = await client.get_call(call_id)
    except HoldSlayerError as err:
        raise AiSummaryError(f"cannot read call {call_id}: {err}") from err
    transcript = transcript_text(call)
    if not transcript:
        raise AiSummaryError(f"call {call_id} has no conversation to summarise")
    found = call.get("call")
    info: dict[str, Any] = found if isinstance(found, dict) else {}
    started = str(info.get("started_at") or "")[:10]
    company = info.get("company") or "unknown"
    instructions = f"{INSTRUCTIONS}\n\nCompany: {company}\nCall date: {started}\n\n{transcript}"
    # Imported here: ai_task pulls in camera, image and conversation, which users without an AI Task entity
    # should not load because of us.
    from homeassistant.components import ai_task

    try:
        result = await ai_task.async_generate_data(
            hass, task_name=TASK_NAME, entity_id=entity_id, instructions=instructions, structure=STRUCTURE
        )
    except Exception as err:  # another integration's entity may raise anything: the call keeps its summary
        raise AiSummaryError(f"{entity_id}: {err}") from err
    if not isinstance(result.data, dict):
        raise AiSummaryError(f"{entity_id} answered {type(result.data).__name__}, not the structure asked for")
    try:
        kept = await client.request(
            Command.SUBMIT_SUMMARY, {"call_id": call_id, "reply": result.data, "source": "ai_task"}
        )
    except HoldSlayerError as err:
        raise AiSummaryError(f"the sidecar refused the summary: {err}") from err
    summary = kept.get("summary")
    if not isinstance(summary, dict):
        raise AiSummaryError("the sidecar returned no summary")
    LOGGER.debug("call %s summarised by %s", call_id, entity_id)
    return summary

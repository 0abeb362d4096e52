"""Understanding by the configured chat model, validated and bounded in time, with the embedded rules as fallback.

The model's answer is only advice: a device must be one the household has, and outside numbers the embedded rules
find are refused whatever the model says (it may miss one; it can never make one dialled).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...voice.api import ChatModel, EngineOffError, VoiceEngineError
from .understanding import CallKind, Understanding, Urgency, understand

_LOGGER = logging.getLogger(__name__)
MAX_WORDS_CHARS = 2000  # a minute of speech: more is a recording talking on, and the embedded rules read it
_KINDS: frozenset[str] = frozenset({"unknown", "sales", "survey", "wrong_number", "message"})
_URGENCIES: frozenset[str] = frozenset({"low", "normal", "high"})

SYSTEM = (
    "You screen phone calls for a household. You get what the caller said to the question "
    "\"Who's calling, and what's it about?\". Return one JSON object: "
    '{"caller_name": who is calling as they said it (a name, or "the dentist", "Dr Patel\'s office") or null, '
    '"purpose": what the call is about, short, or null, '
    '"urgency": "high" (emergency, hospital, police, a school about a child, urgent) | "low" (sales, surveys) | '
    '"normal", '
    '"kind": "sales" | "survey" | "wrong_number" | "message" (they want to leave a message or be called back) | '
    '"unknown", '
    '"device": the name of one of the listed devices the caller asked to be put through to, or null, '
    '"outside_numbers": [phone numbers the caller asked to be transferred or connected to, digits only]}. '
    "Only use what the caller said."
)


def _text(value: Any, limit: int = 200) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def _device(value: Any, device_names: Mapping[str, str]) -> str | None:
    name = _text(value)
    if name is None:
        return None
    return next((device_id for device_id, known in device_names.items() if known.lower() == name.lower()), None)


def parse_reply(reply: dict[str, Any], text: str, device_names: Mapping[str, str]) -> Understanding:
    """Turn the model's JSON into an Understanding; the embedded refusals are always kept."""
    embedded = understand(text, device_names)
    urgency = reply.get("urgency")
    kind = reply.get("kind")
    numbers = reply.get("outside_numbers")
    model_refused = [
        digits
        for raw in (numbers if isinstance(numbers, list) else [])
        if (digits := "".join(filter(str.isdigit, str(raw))))
    ]
    refused = tuple(dict.fromkeys([*embedded.refused_requests, *model_refused]))
    return Understanding(
        caller_name=_text(reply.get("caller_name")),
        purpose=_text(reply.get("purpose")),
        urgency=urgency if isinstance(urgency, str) and urgency in _URGENCIES else embedded.urgency,  # type: ignore[arg-type]
        kind=kind if isinstance(kind, str) and kind in _KINDS else embedded.kind,  # type: ignore[arg-type]
        device_id=_device(reply.get("device"), device_names),
        refused_requests=refused,
        cue=embedded.cue,
        method="llm",
    )


async def llm_understand(chat: ChatModel, text: str, device_names: Mapping[str, str]) -> Understanding:
    """Ask the model; raise VoiceEngineError when it fails or answers nonsense."""
    user = json.dumps({"devices": sorted(device_names.values()), "caller_said": text[:MAX_WORDS_CHARS]})
    reply = await chat.complete_json(SYSTEM, user)
    try:
        return parse_reply(reply, text, device_names)
    except (TypeError, ValueError, AttributeError) as err:
        raise VoiceEngineError(f"LLM screening answer is not usable: {err}") from err


async def understand_caller(
    text: str, device_names: Mapping[str, str], chat: ChatModel | None, budget_s: float
) -> Understanding:
    """Return the model's understanding within ``budget_s`` if configured, else (or on failure) the embedded one."""
    if chat is not None and text.strip():
        try:
            return await asyncio.wait_for(llm_understand(chat, text, device_names), budget_s)
        except TimeoutError:
            _LOGGER.warning("LLM screening took over %.1f s; using the embedded rules", budget_s)
        except EngineOffError:
            pass  # no model configured now: the embedded rules are the configured method
        except VoiceEngineError as err:
            _LOGGER.warning("LLM screening failed, using the embedded rules: %s", err)
        except Exception:  # a model's odd answer must never cost the caller their call
            _LOGGER.exception("LLM screening failed, using the embedded rules")
    return understand(text, device_names)


def merged(first: Understanding, second: Understanding) -> Understanding:
    """Merge two answers (to the greeting and to the follow-up): the later fills what the first lacked."""
    urgency: Urgency = "high" if "high" in (first.urgency, second.urgency) else first.urgency
    if urgency == "normal":
        urgency = second.urgency
    kind: CallKind = first.kind if first.kind != "unknown" else second.kind
    return replace(
        first,
        caller_name=first.caller_name or second.caller_name,
        purpose=first.purpose or second.purpose,
        urgency=urgency,
        kind=kind,
        device_id=first.device_id or second.device_id,
        refused_requests=tuple(dict.fromkeys([*first.refused_requests, *second.refused_requests])),
        cue=first.cue or second.cue,
    )

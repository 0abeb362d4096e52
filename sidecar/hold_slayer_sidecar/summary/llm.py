"""Summaries by a chat model (the sidecar's OpenAI-compatible LLM), validated, with the embedded one as fallback.

The model's references and dates are kept only when they can be found in the transcript (a reference read
back digit by digit must appear in it once spoken digits are normalised): a model that invents a ticket
number is worse than no model.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from ..voice.api import ChatModel, EngineOffError, VoiceEngineError
from .extract import company_side, extract, headline
from .model import Amount, CallSummary, Commitment, Said, SaidDate
from .spoken import code_symbols, tokens

_LOGGER = logging.getLogger(__name__)
MAX_TRANSCRIPT_CHARS = 12000  # about 3k tokens: fits the small local models' context with the instructions

SYSTEM = (
    "You read the transcript of a phone call between a customer ('you') and a company agent ('agent'). "
    'Return one JSON object: {"summary": short sentence, "agent_name": string or null, '
    '"references": [reference, ticket, case or confirmation numbers as said, digits and letters only], '
    '"amounts": [{"value": number, "currency": ISO code}], '
    '"dates": [ISO dates, resolved against the call date given], '
    '"commitments": [{"text": what the company promised or asked the customer to do, "due": ISO date or null}]}. '
    "Only include what the agent actually said. Use [] when there is none."
)


def _symbols(text: str) -> str:
    words = tokens(text)
    out, i = [], 0
    while i < len(words):
        code, used = code_symbols(words, i)
        out.append(code)
        i += max(used, 1)
    return "".join(out)


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_reply(
    reply: dict[str, Any], lines: Sequence[Said], company: str | None, *, method: str = "llm"
) -> CallSummary:
    """Turn the model's JSON into a summary, keeping only references that occur in what the agent said."""
    spoken = _symbols(" ".join(company_side(lines)))
    refs = tuple(
        code
        for raw in _items(reply.get("references"))
        if (code := re.sub(r"[^A-Za-z0-9]", "", str(raw)).upper()) and code in spoken
    )
    amounts = tuple(
        Amount(float(item["value"]), str(item.get("currency") or "USD").upper()[:3], str(item["value"]))
        for item in _items(reply.get("amounts"))
        if isinstance(item, dict) and isinstance(item.get("value"), int | float)
    )
    dates = tuple(SaidDate(day, str(raw)) for raw in _items(reply.get("dates")) if (day := _iso_date(raw)) is not None)
    commitments = tuple(
        Commitment(str(item.get("text")), _iso_date(item.get("due")))
        for item in _items(reply.get("commitments"))
        if isinstance(item, dict) and item.get("text")
    )
    name = reply.get("agent_name")
    draft = CallSummary(
        text="",
        agent_name=str(name) if isinstance(name, str) and name else None,
        references=refs,
        amounts=amounts,
        dates=dates,
        commitments=commitments,
        method=method,
    )
    text = reply.get("summary")
    return CallSummary(
        text=str(text) if isinstance(text, str) and text else headline(draft, company),
        agent_name=draft.agent_name,
        references=refs,
        amounts=amounts,
        dates=dates,
        commitments=commitments,
        method=method,
    )


async def llm_extract(chat: ChatModel, lines: Sequence[Said], call_day: date, company: str | None) -> CallSummary:
    """Ask the model; raise VoiceEngineError when it fails or answers nonsense."""
    transcript = "\n".join(f"{line.speaker}: {line.text}" for line in lines if line.speaker in ("agent", "you"))
    user = f"Company: {company or 'unknown'}\nCall date: {call_day.isoformat()} ({call_day:%A})\n\n"
    user += transcript[-MAX_TRANSCRIPT_CHARS:]
    reply = await chat.complete_json(SYSTEM, user)
    try:
        return parse_reply(reply, lines, company)
    except (TypeError, ValueError, KeyError) as err:
        raise VoiceEngineError(f"LLM summary is not usable: {err}") from err


async def summarize(
    lines: Sequence[Said], call_day: date, company: str | None, chat: ChatModel | None = None
) -> CallSummary:
    """Return the LLM's summary when one is configured and answers, else the embedded extractor's."""
    if chat is not None and any(line.speaker == "agent" for line in lines):
        try:
            return await llm_extract(chat, lines, call_day, company)
        except EngineOffError:
            pass  # no model configured now: the embedded extractor is the configured method
        except VoiceEngineError as err:
            _LOGGER.warning("LLM summary failed, using the embedded extractor: %s", err)
        except Exception:  # a model's odd answer must never cost the user the summary
            _LOGGER.exception("LLM summary failed, using the embedded extractor")
    return extract(lines, call_day, company)


def dumps(summary: CallSummary) -> str:
    """JSON text of a summary (for logs and tests)."""
    return json.dumps(summary.as_dict(), ensure_ascii=False)

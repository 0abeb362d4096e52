"""OpenAI-compatible chat client (Ollama, vLLM, LM Studio, OpenAI) that answers with one JSON object."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from .api import VoiceEngineError

_LOGGER = logging.getLogger(__name__)

_FENCED = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def _balanced_objects(text: str) -> list[str]:
    """Every top-level ``{...}`` span in ``text``, honouring strings and escapes."""
    spans: list[str] = []
    depth, start, in_str, escaped = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"' and depth > 0:
            in_str = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def extract_json_object(text: str) -> dict[str, Any]:
    """Find the JSON object in messy model output: raw JSON, a fenced ```json block, or the first balanced {...}."""
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCED.findall(text)]
    candidates += _balanced_objects(text)
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise VoiceEngineError(f"no JSON object in model output: {text[:120]!r}")


@dataclass(slots=True)
class ChatStats:
    """Counters for diagnostics and benchmarks."""

    requests: int = 0
    errors: int = 0
    total_latency_s: float = 0.0

    @property
    def mean_latency_s(self) -> float:
        """Mean latency of successful requests."""
        ok = self.requests - self.errors
        return self.total_latency_s / ok if ok > 0 else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON output."""
        return {"requests": self.requests, "errors": self.errors, "mean_latency_s": round(self.mean_latency_s, 3)}


class OpenAiChat:
    """``POST {url}/v1/chat/completions`` with a timeout per attempt and capped exponential backoff."""

    def __init__(
        self,
        url: str,
        *,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 8.0,
        retries: int = 1,
        backoff_s: float = 0.5,
        temperature: float = 0.0,
    ) -> None:
        base = url.rstrip("/")
        self._endpoint = base + ("" if base.endswith("/v1") else "/v1") + "/chat/completions"
        self._models = base + ("" if base.endswith("/v1") else "/v1") + "/models"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._retries = max(0, retries)
        self._backoff = backoff_s
        self._temperature = temperature
        self.stats = ChatStats()

    async def _post(self, body: dict[str, Any]) -> str:
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.post(self._endpoint, json=body, headers=self._headers) as resp,
        ):
            if resp.status != 200:
                raise VoiceEngineError(f"LLM answered HTTP {resp.status}")
            data = await resp.json(content_type=None)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise VoiceEngineError("LLM answer has no choices[0].message.content") from err
        if not isinstance(content, str):
            raise VoiceEngineError("LLM message content is not text")
        return content

    async def complete_json(self, system: str, user: str) -> dict[str, Any]:
        """Ask the model and return the JSON object it produced; raise VoiceEngineError after the last retry."""
        body = {
            "model": self._model,
            "temperature": self._temperature,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        }
        last: Exception | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(min(self._backoff * 2 ** (attempt - 1), 4.0))
            self.stats.requests += 1
            started = time.monotonic()
            try:
                result = extract_json_object(await self._post(body))
            except (aiohttp.ClientError, TimeoutError, ValueError, VoiceEngineError) as err:
                self.stats.errors += 1
                last = err
                _LOGGER.debug("LLM attempt %d failed: %s", attempt + 1, err or type(err).__name__)
                continue
            self.stats.total_latency_s += time.monotonic() - started
            return result
        raise VoiceEngineError(f"LLM failed after {self._retries + 1} attempts: {last or 'timeout'}") from last

    async def health(self) -> str:
        """'ok' when ``GET /v1/models`` answers."""
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(self._models, headers=self._headers) as resp,
            ):
                return "ok" if resp.status == 200 else f"LLM answered HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as err:
            return f"LLM unreachable: {err or type(err).__name__}"

"""The OpenAI-compatible chat client: JSON from messy output, retries, stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hold_slayer_sidecar.voice.api import VoiceEngineError
from hold_slayer_sidecar.voice.llm import OpenAiChat, extract_json_object


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"action": "dtmf", "digits": "2"}', {"action": "dtmf", "digits": "2"}),
        ('  \n{"a": 1}\n', {"a": 1}),
        ('Sure! ```json\n{"action": "wait"}\n``` Hope that helps.', {"action": "wait"}),
        ('```\n{"action": "speak", "text": "billing"}\n```', {"action": "speak", "text": "billing"}),
        ('I would press 2. {"action": "dtmf", "digits": "2", "why": "a {brace} in a string"} done', None),
        ('Reasoning... {"outer": {"inner": [1, 2]}} trailing {"second": true}', {"outer": {"inner": [1, 2]}}),
        ('{not json} then {"ok": true}', {"ok": True}),
        ('{"text": "quote \\" and } brace"}', {"text": 'quote " and } brace'}),
    ],
)
def test_extract_json_object(text: str, expected: dict[str, Any] | None) -> None:
    if expected is None:
        expected = {"action": "dtmf", "digits": "2", "why": "a {brace} in a string"}
    assert extract_json_object(text) == expected


@pytest.mark.parametrize("text", ["", "press two", "[1, 2, 3]", "{broken: json", '"just a string"'])
def test_no_json_object_is_a_voice_error(text: str) -> None:
    with pytest.raises(VoiceEngineError):
        extract_json_object(text)


@pytest.fixture
async def flaky_llm(unused_tcp_port: int) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Fails once with 503, then answers with fenced JSON; records the requests."""
    seen: list[dict[str, Any]] = []

    async def complete(request: web.Request) -> web.Response:
        seen.append(await request.json())
        if len(seen) == 1:
            return web.Response(status=503)
        assert request.headers.get("Authorization") == "Bearer sekret"
        content = 'Here you go:\n```json\n{"action": "dtmf", "digits": "4"}\n```'
        return web.json_response({"choices": [{"message": {"role": "assistant", "content": content}}]})

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "tiny"}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", complete)
    app.router.add_get("/v1/models", models)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield f"http://127.0.0.1:{unused_tcp_port}", seen
    await runner.cleanup()


async def test_retries_with_backoff_then_succeeds(flaky_llm: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = flaky_llm
    llm = OpenAiChat(url, model="tiny", api_key="sekret", retries=2, backoff_s=0.01)
    assert await llm.health() == "ok"
    assert await llm.complete_json("be brief", "which key?") == {"action": "dtmf", "digits": "4"}
    assert len(seen) == 2
    assert seen[0]["model"] == "tiny"
    assert seen[0]["messages"][0] == {"role": "system", "content": "be brief"}
    assert llm.stats.as_dict()["requests"] == 2
    assert llm.stats.errors == 1
    assert llm.stats.mean_latency_s > 0


async def test_url_with_v1_suffix_is_not_doubled(flaky_llm: tuple[str, list[dict[str, Any]]]) -> None:
    url, _seen = flaky_llm
    llm = OpenAiChat(f"{url}/v1/", model="tiny", api_key="sekret", retries=1, backoff_s=0.01)
    assert (await llm.complete_json("s", "u"))["digits"] == "4"

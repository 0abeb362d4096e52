"""Hostile clients against the real server on 127.0.0.1: floods, slow headers, malformed frames, guessing, big lists."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from conftest import Rig
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.history.facade import CallsAndHistory
from hold_slayer_sidecar.history.model_summary import ModelSummaries
from hold_slayer_sidecar.history.service import HistoryService
from hold_slayer_sidecar.nav.flows import CallFlow
from hold_slayer_sidecar.server.app import ServerLimits, SidecarServer, build_app
from hold_slayer_sidecar.server.guard import ConnectionLimits
from hold_slayer_sidecar.server.hello_limit import HelloLimiter, HelloLimits
from hold_slayer_sidecar.server.hub import EventHub
from hold_slayer_sidecar.store.sqlite import CallRecord

TOKEN = "hostile-tests-token-0123456789"
LIMITS = ServerLimits(
    connections=ConnectionLimits(max_pending=32, handshake_timeout_s=0.5),
    hellos=HelloLimits(max_failures=5, window_s=60, cooldown_s=60),
)


@pytest.fixture
async def server(rig: Rig, tmp_path: Path) -> AsyncIterator[SidecarServer]:
    hub = EventHub()
    rig.manager.subscribe(hub.publish)
    summaries = ModelSummaries(rig.store, rig.manager.publish)
    service = CallsAndHistory(rig.manager, HistoryService(rig.store, tmp_path / "recordings"), summaries)
    running = SidecarServer(build_app(service, hub, token=TOKEN, version="test", limits=LIMITS), "127.0.0.1", 0)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url(server: SidecarServer) -> str:
    return f"ws://127.0.0.1:{server.port}{protocol.WS_PATH}"


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.TEXT, msg
    return dict(json.loads(msg.data))


async def authenticated(http: aiohttp.ClientSession, server: SidecarServer) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url(server), max_msg_size=protocol.MAX_MESSAGE_BYTES)
    await ws.send_str(protocol.encode(protocol.hello(TOKEN, "hostile-test")))
    assert (await receive(ws))["type"] == "welcome"
    return ws


async def ask(ws: aiohttp.ClientWebSocketResponse, rid: int, command: str, data: dict[str, Any] | None = None) -> Any:
    await ws.send_str(protocol.encode(protocol.request(rid, command, data)))
    while True:
        msg = await ws.receive(timeout=10)
        assert msg.type is WSMsgType.TEXT, msg  # a frame over max_msg_size would arrive as an error here
        assert len(msg.data.encode()) <= protocol.MAX_MESSAGE_BYTES
        frame = json.loads(msg.data)
        if frame["type"] == "result" and frame["id"] == rid:
            return frame


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# ---------------------------------------------------------------- before authentication


async def test_an_idle_connection_flood_holds_few_descriptors_and_a_client_still_gets_in(
    server: SidecarServer, http: aiohttp.ClientSession
) -> None:
    before = open_fds()
    flood = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(300)]
    await asyncio.sleep(0.2)
    try:
        # The test holds the 300 client ends; the server may hold only its cap of the other ends.
        assert open_fds() - before <= 300 + LIMITS.connections.max_pending + 4
        closed = sum(writer.transport.is_closing() or reader.at_eof() for reader, writer in flood)
        assert closed >= 300 - LIMITS.connections.max_pending
        ws = await authenticated(http, server)  # while the flood still holds its connections
        assert (await ask(ws, 1, "ping"))["success"] is True
        await asyncio.sleep(LIMITS.connections.handshake_timeout_s + 0.3)
        assert (await ask(ws, 2, "get_snapshot"))["success"] is True  # the deadline is for handshakes only
        await ws.close()
    finally:
        for _, writer in flood:
            writer.close()


async def test_a_request_trickled_without_end_is_closed_at_the_deadline(server: SidecarServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")  # never the blank line
    try:
        # Read until the server ends it; well past the 0.5 s deadline would mean it did not.
        ended = await asyncio.wait_for(reader.read(), 3)
        assert ended == b""
    except ConnectionResetError:
        pass  # aborted: the same for the attacker
    finally:
        writer.close()


async def test_a_short_token_cannot_serve(rig: Rig) -> None:
    with pytest.raises(ValueError, match="at least 24 characters"):
        build_app(rig.manager, EventHub(), token="x" * 23, version="test")


async def test_failed_hellos_are_rate_limited_per_address(server: SidecarServer, http: aiohttp.ClientSession) -> None:
    for _ in range(5):
        async with http.ws_connect(url(server)) as ws:
            await ws.send_str(protocol.encode(protocol.hello("a-wrong-guess-of-the-token-000", "guesser")))
            assert (await receive(ws))["code"] == "invalid_auth"
    async with http.ws_connect(url(server)) as ws:
        await ws.send_str(protocol.encode(protocol.hello(TOKEN, "guesser")))  # even the right token must wait
        refused = await receive(ws)
        assert refused["code"] == "try_again_later" and "try again in 60 s" in refused["message"]
        await ws.receive(timeout=5)
        assert ws.close_code == aiohttp.WSCloseCode.TRY_AGAIN_LATER


def test_the_hello_limiter_cools_down_and_forgets_the_oldest_address() -> None:
    now = [0.0]
    limiter = HelloLimiter(HelloLimits(max_failures=3, window_s=10, cooldown_s=30, max_addresses=100), lambda: now[0])
    for t in (0.0, 11.0, 12.0):  # the first failure left the window before the third
        now[0] = t
        limiter.failed("a")
    assert limiter.retry_after("a") == 0
    now[0] = 13.0
    limiter.failed("a")
    assert limiter.retry_after("a") == 30
    now[0] = 43.0
    assert limiter.retry_after("a") == 0
    for n in range(1000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100


# ---------------------------------------------------------------- after authentication

DEEP = "[" * 5000 + "]" * 5000
HOSTILE = [
    '{"type":[]}',
    '{"type":{"a":1}}',
    DEEP,
    '{"type":"request","id":1,"command":"ping","data":' + DEEP + "}",
    '{"a":' * 5000 + "1" + "}" * 5000,
    '{"type":"request","id":' + "9" * 5000 + ',"command":"ping"}',
    '{"type":"request","id":1e999,"command":"ping"}',
    '"just a string"',
    "null",
    "12345",
    "{not json",
    '{"type":"hello","token":"x","protocol":1}',
]


async def test_malformed_messages_of_any_type_or_depth_get_errors_and_the_connection_stays(
    server: SidecarServer, http: aiohttp.ClientSession
) -> None:
    ws = await authenticated(http, server)
    for raw in HOSTILE:
        await ws.send_str(raw)
        frame = await receive(ws)
        assert frame["type"] == "error" and frame["code"] == "invalid_message", (raw[:40], frame)
    await ws.send_bytes(b"\x00\x01binary")
    assert (await receive(ws))["code"] == "invalid_message"
    with_ids = {
        '{"type":"request","id":7,"command":3}': "invalid_message",
        '{"type":"request","id":8,"command":"ping","data":[]}': "invalid_message",
        '{"type":"request","id":9,"command":"\\ud800"}': "invalid_message",  # a lone surrogate cannot be sent back
        '{"type":"request","id":10,"command":"place_call","data":{"target":5}}': "invalid_data",
        '{"type":"request","id":11,"command":"list_call_flows","data":{"limit":1e308}}': "invalid_data",
        '{"type":"request","id":12,"command":"get_history","data":{"cursor":["x"]}}': "invalid_data",
    }
    for raw, code in with_ids.items():
        await ws.send_str(raw)
        frame = await receive(ws)
        assert frame["type"] == "result" and frame["error"]["code"] == code, (raw, frame)
        assert frame["id"] == json.loads(raw.replace("\\ud800", ""))["id"]
    assert (await ask(ws, 20, "ping"))["success"] is True
    assert not ws.closed
    await ws.close()


async def test_the_only_close_for_a_message_is_the_size_limit(
    server: SidecarServer, http: aiohttp.ClientSession
) -> None:
    ws = await authenticated(http, server)
    await ws.send_str(
        json.dumps({"type": "request", "id": 1, "command": "ping", "pad": "x" * protocol.MAX_MESSAGE_BYTES})
    )
    msg = await ws.receive(timeout=5)
    assert msg.type is WSMsgType.CLOSE and ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG  # RFC 6455 7.4.1


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One client frame as RFC 6455 section 5.2 lays it out (FIN set, masked, payload under 64 kB)."""
    mask = os.urandom(4)
    size = bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    return bytes([0x80 | opcode]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_text_that_is_not_utf8_closes_as_rfc_6455_requires(server: SidecarServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {protocol.WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert b" 101 " in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.write(masked_frame(0x1, protocol.encode(protocol.hello(TOKEN, "raw")).encode()))
    header = await asyncio.wait_for(reader.readexactly(2), 5)
    length = header[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    assert json.loads(await reader.readexactly(length))["type"] == "welcome"
    writer.write(masked_frame(0x1, b'{"type":"request","id":1,"command":"\xff\xfe"}'))
    close = await asyncio.wait_for(reader.readexactly(4), 5)
    assert close[0] & 0x0F == 0x8 and struct.unpack("!H", close[2:4])[0] == 1007  # section 8.1: fail the connection
    writer.close()


async def test_an_event_or_result_over_the_frame_limit_is_not_sent(
    server: SidecarServer, http: aiohttp.ClientSession, rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = await authenticated(http, server)
    rig.manager.publish("transcript", {"text": "x" * protocol.MAX_MESSAGE_BYTES})  # would close the client
    huge = big_flow(1).model_copy(update={"steps": [big_flow(1).steps[0].model_copy(update={"options": {
        str(n): "y" * 1000 for n in range(300)
    }})]})  # fmt: skip

    async def get_flow(flow_id: str) -> CallFlow:
        return huge

    monkeypatch.setattr(rig.manager, "get_flow", get_flow)
    too_big = await ask(ws, 1, "get_call_flow", {"id": "flow-00001"})
    assert too_big["error"]["code"] == "internal_error" and "smaller page" in too_big["error"]["message"]
    assert (await ask(ws, 2, "ping"))["success"] is True
    await ws.close()


async def test_a_request_flood_is_told_to_wait_not_buffered(
    server: SidecarServer, http: aiohttp.ClientSession, rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()

    async def slow_snapshot_flows(*args: Any, **kwargs: Any) -> list[CallFlow]:
        await gate.wait()
        return []

    monkeypatch.setattr(rig.manager, "list_flows", slow_snapshot_flows)
    ws = await authenticated(http, server)
    for rid in range(100):
        await ws.send_str(protocol.encode(protocol.request(rid, "list_call_flows")))
    refused = [await receive(ws) for _ in range(100 - 64)]
    assert all(f["error"]["code"] == "try_again_later" for f in refused)
    gate.set()
    answered = [await receive(ws) for _ in range(64)]
    assert all(f["success"] for f in answered)
    await ws.close()


# ---------------------------------------------------------------- paging


def big_flow(n: int) -> CallFlow:
    steps = [{"kind": "speak", "text": f"flow {n} step {i} " + "x" * 400} for i in range(4)]
    return CallFlow.model_validate({"id": f"flow-{n:05d}", "name": f"Flow {n}", "company": "bank", "steps": steps})


async def test_list_call_flows_pages_1200_flows_in_frames_under_the_limit(
    server: SidecarServer, http: aiohttp.ClientSession, rig: Rig
) -> None:
    for n in range(1200):  # about 2 kB each: 2.4 MB in all, ten times the frame limit
        await rig.store.save_flow(big_flow(n), now=float(n))
    ws = await authenticated(http, server)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        data: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = await ask(ws, pages + 1, "list_call_flows", data)
        assert page["success"] is True, page
        seen += [flow["id"] for flow in page["data"]["flows"]]
        cursor = page["data"]["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert pages < 50
    assert seen == [f"flow-{n:05d}" for n in range(1200)]
    assert pages >= 10  # bounded by bytes, not only by limit
    default = await ask(ws, 99, "list_call_flows")
    assert len(default["data"]["flows"]) <= protocol.DEFAULT_PAGE_SIZE
    too_many = await ask(ws, 100, "list_call_flows", {"limit": protocol.MAX_PAGE_SIZE + 1})
    assert too_many["error"]["code"] == "invalid_data" and "limit" in too_many["error"]["message"]
    await ws.close()


async def test_a_flow_too_large_to_list_is_refused_when_saved(
    server: SidecarServer, http: aiohttp.ClientSession
) -> None:
    ws = await authenticated(http, server)
    options = {str(i): "y" * 480 for i in range(150)}
    steps = [{"kind": "listen", "options": options}] + [{"kind": "speak", "text": "z" * 500}] * 40
    flow = {"id": "huge", "name": "Huge", "steps": steps}
    refused = await ask(ws, 1, "save_call_flow", {"flow": flow})
    assert refused["error"]["code"] == "invalid_data" and "bytes" in refused["error"]["message"]
    await ws.close()


async def test_get_history_pages_1100_calls(server: SidecarServer, http: aiohttp.ClientSession, rig: Rig) -> None:
    for n in range(1100):
        record = CallRecord(
            call_id=f"call-{n:05d}", target="5551234", company=f"company {n % 7}", intent=None, department=None,
            started_at=1_700_000_000.0 + n // 2, ended_at=1_700_000_100.0 + n, hold_seconds=float(n % 300),
            outcome="no_human", reason=None, recordings=[],
        )  # fmt: skip
        await rig.store.add_call(record)
    ws = await authenticated(http, server)
    seen: list[str] = []
    cursor: str | None = None
    for rid in range(1, 10):
        page = await ask(ws, rid, "get_history", {"limit": 500, **({"cursor": cursor} if cursor else {})})
        assert page["success"] is True, page
        seen += [call["call_id"] for call in page["data"]["calls"]]
        assert (page["data"]["stats"] != []) is (cursor is None)  # statistics come with the first page
        cursor = page["data"]["next_cursor"]
        if cursor is None:
            break
    # Newest first; two calls share each start time, so the call id breaks the tie.
    assert seen == [f"call-{n:05d}" for n in reversed(range(1100))]
    await ws.close()

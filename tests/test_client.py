"""The websocket client against an in-process fake sidecar (one layer: real aiohttp, scripted server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from custom_components.hold_slayer import protocol
from custom_components.hold_slayer.client import (
    Backoff,
    HoldSlayerAuthenticationError,
    HoldSlayerClient,
    HoldSlayerCommandError,
    HoldSlayerConnectionError,
    HoldSlayerError,
    HoldSlayerVersionError,
    SidecarEvent,
    Welcome,
)

from .common import make_call, make_snapshot

TOKEN = "t0ken"
# pytest-homeassistant blocks sockets; these tests talk to a server on 127.0.0.1 only.
pytestmark = pytest.mark.usefixtures("socket_enabled")
Script = Callable[[web.WebSocketResponse, dict[str, Any]], Awaitable[None]]


class FakeSidecar:
    """A websocket server whose behaviour after the hello is scripted by each test."""

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.snapshot = make_snapshot()
        self.welcome_protocol = protocol.PROTOCOL_VERSION
        self.after_welcome: Script | None = None
        self.close_before_welcome: int | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(protocol.WS_PATH, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self.sockets.append(ws)
        hello = protocol.decode(await ws.receive_str())
        if self.close_before_welcome is not None:
            await ws.close(code=self.close_before_welcome)
            return ws
        if hello["token"] != TOKEN:
            await ws.send_str(protocol.encode(protocol.error(protocol.ErrorCode.INVALID_AUTH, "invalid token")))
            await ws.close(code=protocol.CLOSE_INVALID_AUTH)
            return ws
        await ws.send_str(
            protocol.encode(
                {
                    "type": "welcome",
                    "protocol": self.welcome_protocol,
                    "sidecar_version": "9.9.9",
                    "capabilities": ["dtmf"],
                    "snapshot": self.snapshot,
                }
            )
        )
        if self.after_welcome is not None:
            await self.after_welcome(ws, hello)
            return ws
        async for msg in ws:
            await self._answer(ws, json.loads(msg.data))
        return ws

    async def _answer(self, ws: web.WebSocketResponse, request: dict[str, Any]) -> None:
        self.requests.append(request)
        command, data = request["command"], request["data"]
        if command == "ping":
            await ws.send_str(protocol.encode(protocol.result_ok(request["id"], {"pong": True})))
        elif command == "place_call":
            await ws.send_str(protocol.encode(protocol.result_ok(request["id"], {"call_id": "c-1"})))
        elif command == "get_snapshot":
            await ws.send_str(protocol.encode(protocol.result_ok(request["id"], dict(self.snapshot))))
        elif command == "hang_up":
            await ws.send_str(
                protocol.encode(protocol.result_error(request["id"], "not_found", f"no call {data['call_id']}"))
            )
        elif command == "send_dtmf":
            pass  # never answers: the client must time out
        elif command in ("list_call_flows", "get_history"):
            await ws.send_str(protocol.encode(protocol.result_ok(request["id"], self._page(command, data))))

    def _page(self, command: str, data: dict[str, Any]) -> dict[str, Any]:
        """Pages of 7 flows or 12 calls as the sidecar cuts them: at most ``limit``, after the cursor's item."""
        key, field, count = ("flows", "id", 7) if command == "list_call_flows" else ("calls", "call_id", 12)
        ids = [f"{key}-{n:02d}" for n in range(count)]
        start = ids.index(data["cursor"]) + 1 if "cursor" in data else 0
        page = ids[start : start + data["limit"]]
        more = start + len(page) < count
        result: dict[str, Any] = {key: [{field: i} for i in page], "next_cursor": page[-1] if more else None}
        if command == "get_history":
            result["stats"] = [] if "cursor" in data else [{"company": "Acme", "calls": 12}]
        return result


@pytest.fixture
async def sidecar() -> AsyncGenerator[FakeSidecar]:
    server = FakeSidecar()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _client(
    sidecar: FakeSidecar, session: aiohttp.ClientSession, token: str = TOKEN, **kwargs: Any
) -> HoldSlayerClient:
    return HoldSlayerClient("127.0.0.1", sidecar.port, token, session, **kwargs)


async def test_handshake_and_requests(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    sidecar.snapshot = make_snapshot(make_call())
    client = _client(sidecar, session)
    welcome = await client.connect()
    assert welcome == Welcome(
        protocol=protocol.PROTOCOL_VERSION,
        sidecar_version="9.9.9",
        capabilities=("dtmf",),
        snapshot=sidecar.snapshot,
    )
    assert client.connected
    await client.ping()
    assert await client.place_call("+18005550100", company="Acme", transfer_to="sip:me@host") == "c-1"
    assert (await client.get_snapshot())["calls"][0]["call_id"] == "call-1"
    assert sidecar.requests[1]["data"] == {"target": "+18005550100", "company": "Acme", "transfer_to": "sip:me@host"}
    assert [r["id"] for r in sidecar.requests] == [1, 2, 3]
    await client.disconnect()
    assert not client.connected


async def test_lists_are_read_page_by_page(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    client = _client(sidecar, session)
    await client.connect()
    flows = await client.list_call_flows(page_size=3)
    assert [flow["id"] for flow in flows["flows"]] == [f"flows-{n:02d}" for n in range(7)]
    assert [r["data"].get("cursor") for r in sidecar.requests] == [None, "flows-02", "flows-05"]
    history = await client.get_history(10)
    assert [call["call_id"] for call in history["calls"]] == [f"calls-{n:02d}" for n in range(10)]
    assert history["stats"] == [{"company": "Acme", "calls": 12}]
    everything = await client.get_history(600)  # more than one page of MAX_PAGE_SIZE may be asked for
    assert len(everything["calls"]) == 12 and everything["next_cursor"] is None
    await client.disconnect()


async def test_failed_result_raises_command_error(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    client = _client(sidecar, session)
    await client.connect()
    with pytest.raises(HoldSlayerCommandError) as err:
        await client.hang_up("nope")
    assert err.value.code == "not_found"
    assert err.value.message == "no call nope"
    await client.disconnect()


async def test_request_times_out(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    client = _client(sidecar, session, request_timeout=0.1)
    await client.connect()
    with pytest.raises(HoldSlayerConnectionError, match="no answer to send_dtmf"):
        await client.send_dtmf("c-1", "1")
    await client.ping()  # the connection survives a timed-out request
    await client.disconnect()


async def test_wrong_token(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    with pytest.raises(HoldSlayerAuthenticationError, match="invalid token"):
        await _client(sidecar, session, token="wrong").connect()


async def test_welcome_with_other_protocol(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    async def close_4002(ws: web.WebSocketResponse, hello: dict[str, Any]) -> None:
        await ws.close(code=protocol.CLOSE_VERSION_MISMATCH)

    sidecar.welcome_protocol = protocol.PROTOCOL_VERSION + 1
    sidecar.after_welcome = close_4002
    with pytest.raises(HoldSlayerVersionError) as err:
        await _client(sidecar, session).connect()
    assert err.value.server_protocol == protocol.PROTOCOL_VERSION + 1


async def test_server_refusing_protocol(session: aiohttp.ClientSession) -> None:
    async def refuse(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive_str()
        await ws.send_str(protocol.encode(protocol.error(protocol.ErrorCode.VERSION_MISMATCH, "client speaks 1")))
        await ws.close(code=protocol.CLOSE_VERSION_MISMATCH)
        return ws

    # A server that refuses before any welcome, as the real sidecar does.
    app = web.Application()
    app.router.add_get(protocol.WS_PATH, refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with pytest.raises(HoldSlayerVersionError, match="client speaks 1"):
            await HoldSlayerClient("127.0.0.1", port, TOKEN, session).connect()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("close_code", "error"),
    [
        (protocol.CLOSE_INVALID_AUTH, HoldSlayerAuthenticationError),
        (protocol.CLOSE_VERSION_MISMATCH, HoldSlayerVersionError),
        (protocol.CLOSE_HANDSHAKE_TIMEOUT, HoldSlayerConnectionError),
    ],
)
async def test_close_code_without_error_frame(
    sidecar: FakeSidecar, session: aiohttp.ClientSession, close_code: int, error: type[HoldSlayerError]
) -> None:
    sidecar.close_before_welcome = close_code
    with pytest.raises(error):
        await _client(sidecar, session).connect()


async def test_nothing_listening(session: aiohttp.ClientSession, unused_tcp_port: int) -> None:
    with pytest.raises(HoldSlayerConnectionError, match="cannot connect"):
        await HoldSlayerClient("127.0.0.1", unused_tcp_port, TOKEN, session).connect()


async def test_events_reach_subscribers(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    async def push(ws: web.WebSocketResponse, hello: dict[str, Any]) -> None:
        await ws.receive()  # wait for the test's ping
        await ws.send_str("{not json")  # ignored, connection survives
        await ws.send_str(protocol.encode(protocol.event(7, "hold_started", {"call_id": "c-1"})))
        await ws.send_str(protocol.encode(protocol.event(8, "human_detected", {"call_id": "c-1"})))
        await ws.send_str(protocol.encode(protocol.result_ok(1)))
        await ws.receive()

    sidecar.after_welcome = push
    client = _client(sidecar, session)
    received: list[SidecarEvent] = []
    client.subscribe_events(lambda event: 1 / 0)  # a broken subscriber does not stop the others
    unsubscribe = client.subscribe_events(received.append)
    await client.connect()
    await client.ping()
    assert received == [
        SidecarEvent(seq=7, name="hold_started", data={"call_id": "c-1"}),
        SidecarEvent(seq=8, name="human_detected", data={"call_id": "c-1"}),
    ]
    unsubscribe()
    unsubscribe()  # idempotent
    await client.disconnect()


async def test_drop_fails_pending_request(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    async def drop(ws: web.WebSocketResponse, hello: dict[str, Any]) -> None:
        await ws.receive()
        await ws.close()

    sidecar.after_welcome = drop
    client = _client(sidecar, session)
    await client.connect()
    with pytest.raises(HoldSlayerConnectionError):
        await client.ping()
    await client.wait_closed()
    assert not client.connected
    with pytest.raises(HoldSlayerConnectionError, match="not connected"):
        await client.ping()
    await client.disconnect()


async def test_listen_reconnects_and_resyncs(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    async def drop_first(ws: web.WebSocketResponse, hello: dict[str, Any]) -> None:
        if sidecar.connections == 1:
            await asyncio.sleep(0.05)
            await ws.close()
            return
        async for msg in ws:
            await sidecar._answer(ws, json.loads(msg.data))

    sidecar.after_welcome = drop_first
    client = _client(sidecar, session, backoff=Backoff(initial=0.01, maximum=0.05))
    snapshots: list[int] = []
    errors: list[HoldSlayerError] = []
    reconnected = asyncio.Event()

    def on_connected(welcome: Welcome) -> None:
        snapshots.append(len(welcome.snapshot["calls"]))
        sidecar.snapshot = make_snapshot(make_call())  # the next welcome carries a call
        if len(snapshots) == 2:
            reconnected.set()

    task = asyncio.create_task(client.listen(on_connected=on_connected, on_disconnected=errors.append))
    await asyncio.wait_for(reconnected.wait(), 5)
    assert snapshots == [0, 1]
    assert isinstance(errors[0], HoldSlayerConnectionError)
    await client.ping()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.connected


async def test_listen_survives_broken_callbacks(sidecar: FakeSidecar, session: aiohttp.ClientSession) -> None:
    async def drop_at_once(ws: web.WebSocketResponse, hello: dict[str, Any]) -> None:
        await ws.close()

    sidecar.after_welcome = drop_at_once
    client = _client(sidecar, session, backoff=Backoff(initial=0.01, maximum=0.02))
    welcomes: list[Welcome] = []
    third_welcome = asyncio.Event()

    def broken(value: object) -> None:
        if isinstance(value, Welcome):
            welcomes.append(value)
            if len(welcomes) == 3:
                third_welcome.set()
        raise RuntimeError("bug in a callback")

    task = asyncio.create_task(client.listen(on_connected=broken, on_disconnected=broken))
    await asyncio.wait_for(third_welcome.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sidecar.connections >= 3


async def test_listen_keeps_retrying_when_down(session: aiohttp.ClientSession, unused_tcp_port: int) -> None:
    client = HoldSlayerClient("127.0.0.1", unused_tcp_port, TOKEN, session, backoff=Backoff(initial=0.01, maximum=0.02))
    errors: list[HoldSlayerError] = []
    three_failures = asyncio.Event()

    def on_disconnected(err: HoldSlayerError) -> None:
        errors.append(err)
        if len(errors) == 3:
            three_failures.set()

    task = asyncio.create_task(client.listen(on_connected=lambda w: None, on_disconnected=on_disconnected))
    await asyncio.wait_for(three_failures.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(isinstance(err, HoldSlayerConnectionError) for err in errors)


def test_backoff_is_capped_with_jitter() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0)
    delays = [backoff.next_delay() for _ in range(8)]
    for delay, nominal in zip(delays, [1, 2, 4, 8, 8, 8, 8, 8], strict=True):
        assert nominal / 2 <= delay <= nominal
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_url_brackets_ipv6() -> None:
    client = HoldSlayerClient("::1", 8765, TOKEN, None)  # type: ignore[arg-type]
    assert client.url == "ws://[::1]:8765/api/ws"

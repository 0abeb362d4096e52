"""The websocket server with aiohttp's test client, over the real manager on fake engines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer
from conftest import Rig, settle
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.history.facade import CallsAndHistory
from hold_slayer_sidecar.history.model_summary import ModelSummaries
from hold_slayer_sidecar.history.service import HistoryService
from hold_slayer_sidecar.server import connection
from hold_slayer_sidecar.server.app import build_app
from hold_slayer_sidecar.server.hub import EventHub

TOKEN = "s3cret-token-for-the-server-tests"


@pytest.fixture
async def client(rig: Rig, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    hub = EventHub()
    rig.manager.subscribe(hub.publish)
    summaries = ModelSummaries(rig.store, rig.manager.publish)
    service = CallsAndHistory(rig.manager, HistoryService(rig.store, tmp_path / "recordings"), summaries)
    app = build_app(service, hub, token=TOKEN, version="test")
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def connect(client: TestClient[Any, Any], token: str = TOKEN, version: int = protocol.PROTOCOL_VERSION) -> Any:
    ws = await client.ws_connect(protocol.WS_PATH)
    await ws.send_str(json.dumps({"type": "hello", "token": token, "protocol": version, "client": "test"}))
    return ws


async def receive(ws: Any) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type is WSMsgType.TEXT, msg
    return dict(json.loads(msg.data))


async def request(ws: Any, request_id: int, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    await ws.send_str(protocol.encode(protocol.request(request_id, command, data)))
    while True:
        frame = await receive(ws)
        if frame["type"] == "result" and frame["id"] == request_id:
            return frame


async def test_handshake_welcome_carries_a_snapshot(client: TestClient[Any, Any]) -> None:
    ws = await connect(client)
    welcome = await receive(ws)
    assert welcome["type"] == "welcome"
    assert welcome["protocol"] == protocol.PROTOCOL_VERSION
    assert welcome["snapshot"]["sidecar"]["max_calls"] == 2
    assert welcome["snapshot"]["calls"] == []
    pong = await request(ws, 1, "ping")
    assert pong["success"] is True and pong["data"]["pong"] is True
    await ws.close()


async def test_wrong_token_is_refused(client: TestClient[Any, Any]) -> None:
    ws = await connect(client, token="wrong")
    error = await receive(ws)
    assert error == {"type": "error", "code": "invalid_auth", "message": "invalid token"}
    closing = await ws.receive()
    assert closing.type is WSMsgType.CLOSE and ws.close_code == protocol.CLOSE_INVALID_AUTH


async def test_version_mismatch_is_refused(client: TestClient[Any, Any]) -> None:
    ws = await connect(client, version=99)
    error = await receive(ws)
    assert error["code"] == "version_mismatch"
    await ws.receive()
    assert ws.close_code == protocol.CLOSE_VERSION_MISMATCH


async def test_hello_must_come_first_and_in_time(client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ws = await client.ws_connect(protocol.WS_PATH)
    await ws.send_str(protocol.encode(protocol.request(1, "ping")))
    assert (await receive(ws))["code"] == "invalid_message"
    await ws.receive()
    assert ws.close_code == protocol.CLOSE_INVALID_AUTH
    monkeypatch.setattr(connection, "HELLO_TIMEOUT_S", 0.1)
    silent = await client.ws_connect(protocol.WS_PATH)
    assert (await receive(silent))["code"] == "invalid_message"
    await silent.receive()
    assert silent.close_code == protocol.CLOSE_HANDSHAKE_TIMEOUT


async def test_malformed_frames_get_errors_and_the_connection_stays(client: TestClient[Any, Any]) -> None:
    ws = await connect(client)
    await receive(ws)
    await ws.send_str("{not json")
    assert (await receive(ws))["code"] == "invalid_message"
    await ws.send_str(json.dumps({"type": "request", "id": 7, "command": 3}))
    bad = await receive(ws)
    assert bad["type"] == "result" and bad["id"] == 7 and bad["error"]["code"] == "invalid_message"
    await ws.send_str(json.dumps([1, 2]))
    assert (await receive(ws))["type"] == "error"
    unknown = await request(ws, 8, "launch_rockets")
    assert unknown["error"]["code"] == "unknown_command"
    invalid = await request(ws, 9, "place_call", {"target": ""})
    assert invalid["error"]["code"] == "invalid_data" and "target" in invalid["error"]["message"]
    extra = await request(ws, 10, "send_dtmf", {"call_id": "x", "digits": "12x"})
    assert extra["error"]["code"] == "invalid_data" and "digits" in extra["error"]["message"]
    missing = await request(ws, 11, "hang_up", {"call_id": "nope"})
    assert missing["error"]["code"] == "not_found"
    assert (await request(ws, 12, "ping"))["success"] is True
    await ws.close()


async def test_place_call_events_reach_every_client_in_order(client: TestClient[Any, Any], rig: Rig) -> None:
    first, second = await connect(client), await connect(client)
    await receive(first)
    await receive(second)
    emergency = await request(first, 1, "place_call", {"target": "911"})
    assert emergency["error"]["code"] == "emergency_number"
    placed = await request(first, 2, "place_call", {"target": "sip:bank@127.0.0.1", "transfer_to": "sip:me@h"})
    assert placed["success"] is True
    call_id = placed["data"]["call_id"]
    await settle()
    events = []
    while len(events) < 3:
        frame = await receive(second)
        if frame["type"] == "event":
            events.append(frame)
    assert [e["data"]["state"] for e in events] == ["dialing", "ringing", "ivr"]
    assert all(e["data"]["call_id"] == call_id for e in events)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    busy = await request(first, 3, "place_call", {"target": "sip:bank@127.0.0.1"})
    assert busy["success"] is True
    too_many = await request(first, 4, "place_call", {"target": "sip:bank@127.0.0.1"})
    assert too_many["error"]["code"] == "too_many_calls"
    snapshot = await request(second, 5, "get_snapshot")
    assert len(snapshot["data"]["calls"]) == 2
    await first.close()
    await second.close()


async def test_call_flow_commands(client: TestClient[Any, Any]) -> None:
    ws = await connect(client)
    await receive(ws)
    flow = {"id": "bank-cards", "name": "Bank", "company": "bank", "steps": [{"kind": "dtmf", "digits": "12"}]}
    saved = await request(ws, 1, "save_call_flow", {"flow": flow})
    assert saved["success"] is True
    bad = await request(ws, 2, "save_call_flow", {"flow": {**flow, "steps": [{"kind": "dtmf"}]}})
    assert bad["error"]["code"] == "invalid_data" and "steps" in bad["error"]["message"]
    listed = await request(ws, 3, "list_call_flows")
    assert [f["id"] for f in listed["data"]["flows"]] == ["bank-cards"]
    got = await request(ws, 4, "get_call_flow", {"id": "bank-cards"})
    assert got["data"]["flow"]["steps"][0]["digits"] == "12"
    assert (await request(ws, 5, "delete_call_flow", {"id": "bank-cards"}))["success"] is True
    assert (await request(ws, 6, "get_call_flow", {"id": "bank-cards"}))["error"]["code"] == "not_found"
    history = await request(ws, 7, "get_history", {"limit": 5})
    assert history["data"] == {"calls": [], "stats": [], "next_cursor": None}
    await ws.close()


async def test_a_slow_client_is_disconnected_not_buffered(
    client: TestClient[Any, Any], rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "OUTGOING_QUEUE", 4)
    ws = await connect(client)
    await receive(ws)
    for i in range(50):  # published faster than the socket is read
        rig.manager.publish("call_state", {"n": i})
    frames = []
    while True:
        msg = await asyncio.wait_for(ws.receive(), 5)
        if msg.type is not WSMsgType.TEXT:
            break
        frames.append(msg)
    assert len(frames) <= 5
    assert ws.close_code == 1013


async def test_health_needs_no_token(client: TestClient[Any, Any]) -> None:
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_history_commands_refuse_hostile_data(client: TestClient[Any, Any], rig: Rig) -> None:
    ws = await connect(client)
    await receive(ws)
    cases = [
        ("get_history", {"limit": 0}, "invalid_data"),
        ("get_history", {"cursor": ""}, "invalid_data"),
        ("get_history", {"cursor": "x" * 65}, "invalid_data"),
        ("get_history", {"since": "yesterday-ish"}, "invalid_data"),
        ("get_history", {"company": "x" * 500}, "invalid_data"),
        ("get_call", {"call_id": "nope"}, "not_found"),
        ("get_call", {"call_id": "c", "after_seq": -1}, "invalid_data"),
        ("get_statistics", {"time_zone": "Mars/Olympus"}, "invalid_data"),
        ("get_statistics", {"time_zone": "../../etc/passwd"}, "invalid_data"),
        ("get_forecast", {}, "invalid_data"),
        ("fetch_recording", {"call_id": "c", "name": "../../hold_slayer.sqlite3"}, "invalid_data"),
        ("fetch_recording", {"call_id": "c", "name": "c-mix.wav"}, "not_found"),
    ]
    for rid, (command, data, code) in enumerate(cases, 1):
        answer = await request(ws, rid, command, data)
        assert answer["success"] is False and answer["error"]["code"] == code, (command, data, answer)
    ok = await request(ws, 99, "get_forecast", {"company": "Bank", "time_zone": "Europe/Berlin"})
    assert ok["data"]["enough_data"] is False and ok["data"]["time_zone"] == "Europe/Berlin"
    assert (await request(ws, 100, "get_statistics", {}))["data"] == {"time_zone": "UTC", "companies": []}
    unknown = await request(ws, 101, "get_history", {"cursor": "no-such-call"})
    assert unknown["data"]["calls"] == []  # a cursor naming no call is the end of the list, not an error
    await ws.close()

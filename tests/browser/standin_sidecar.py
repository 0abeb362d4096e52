"""A protocol-true stand-in for the sidecar: speaks the real wire protocol, but the test scripts the call.

Used by the browser test while the real sidecar (``python -m hold_slayer_sidecar``) cannot yet run a
simulated company. It answers hello/requests exactly as ``protocol.py`` describes and records every
request, so a click in the card can be checked all the way down the wire.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from custom_components.hold_slayer import protocol


def now_iso(offset_s: float = 0.0) -> str:
    """ISO 8601 UTC timestamp, optionally in the past."""
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() - offset_s, UTC).isoformat()


@dataclass
class StandinSidecar:
    """One websocket server on 127.0.0.1 with an ephemeral port."""

    token: str
    calls: dict[str, protocol.CallInfo] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _seq: int = 0
    _runner: web.AppRunner | None = None
    request_seen: asyncio.Event = field(default_factory=asyncio.Event)
    # The past: get_history rows, get_call answers by id, recording bytes by file name.
    history: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    recordings: dict[str, bytes] = field(default_factory=dict)
    # The inbound half (issue #18): None for a sidecar without it; else the snapshot's "inbound" section.
    inbound: dict[str, Any] | None = None
    voicemails: list[dict[str, Any]] = field(default_factory=list)

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_get(protocol.WS_PATH, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Close every connection and the server."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _snapshot(self) -> protocol.Snapshot:
        snapshot: protocol.Snapshot = {
            "sidecar": {"version": "standin", "sip_registered": True, "max_calls": 2, "engines": {}},
            "calls": list(self.calls.values()),
        }
        if self.inbound is not None:
            snapshot["inbound"] = copy.deepcopy(self.inbound)  # type: ignore[typeddict-item]
        return snapshot

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        hello = protocol.decode(await ws.receive_str())
        if hello.get("token") != self.token:
            await ws.send_str(protocol.encode(protocol.error(protocol.ErrorCode.INVALID_AUTH, "bad token")))
            await ws.close(code=protocol.CLOSE_INVALID_AUTH)
            return ws
        welcome = {
            "type": "welcome",
            "protocol": protocol.PROTOCOL_VERSION,
            "sidecar_version": "standin",
            "capabilities": [],
            "snapshot": self._snapshot(),
        }
        await ws.send_str(protocol.encode(welcome))
        self._sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._answer(ws, protocol.decode(msg.data))
        finally:
            self._sockets.discard(ws)
        return ws

    async def _answer(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        command, data, request_id = message["command"], message.get("data", {}), message["id"]
        self.requests.append({"command": command, "data": data})
        self.request_seen.set()
        result: dict[str, Any] = {}
        if command == protocol.Command.GET_SNAPSHOT:
            result = dict(self._snapshot())
        elif command == protocol.Command.PLACE_CALL:
            result = {"call_id": f"call-{len(self.calls) + 1}"}
        elif command == protocol.Command.GET_HISTORY:
            result = {"calls": self.history, "next_cursor": None}
        elif command == protocol.Command.GET_STATISTICS:
            result = {"time_zone": data.get("time_zone", "UTC"), "companies": []}
        elif command == protocol.Command.GET_FORECAST:
            result = {"company": data.get("company"), "calls": 0, "now": None, "best": None, "enough_data": False}
        elif command in _INBOUND_ANSWERS:
            result = self._inbound_answer(command)
        elif command in (protocol.Command.GET_CALL, protocol.Command.FETCH_RECORDING):
            found = self._past(command, data)
            if found is None:
                await ws.send_str(protocol.encode(protocol.result_error(request_id, "not_found", "no such call")))
                return
            result = found
        await ws.send_str(protocol.encode(protocol.result_ok(request_id, result)))

    def _inbound_answer(self, command: str) -> dict[str, Any]:
        inbound = self.inbound or {}
        if command == protocol.Command.LIST_DEVICES:
            return {
                "devices": copy.deepcopy(inbound.get("devices", [])),
                "global_dnd": inbound.get("global_dnd", False),
            }
        if command == protocol.Command.LIST_RULES:
            return {"rules": []}
        if command == protocol.Command.LIST_VOICEMAILS:
            unheard = sum(1 for v in self.voicemails if not v.get("heard"))
            return {"voicemails": copy.deepcopy(self.voicemails), "next_cursor": None, "unheard": unheard}
        return {}  # answer_inbound, reject_inbound, mark_voicemail: recorded; the test pushes what follows

    def _past(self, command: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if command == protocol.Command.GET_CALL:
            return copy.deepcopy(self.details.get(str(data.get("call_id"))))
        body = self.recordings.get(str(data.get("name")))
        if body is None:
            return None
        offset = int(data.get("offset", 0))
        chunk = body[offset : offset + protocol.RECORDING_CHUNK_BYTES]
        return {
            "name": data["name"],
            "size": len(body),
            "offset": offset,
            "length": len(chunk),
            "eof": offset + len(chunk) >= len(body),
            "content_type": "audio/wav",
            "data": base64.b64encode(chunk).decode("ascii"),
        }

    async def push(self, name: str, data: dict[str, Any]) -> None:
        """Send one event to every connected client (and fold call fields into our snapshot)."""
        call_id = data.get("call_id")
        if isinstance(call_id, str) and name not in _INBOUND_EVENTS:
            call = self.calls.setdefault(call_id, new_call(call_id, "", None))
            for key, value in data.items():
                if key in protocol.CallInfo.__annotations__:
                    call[key] = value  # type: ignore[literal-required]
        self._seq += 1
        frame = protocol.encode(protocol.event(self._seq, name, data))
        for ws in list(self._sockets):
            await ws.send_str(frame)

    async def wait_for_command(self, command: str, within_s: float = 10.0) -> dict[str, Any]:
        """Return the first recorded request of ``command``, waiting for it if needed."""
        async with asyncio.timeout(within_s):
            while True:
                for seen in self.requests:
                    if seen["command"] == command:
                        return seen
                self.request_seen.clear()
                await self.request_seen.wait()


_INBOUND_ANSWERS = frozenset(
    {
        protocol.Command.LIST_DEVICES,
        protocol.Command.LIST_RULES,
        protocol.Command.LIST_VOICEMAILS,
        protocol.Command.ANSWER_INBOUND,
        protocol.Command.REJECT_INBOUND,
        protocol.Command.MARK_VOICEMAIL,
    }
)
_INBOUND_EVENTS = frozenset(
    {
        protocol.EventType.INCOMING_CALL,
        protocol.EventType.INBOUND_STATE,
        protocol.EventType.INBOUND_ANSWERED,
        protocol.EventType.INBOUND_REJECTED,
        protocol.EventType.ROBOCALL_BLOCKED,
        protocol.EventType.VOICEMAIL,
    }
)


def new_call(call_id: str, target: str, company: str | None) -> protocol.CallInfo:
    """A fresh call record as the sidecar reports one."""
    started = now_iso()
    return {
        "call_id": call_id,
        "target": target,
        "company": company,
        "intent": None,
        "department": None,
        "state": protocol.CallState.DIALING.value,
        "started_at": started,
        "state_since": started,
        "hold_started_at": None,
        "hold_seconds": 0.0,
        "human_detected_at": None,
        "transfer_to": None,
        "digits_sent": "",
        "outcome": None,
        "reason": None,
        "recordings": [],
    }

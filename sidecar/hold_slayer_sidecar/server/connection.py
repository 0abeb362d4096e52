"""One client's websocket: handshake, a bounded outgoing queue, and request handling."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from .. import protocol
from ..protocol import ErrorCode, MessageType, ProtocolError
from .commands import CallService, CommandError, dispatch
from .hub import EventHub

_LOGGER = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 5.0
OUTGOING_QUEUE = 512  # frames; a client further behind than this is disconnected, not buffered forever
MAX_CONCURRENT_REQUESTS = 8
CAPABILITIES = ["place_call", "call_flows", "history", "dtmf", "probe", "recordings"]


class ClientConnection:
    """Serves one websocket until it closes."""

    def __init__(
        self, ws: web.WebSocketResponse, *, service: CallService, hub: EventHub, token: str, version: str
    ) -> None:
        self._ws = ws
        self._service = service
        self._hub = hub
        self._token = token
        self._version = version
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(OUTGOING_QUEUE)
        self._overflowed = False
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self._requests: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        """Handshake, then answer requests and stream events until the socket closes."""
        if not await self._handshake():
            return
        remove = self._hub.add(self._enqueue)
        writer = asyncio.get_running_loop().create_task(self._write_loop())
        try:
            await self._read_loop()
        finally:
            remove()
            writer.cancel()
            for task in list(self._requests):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await self._ws.close()

    # ------------------------------------------------------------ handshake

    async def _handshake(self) -> bool:
        try:
            msg = await self._ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            await self._refuse(ErrorCode.INVALID_MESSAGE, "no hello received in time", protocol.CLOSE_HANDSHAKE_TIMEOUT)
            return False
        refusal = self._check_hello(msg)
        if refusal is not None:
            await self._refuse(*refusal)
            return False
        # Snapshot and registration happen in the same loop turn, so no event is missed or duplicated.
        welcome = {
            "type": MessageType.WELCOME,
            "protocol": protocol.PROTOCOL_VERSION,
            "sidecar_version": self._version,
            "capabilities": CAPABILITIES,
            "snapshot": self._service.snapshot(),
        }
        self._outgoing.put_nowait(protocol.encode(welcome))
        return True

    def _check_hello(self, msg: WSMessage) -> tuple[ErrorCode, str, int] | None:
        """Return why the first frame is refused (error code, message, close code), or None to accept it."""
        if msg.type is not WSMsgType.TEXT:
            return ErrorCode.INVALID_MESSAGE, "expected a hello text frame", protocol.CLOSE_INVALID_AUTH
        try:
            hello = protocol.decode(msg.data)
        except ProtocolError as err:
            return ErrorCode(err.code), err.message, protocol.CLOSE_INVALID_AUTH
        if hello["type"] != MessageType.HELLO:
            return ErrorCode.INVALID_MESSAGE, "the first message must be hello", protocol.CLOSE_INVALID_AUTH
        # Constant-time comparison: the token is the only thing between the network and the phone line.
        if not hmac.compare_digest(hello["token"].encode(), self._token.encode()):
            return ErrorCode.INVALID_AUTH, "invalid token", protocol.CLOSE_INVALID_AUTH
        if hello["protocol"] != protocol.PROTOCOL_VERSION:
            message = f"client speaks protocol {hello['protocol']}, sidecar speaks {protocol.PROTOCOL_VERSION}"
            return ErrorCode.VERSION_MISMATCH, message, protocol.CLOSE_VERSION_MISMATCH
        _LOGGER.info("client %r connected", hello.get("client", "?"))
        return None

    async def _refuse(self, code: ErrorCode, message: str, close_code: int) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.send_str(protocol.encode(protocol.error(code, message)))
        await self._ws.close(code=close_code, message=message.encode()[:120])

    # ------------------------------------------------------------ outgoing

    def _enqueue(self, frame: str) -> bool:
        """Queue a frame; on overflow mark the client for disconnection and return False."""
        if self._overflowed:
            return False
        try:
            self._outgoing.put_nowait(frame)
        except asyncio.QueueFull:
            self._overflowed = True
            asyncio.get_running_loop().create_task(self._drop_slow_client())
            return False
        return True

    async def _drop_slow_client(self) -> None:
        await self._ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"client too slow for events")

    async def _write_loop(self) -> None:
        while True:
            frame = await self._outgoing.get()
            try:
                await self._ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    # ------------------------------------------------------------ incoming

    async def _read_loop(self) -> None:
        async for msg in self._ws:
            if msg.type is WSMsgType.TEXT:
                self._on_text(msg.data)
            elif msg.type is WSMsgType.BINARY:
                self._enqueue(protocol.encode(protocol.error(ErrorCode.INVALID_MESSAGE, "binary frames are not used")))
            elif msg.type is WSMsgType.ERROR:
                break

    def _on_text(self, raw: str) -> None:
        try:
            message = protocol.decode(raw)
        except ProtocolError as err:
            self._answer_malformed(raw, err)
            return
        if message["type"] != MessageType.REQUEST:
            self._enqueue(protocol.encode(protocol.error(ErrorCode.INVALID_MESSAGE, "only requests are accepted")))
            return
        task = asyncio.get_running_loop().create_task(self._handle(message))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    def _answer_malformed(self, raw: str, err: ProtocolError) -> None:
        """Answer with a result when the frame carried a usable id, else with an error frame."""
        request_id = _salvage_id(raw)
        if request_id is not None:
            self._enqueue(protocol.encode(protocol.result_error(request_id, err.code, err.message)))
        else:
            self._enqueue(protocol.encode(protocol.error(err.code, err.message)))

    async def _handle(self, message: dict[str, Any]) -> None:
        request_id: int = message["id"]
        async with self._slots:
            try:
                data = await dispatch(self._service, message["command"], message.get("data") or {})
            except CommandError as err:
                frame = protocol.result_error(request_id, err.code, err.message)
            except Exception as err:  # a bug in one command must not take the connection or a call down
                _LOGGER.exception("command %s failed", message["command"])
                frame = protocol.result_error(request_id, ErrorCode.INTERNAL_ERROR, f"internal error: {err}")
            else:
                frame = protocol.result_ok(request_id, data)
        self._enqueue(protocol.encode(frame))


def _salvage_id(raw: str) -> int | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("type") == MessageType.REQUEST:
        value = message.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None

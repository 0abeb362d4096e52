"""One client's websocket: handshake, a bounded outgoing queue, and request handling."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from .. import protocol
from ..protocol import ErrorCode, MessageType, ProtocolError
from .commands import CallService, CommandError, dispatch
from .hello_limit import HelloLimiter
from .hub import EventHub

_LOGGER = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 5.0
OUTGOING_QUEUE = 512  # frames; a client further behind than this is disconnected, not buffered forever
MAX_CONCURRENT_REQUESTS = 8
# Requests accepted but not answered yet (running or waiting for one of the slots above). Each may hold a
# parsed message of up to MAX_MESSAGE_BYTES, so a client that floods requests is told to wait instead.
MAX_QUEUED_REQUESTS = 64
CAPABILITIES = ["place_call", "call_flows", "history", "dtmf", "probe", "recordings"]


class ClientConnection:
    """Serves one websocket until it closes."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        service: CallService,
        hub: EventHub,
        token: str,
        version: str,
        remote: str = "?",
        limiter: HelloLimiter | None = None,
        on_authenticated: Callable[[], None] = lambda: None,
        sidecar_id: str | None = None,
    ) -> None:
        self._ws = ws
        self._sidecar_id = sidecar_id
        self._remote = remote
        self._limiter = limiter
        self._on_authenticated = on_authenticated
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
        if self._limiter is not None and (wait := self._limiter.retry_after(self._remote)) > 0:
            # Refused before the hello is read: the token is not even compared while the address cools down.
            message = f"too many failed hellos from {self._remote}: try again in {wait:.0f} s"
            await self._refuse(ErrorCode.TRY_AGAIN_LATER, message, WSCloseCode.TRY_AGAIN_LATER)
            return False
        try:
            msg = await self._ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            await self._refuse(ErrorCode.INVALID_MESSAGE, "no hello received in time", protocol.CLOSE_HANDSHAKE_TIMEOUT)
            return False
        refusal = self._check_hello(msg)
        if refusal is not None:
            if self._limiter is not None and refusal[0] is not ErrorCode.VERSION_MISMATCH:
                self._limiter.failed(self._remote)
            await self._refuse(*refusal)
            return False
        if self._limiter is not None:
            self._limiter.succeeded(self._remote)
        self._on_authenticated()
        # Snapshot and registration happen in the same loop turn, so no event is missed or duplicated.
        welcome = {
            "type": MessageType.WELCOME,
            "protocol": protocol.PROTOCOL_VERSION,
            "sidecar_version": self._version,
            "capabilities": CAPABILITIES,
            "snapshot": self._service.snapshot(),
        }
        if self._sidecar_id is not None:
            welcome["sidecar_id"] = self._sidecar_id  # persistent: Home Assistant's unique id for this sidecar
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
            except UnicodeEncodeError:  # a lone surrogate from somewhere inside: lose the frame, not the client
                _LOGGER.error("dropped a frame that is not valid UTF-8: %.80r", frame)

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
            self._answer_error(err.request_id, err.code, err.message)
            return
        if message["type"] != MessageType.REQUEST:
            self._answer_error(None, ErrorCode.INVALID_MESSAGE, "only requests are accepted")
            return
        if len(self._requests) >= MAX_QUEUED_REQUESTS:
            message_text = f"{MAX_QUEUED_REQUESTS} requests are already waiting for an answer"
            self._answer_error(message["id"], ErrorCode.TRY_AGAIN_LATER, message_text)
            return
        task = asyncio.get_running_loop().create_task(self._handle(message))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    def _answer_error(self, request_id: int | None, code: str, message: str) -> None:
        """Answer with a failed result when the frame carried a usable id, else with an error frame."""
        if request_id is not None:
            self._enqueue(protocol.encode(protocol.result_error(request_id, code, message)))
        else:
            self._enqueue(protocol.encode(protocol.error(code, message)))

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
        self._enqueue(_bounded(request_id, protocol.encode(frame)))


def _bounded(request_id: int, encoded: str) -> str:
    """Return the result frame, or a failed result when it would exceed what the client accepts."""
    if protocol.fits_frame(encoded):
        return encoded
    _LOGGER.error("result of request %d is %d characters, over the frame limit", request_id, len(encoded))
    message = f"the result exceeds {protocol.MAX_MESSAGE_BYTES} bytes; ask for a smaller page"
    return protocol.encode(protocol.result_error(request_id, ErrorCode.INTERNAL_ERROR, message))

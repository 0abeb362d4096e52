"""The aiohttp application: the websocket at protocol.WS_PATH and an unauthenticated /health."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass, field

from aiohttp import web

from .. import protocol
from .commands import CallService
from .connection import ClientConnection
from .guard import ConnectionGuard, ConnectionLimits, GuardedSite
from .hello_limit import HelloLimiter, HelloLimits
from .hub import EventHub

_LOGGER = logging.getLogger(__name__)

GUARD: web.AppKey[ConnectionGuard] = web.AppKey("guard", ConnectionGuard)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Every bound the server puts on clients before and after they authenticate."""

    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    hellos: HelloLimits = field(default_factory=HelloLimits)


def check_token(token: str) -> None:
    """Raise ValueError for a token too short to withstand guessing."""
    if len(token) < protocol.MIN_TOKEN_LENGTH:
        raise ValueError(f"the token must have at least {protocol.MIN_TOKEN_LENGTH} characters, it has {len(token)}")


def build_app(
    service: CallService,
    hub: EventHub,
    *,
    token: str,
    version: str,
    limits: ServerLimits | None = None,
    sidecar_id: str | None = None,
) -> web.Application:
    """Build the application serving clients of ``service``; events published on ``hub`` reach every client."""
    check_token(token)
    limits = limits or ServerLimits()
    app = web.Application()
    guard = ConnectionGuard(limits.connections)
    app[GUARD] = guard
    limiter = HelloLimiter(limits.hellos)
    connections: set[asyncio.Task[None]] = set()

    async def websocket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=protocol.MAX_MESSAGE_BYTES, heartbeat=30)
        await ws.prepare(request)
        transport = request.transport
        connection = ClientConnection(
            ws,
            service=service,
            hub=hub,
            token=token,
            version=version,
            remote=request.remote or "?",
            limiter=limiter,
            on_authenticated=lambda: guard.authenticated(transport),
            sidecar_id=sidecar_id,
        )
        task = asyncio.current_task()
        if task is not None:
            connections.add(task)
        try:
            await connection.serve()
        finally:
            if task is not None:
                connections.discard(task)
        return ws

    async def health(request: web.Request) -> web.Response:
        # No data on purpose: anyone on the network may ask whether the sidecar is up, nothing more.
        return web.json_response({"status": "ok"})

    async def close_clients(app: web.Application) -> None:
        for task in list(connections):
            task.cancel()

    app.router.add_get(protocol.WS_PATH, websocket)
    app.router.add_get("/health", health)
    app.on_shutdown.append(close_clients)
    return app


class SidecarServer:
    """Runs the application on a host and port (port 0 picks a free one), behind its connection guard."""

    def __init__(
        self, app: web.Application, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._guard = app[GUARD]
        self._runner = web.AppRunner(app, handle_signals=False)
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self.port = 0

    @property
    def guard(self) -> ConnectionGuard:
        """The bound on unauthenticated connections (for logs and tests)."""
        return self._guard

    async def start(self) -> None:
        """Bind and serve."""
        await self._runner.setup()
        site = GuardedSite(self._runner, self._host, self._port, self._guard, ssl_context=self._ssl_context)
        await site.start()
        self.port = site.bound_port

    async def stop(self) -> None:
        """Close every client and stop listening."""
        await self._runner.cleanup()

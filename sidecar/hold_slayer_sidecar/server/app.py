"""The aiohttp application: the websocket at protocol.WS_PATH and an unauthenticated /health."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from .. import protocol
from .commands import CallService
from .connection import ClientConnection
from .hub import EventHub

_LOGGER = logging.getLogger(__name__)


def build_app(service: CallService, hub: EventHub, *, token: str, version: str) -> web.Application:
    """Build the application serving clients of ``service``; events published on ``hub`` reach every client."""
    if not token:
        raise ValueError("a token is required")
    app = web.Application()
    connections: set[asyncio.Task[None]] = set()

    async def websocket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=protocol.MAX_MESSAGE_BYTES, heartbeat=30)
        await ws.prepare(request)
        connection = ClientConnection(ws, service=service, hub=hub, token=token, version=version)
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
    """Runs the application on a host and port (port 0 picks a free one)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, handle_signals=False)
        self._host = host
        self._port = port
        self.port = 0

    async def start(self) -> None:
        """Bind and serve."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self._port

    async def stop(self) -> None:
        """Close every client and stop listening."""
        await self._runner.cleanup()

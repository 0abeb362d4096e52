"""Bounds connections that have not authenticated yet: how many may be open and how long each may take.

aiohttp gives no hook before a request's headers are complete, and its idle timer does not bound a request
that trickles in. So the guard wraps the protocol the listening socket builds for each connection: it
counts the connection from the moment TCP accepts it until the websocket hello succeeds, aborts it when
that takes longer than the handshake deadline, and, over the cap, aborts the connection that has been
waiting longest. A flood of idle or half-sent connections then holds at most ``max_pending`` file
descriptors, and a legitimate client, whose handshake takes milliseconds, still gets in.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How many unauthenticated connections may wait, and for how long."""

    # Home Assistant holds one connection; tools and a reconnect overlap add a few. 32 is far above that
    # and bounds the file descriptors a flood can hold.
    max_pending: int = 32
    # From TCP accept to the accepted hello. A client on the LAN needs milliseconds; 10 s also covers a busy
    # host and three lost segments (retransmission after 1, 2 and 4 s, RFC 6298's initial RTO).
    handshake_timeout_s: float = 10.0


class ConnectionGuard:
    """Counts connections from accept to authentication and aborts the late and the excess ones."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        # Insertion order is arrival order: the first entry is the one that has waited longest.
        self._pending: OrderedDict[asyncio.BaseTransport, asyncio.TimerHandle] = OrderedDict()
        self.refused = 0  # connections aborted for the cap or the deadline (for logs and tests)

    @property
    def pending(self) -> int:
        """Connections accepted but not authenticated."""
        return len(self._pending)

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """Return a protocol factory whose connections are guarded."""
        return lambda: _GuardedProtocol(factory(), self)

    def authenticated(self, transport: asyncio.BaseTransport | None) -> None:
        """Stop counting a connection whose hello succeeded, and drop its deadline."""
        if transport is not None and (timer := self._pending.pop(transport, None)) is not None:
            timer.cancel()

    def _admit(self, transport: asyncio.BaseTransport) -> None:
        while len(self._pending) >= self.limits.max_pending:
            oldest, timer = self._pending.popitem(last=False)
            timer.cancel()
            self._abort(oldest, "too many connections without a hello")
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.limits.handshake_timeout_s, self._expire, transport)
        self._pending[transport] = timer

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        if self._pending.pop(transport, None) is not None:
            self._abort(transport, "no hello within the handshake deadline")

    def _forget(self, transport: asyncio.BaseTransport) -> None:
        if (timer := self._pending.pop(transport, None)) is not None:
            timer.cancel()

    def _abort(self, transport: asyncio.BaseTransport, why: str) -> None:
        self.refused += 1
        _LOGGER.debug("closing %s: %s", transport.get_extra_info("peername"), why)
        if isinstance(transport, asyncio.Transport):
            transport.abort()  # no lingering close: the descriptor is released now
        else:
            transport.close()


class _GuardedProtocol(asyncio.Protocol):
    """Passes every transport callback to aiohttp's own protocol, telling the guard of arrival and departure."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._guard._admit(transport)
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._guard._forget(self._transport)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class GuardedSite(web.BaseSite):
    """A TCP site like ``web.TCPSite`` whose connections pass through a ``ConnectionGuard``."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        guard: ConnectionGuard,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(runner, backlog=128, ssl_context=ssl_context)
        self._host = host
        self._port = port
        self._guard = guard
        self.bound_port = port

    @property
    def name(self) -> str:
        """Where the site listens."""
        return f"{'https' if self._ssl_context else 'http'}://{self._host}:{self.bound_port}"

    async def start(self) -> None:
        """Listen."""
        await super().start()
        server = self._runner.server
        if server is None:
            raise RuntimeError("the runner is not set up")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._guard.wrap(server), self._host, self._port, backlog=self._backlog, ssl=self._ssl_context
        )
        if self._server.sockets:
            self.bound_port = int(self._server.sockets[0].getsockname()[1])

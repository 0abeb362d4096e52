"""Shared test helpers: sample calls and a fake sidecar client with the real client's interface."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any
from unittest.mock import AsyncMock

from custom_components.hold_slayer.client import HoldSlayerConnectionError, HoldSlayerError, SidecarEvent, Welcome
from custom_components.hold_slayer.protocol import PROTOCOL_VERSION, CallInfo, Snapshot

HOST = "127.0.0.1"
PORT = 8765
TOKEN = "s3cret-token-of-24-characters"
SIDECAR_VERSION = "0.1.0"


def make_call(call_id: str = "call-1", **overrides: Any) -> CallInfo:
    """Return a call as the sidecar reports it (on hold at Acme Bank by default)."""
    call: dict[str, Any] = {
        "call_id": call_id,
        "target": "+18005550100",
        "company": "Acme Bank",
        "intent": "dispute a charge",
        "department": "card services",
        "state": "hold",
        "started_at": "2026-11-21T10:00:00+00:00",
        "state_since": "2026-11-21T10:01:30+00:00",
        "hold_started_at": "2026-11-21T10:01:30+00:00",
        "hold_seconds": 95.4,
        "human_detected_at": None,
        "transfer_to": "sip:me@192.168.1.20",
        "digits_sent": "12",
        "outcome": None,
        "reason": None,
        "recordings": [],
    }
    call.update(overrides)
    return call  # type: ignore[return-value]


def make_snapshot(*calls: CallInfo) -> Snapshot:
    """Return a snapshot holding ``calls``."""
    return {
        "sidecar": {
            "version": SIDECAR_VERSION,
            "sip_registered": True,
            "max_calls": 2,
            "engines": {"stt": "ok", "tts": "ok", "vad": "ok"},
        },
        "calls": list(calls),
    }


class FakeHoldSlayerClient:
    """Stands in for HoldSlayerClient; tests drive connects, drops and events by hand."""

    def __init__(self, host: str = HOST, port: int = PORT, token: str = TOKEN, session: Any = None) -> None:
        self.host = host
        self.port = port
        self.url = f"ws://{host}:{port}/api/ws"
        self.connected = False
        self.snapshot: Snapshot = make_snapshot()
        self.sidecar_id: str | None = None
        self.tls_fingerprint: str | None = None  # what fetch_tls_fingerprint finds (None: plain ws://)
        self.sidecar_version = SIDECAR_VERSION
        self.connect_error: HoldSlayerError | None = None
        self.connect_count = 0
        self._subscribers: list[Callable[[SidecarEvent], None]] = []
        self._transitions: asyncio.Queue[HoldSlayerError | None] | None = None
        self._seq = 0
        self.place_call = AsyncMock(return_value="call-2")
        self.hang_up = AsyncMock(return_value=None)
        self.send_dtmf = AsyncMock(return_value=None)
        self.save_call_flow = AsyncMock(return_value={"id": "acme"})
        self.delete_call_flow = AsyncMock(return_value=None)
        self.get_snapshot = AsyncMock(side_effect=lambda: copy.deepcopy(self.snapshot))

    async def connect(self) -> Welcome:
        """Pretend to handshake: fail with ``connect_error`` or welcome with ``snapshot``."""
        self.connect_count += 1
        if self.connect_error is not None:
            raise self.connect_error
        self.connected = True
        return Welcome(
            protocol=PROTOCOL_VERSION,
            sidecar_version=self.sidecar_version,
            capabilities=("dtmf",),
            snapshot=copy.deepcopy(self.snapshot),
            sidecar_id=self.sidecar_id,
        )

    async def fetch_tls_fingerprint(self, host: str, port: int) -> str | None:
        """Stand in for client.fetch_tls_fingerprint: fail like ``connect`` would, else the fingerprint."""
        if isinstance(self.connect_error, HoldSlayerConnectionError):
            raise self.connect_error
        return self.tls_fingerprint

    async def disconnect(self) -> None:
        """Forget the connection."""
        self.connected = False

    def subscribe_events(self, callback: Callable[[SidecarEvent], None]) -> Callable[[], None]:
        """Register an event callback."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def listen(
        self,
        *,
        on_connected: Callable[[Welcome], None],
        on_disconnected: Callable[[HoldSlayerError], None],
    ) -> None:
        """Apply the transitions tests queue with ``drop`` and ``restore``, until cancelled."""
        self._transitions = asyncio.Queue()
        while True:
            error = await self._transitions.get()
            if error is not None:
                self.connected = False
                on_disconnected(error)
                continue
            try:
                welcome = await self.connect()
            except HoldSlayerError as err:
                on_disconnected(err)
            else:
                on_connected(welcome)

    # -- test controls --------------------------------------------------------------------------

    def emit(self, name: str, data: dict[str, Any], seq: int | None = None) -> None:
        """Push an event to subscribers as the reader task would."""
        self._seq = seq if seq is not None else self._seq + 1
        for callback in list(self._subscribers):
            callback(SidecarEvent(seq=self._seq, name=name, data=data))

    def drop(self, error: HoldSlayerError | None = None) -> None:
        """Simulate the connection dropping (or a reconnect attempt failing with ``error``)."""
        assert self._transitions is not None, "listener not started"
        self._transitions.put_nowait(error or HoldSlayerConnectionError("connection lost"))

    def restore(self) -> None:
        """Simulate a successful reconnect (welcome carries ``snapshot``)."""
        assert self._transitions is not None, "listener not started"
        self._transitions.put_nowait(None)

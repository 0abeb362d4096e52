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
            "engines": {
                "stt": "ok",
                "tts": "ok",
                "llm": "not configured",
                "sip_workers": "ok",
                "edge": "unavailable: kamailio is restarting",
            },
            "registration": {
                "state": "failed",
                "code": 403,
                "reason": "the registrar rejected the password (403)",
                "registrar": "sip.example.com:5060",
            },
        },
        "calls": list(calls),
    }


ACME_STATISTICS: dict[str, Any] = {
    "company": "Acme Bank",
    "calls": 5,
    "reached_person": 4,
    "success_rate": 0.8,
    "hold_median_s": 1320.0,
    "hold_p90_s": 2400.0,
    "hold_calls": 5,
    "last_hold_s": 900.0,
    "last_call_at": "2026-11-30T15:00:00Z",
    "by_weekday_hour": {"mon": {"09": {"calls": 3, "median_s": 1500.0, "p90_s": 1800.0}}},
}
HISTORY_CALL: dict[str, Any] = {
    "call_id": "call-1",
    "target": "+18005550100",
    "company": "Acme Bank",
    "started_at": "2026-11-30T15:00:00Z",
    "ended_at": "2026-11-30T15:30:00Z",
    "duration_s": 1800.0,
    "hold_seconds": 900.0,
    "outcome": "connected",
    "status": "ended",
    "reference": "48219",
    "headline": "Spoke with Dana at Acme Bank; reference 48219",
}
CALL_DETAIL: dict[str, Any] = {
    "call": HISTORY_CALL,
    "transcript": [
        {
            "seq": 1,
            "speaker": "company",
            "offset_s": 2.0,
            "text": "Press 1 for cards.",
            "duration_s": None,
            "leg": "company",
        },
        {
            "seq": 2,
            "speaker": "agent",
            "offset_s": 905.0,
            "text": "Your ticket is 48219.",
            "duration_s": 3.0,
            "leg": "company",
        },
    ],
    "recordings": [{"name": "call-1-mix.wav", "leg": "mix", "offset_s": 904.0}],
    "summary": {"text": "Spoke with Dana", "reference": "48219", "commitments": []},
    "more_transcript": False,
}


def forecast_for(company: str) -> dict[str, Any]:
    """What the sidecar answers for a company (Acme Bank has enough calls, others do not)."""
    if company != "Acme Bank":
        return {
            "company": company,
            "calls": 0,
            "now": None,
            "best": None,
            "enough_data": False,
            "text": "not enough data",
        }
    return {
        "company": company,
        "calls": 5,
        "now": {"minutes": 25, "calls": 3, "basis": "same weekday and hour"},
        "best": {"at": "2026-12-01T14:00-05:00", "minutes": 6, "calls": 3, "basis": "same weekday and hour"},
        "enough_data": True,
        "text": "calling now: about 25 min (3 calls, same weekday and hour); Tue 14:00: about 6 min (3 calls)",
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
        self.get_statistics = AsyncMock(return_value={"time_zone": "UTC", "companies": [ACME_STATISTICS]})
        self.get_forecast = AsyncMock(side_effect=lambda company, zone: forecast_for(company))
        self.get_history = AsyncMock(return_value={"calls": [HISTORY_CALL], "next_cursor": None})
        self.get_call = AsyncMock(return_value=CALL_DETAIL)
        self.request = AsyncMock(return_value={})
        self.fetch_recording = AsyncMock(return_value=b"RIFF" + bytes(40) + bytes(range(256)) * 4)

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

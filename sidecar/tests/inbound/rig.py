"""A handler on fakes and a real SQLite file, with every published event kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hold_slayer_sidecar.inbound.directory import Directory
from hold_slayer_sidecar.inbound.handler import InboundCalls, InboundConfig, InboundEngines
from hold_slayer_sidecar.inbound.voicemail import VoicemailSettings
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.store.inbound import Device, InboundStore
from hold_slayer_sidecar.store.sqlite import Store

from .fakes import FakeRegistrar, FakeScreener, FakeStt, FakeTts, InboundSip


class Rig:
    """Everything a test drives and looks at."""

    def __init__(
        self, calls: InboundCalls, sip: InboundSip, store: InboundStore, events: list[tuple[str, Any]]
    ) -> None:
        self.calls = calls
        self.sip = sip
        self.store = store
        self.events = events
        self.tasks: list[asyncio.Task[None]] = []
        self.sinks: list[Callable[[str, dict[str, Any]], None]] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def data(self, name: str) -> list[dict[str, Any]]:
        return [data for event, data in self.events if event == name]

    async def device(self, name: str, address: str, priority: int, *, dnd: bool = False, ring_s: float = 1.0) -> str:
        """Add a device straight to the store (ring times shorter than the commands allow)."""
        device = Device(name, name, "sip_uri", address, priority, ring_s, dnd, created_at=time.time())
        await self.store.save_device(device)
        await self.calls.directory.load()
        return name

    async def call_in(self, remote: str = "sip:+18005551234@trunk", local: str = "sip:+15551230000@me") -> str:
        """An INVITE arrives; returns the caller's leg."""
        return self.sip.incoming(remote, local)

    async def settle(self) -> None:
        """Wait until every call handled so far has ended (5 s at most)."""
        async with asyncio.timeout(5):
            await asyncio.gather(*self.tasks)


@asynccontextmanager
async def rig(
    tmp_path: Path,
    *,
    screener: FakeScreener | None = None,
    registrar: FakeRegistrar | None = None,
    stt: FakeStt | None = None,
    tts: FakeTts | None = None,
    capacity: Callable[[str], int] | None = None,
    config: dict[str, Any] | None = None,
) -> AsyncIterator[Rig]:
    store = Store(tmp_path / "db.sqlite3")
    await store.open()
    inbound = InboundStore(store)
    sip = InboundSip()
    events: list[tuple[str, Any]] = []
    sinks: list[Callable[[str, dict[str, Any]], None]] = []

    def publish(name: str, data: dict[str, Any]) -> None:
        events.append((name, data))
        for sink in sinks:
            sink(name, data)

    directory = Directory(inbound, clock=time.time, publish=publish, time_zone=ZoneInfo("UTC"), registrar=registrar)
    engines = InboundEngines(
        sip=sip,
        store=inbound,
        tts=tts if tts is not None else FakeTts(),
        stt=stt if stt is not None else FakeStt(),
        screener=screener,
        registrar=registrar,
        capacity=capacity,
    )
    settings = VoicemailSettings(limit_s=5.0, silence_limit_s=0.5)
    cfg = InboundConfig(recordings_dir=tmp_path / "recordings", voicemail=settings, **(config or {}))
    calls = InboundCalls(engines, cfg, directory, clock=time.time, publish=publish)
    await calls.start()
    the_rig = Rig(calls, sip, inbound, events)
    the_rig.sinks = sinks  # more subscribers (a websocket hub)

    def on_event(event: LegEvent) -> None:  # what CallManager's inbound hook does
        if event.kind is LegEventKind.INCOMING:
            the_rig.tasks.append(asyncio.get_running_loop().create_task(calls(event)))

    sip.subscribe_events(on_event)
    try:
        yield the_rig
    finally:
        await calls.stop()
        await store.close()

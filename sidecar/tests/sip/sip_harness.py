"""Helpers for SIP engine tests: an event log and a peer engine in a subprocess (see sip_peer.py)."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine

if TYPE_CHECKING:  # importing the engine loads pjsua2, which stays out of the pytest process (pjsua_isolation.py)
    from hold_slayer_sidecar.sip.engine import PjsuaEngine

PEER_SCRIPT = Path(__file__).with_name("sip_peer.py")
TIMEOUT = 10.0

type Engine = PjsuaEngine | WorkerPoolEngine  # lazily evaluated: no import at run time
# Contract tests run over both engines: ``@BOTH_ENGINES`` on a test that takes the ``engine`` fixture.
BOTH_ENGINES = pytest.mark.parametrize("engine", ["direct", "pool"], indirect=True)


class EventLog:
    """Collects leg events and waits for a matching one (always with a timeout)."""

    def __init__(self) -> None:
        self.events: list[LegEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: LegEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait(self, kind: LegEventKind, leg_id: str | None = None, within: float = TIMEOUT) -> LegEvent:
        async def find() -> LegEvent:
            while True:
                for event in self.events:
                    if event.kind == kind and (leg_id is None or event.leg_id == leg_id):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), within)

    async def wait_count(self, kind: LegEventKind, count: int, within: float = TIMEOUT) -> LegEvent:
        """Wait until ``count`` events of ``kind`` have come; return the count-th."""

        async def find() -> LegEvent:
            while len(found := self.of(kind)) < count:
                self._changed.clear()
                await self._changed.wait()
            return found[count - 1]

        return await asyncio.wait_for(find(), within)

    def of(self, kind: LegEventKind, leg_id: str | None = None) -> list[LegEvent]:
        return [e for e in self.events if e.kind == kind and (leg_id is None or e.leg_id == leg_id)]


class PeerProcess:
    """A PjsuaEngine in a subprocess (see sip_peer.py), driven over a loopback TCP control socket."""

    def __init__(self, auto: str, log_path: Path, settings: dict[str, Any] | None = None) -> None:
        self.auto = auto
        self.log_path = log_path
        self.settings = settings or {}
        self.uri = ""
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._changed = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.get_running_loop().create_future()
        )

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not connected.done():
                connected.set_result((reader, writer))

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(PEER_SCRIPT),
                str(port),
                self.auto,
                json.dumps(self.settings),
                stdout=log,
                stderr=log,
            )
        try:
            reader, self._writer = await asyncio.wait_for(connected, TIMEOUT)
        finally:
            server.close()
        self._reader_task = asyncio.ensure_future(self._read(reader))
        ready = await self.wait_event(lambda e: e["event"] == "ready")
        self.uri = ready["uri"]

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            message = json.loads(line)
            if "id" in message:
                future = self._pending.pop(message["id"])
                if message["ok"]:
                    future.set_result(message["result"])
                else:
                    future.set_exception(RuntimeError(message["error"]))
            else:
                self.events.append(message)
                self._changed.set()

    async def request(self, op: str, within: float = TIMEOUT, **args: Any) -> Any:
        assert self._writer is not None
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._writer.write((json.dumps({"id": request_id, "op": op, **args}) + "\n").encode())
        return await asyncio.wait_for(future, within)

    async def wait_event(self, match: Callable[[dict[str, Any]], bool], within: float = TIMEOUT) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            while True:
                for event in self.events:
                    if match(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), within)

    async def wait_leg(self, kind: str, leg_id: str | None = None, within: float = TIMEOUT) -> dict[str, Any]:
        return await self.wait_event(
            lambda e: e.get("kind") == kind and (leg_id is None or e["leg_id"] == leg_id), within
        )

    def legs(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("kind") == kind]

    @property
    def alive(self) -> bool:
        """Whether the peer process is still running."""
        return self._process is not None and self._process.returncode is None

    async def close(self) -> int:
        """Close the control socket (the peer then stops its engine) and return its exit code."""
        if self._writer is not None:
            self._writer.write_eof()  # half-close: keep reading its last events so nothing resets
        assert self._process is not None
        try:
            code = await asyncio.wait_for(self._process.wait(), TIMEOUT)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
            raise
        finally:
            if self._reader_task is not None:
                self._reader_task.cancel()
            if self._writer is not None:
                self._writer.close()
        return code


type PeerFactory = Callable[[str], Awaitable[PeerProcess]]


async def dial_answered(
    engine: Engine, events: EventLog, peer: PeerProcess, near: str | None = None
) -> tuple[str, str]:
    """Dial the peer and wait until both ends report the call answered; return (our leg id, the peer's leg id)."""
    before = len(peer.legs("answered"))
    leg = await engine.dial(peer.uri, near=near)
    await events.wait(LegEventKind.ANSWERED, leg)
    await peer.wait_event(lambda _e: len(peer.legs("answered")) > before)
    return leg, peer.legs("answered")[before]["leg_id"]

"""The real sidecar (and the simulator) as a test's subprocess, and a websocket client of it that keeps its events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from hold_slayer_sidecar import protocol

# Loading the speech models and starting the PJSUA2 workers takes seconds alone and far longer on a loaded CI
# machine; only a failing start waits this long.
START_LIMIT_S = 90.0


def free_port(kind: socket.SocketKind, host: str = "127.0.0.1") -> int:
    """A UDP or TCP port nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Sidecar:
    """One ``python -m hold_slayer_sidecar`` the test started, on loopback, writing its log beside the test's files."""

    def __init__(
        self,
        tmp: Path,
        *,
        token: str,
        data_dir: Path | None = None,
        config: dict[str, Any] | None = None,
        sip_port: int = 0,
        sip_workers: int | None = None,
        env: Mapping[str, str] | None = None,
        name: str = "sidecar",
    ) -> None:
        self.data = data_dir or tmp / "data"
        self.ready_file = tmp / f"{name}-ready-{time.monotonic_ns()}.json"  # a restart must not read the old one
        self.log = tmp / f"{name}.log"
        args = ["--port", "0", "--sip-port", str(sip_port), "--data-dir", str(self.data)]
        args += ["--ready-file", str(self.ready_file)]
        if sip_workers is not None:
            args += ["--sip-workers", str(sip_workers)]
        if config is not None:
            path = tmp / f"{name}-config.json"
            path.write_text(json.dumps(config))
            args += ["--config", str(path)]
        with self.log.open("ab") as log:  # appended: a restarted sidecar's log follows the first one's
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hold_slayer_sidecar", *args],
                env={**os.environ, "HOLD_SLAYER_TOKEN": token, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _check(self, deadline: float) -> dict[str, Any] | None:
        """The ready file once written (atomically, by the sidecar); fails with the log if the sidecar gave up."""
        if self.ready_file.exists():
            return dict(json.loads(self.ready_file.read_text()))
        assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text(errors="replace")
        return None

    def wait_ready(self, limit_s: float = START_LIMIT_S) -> dict[str, Any]:
        """Block until the sidecar serves; its ready file (ws_url, ws_port, sip_port ...)."""
        deadline = time.monotonic() + limit_s
        while (ready := self._check(deadline)) is None:
            time.sleep(0.1)
        return ready

    async def ready(self, limit_s: float = START_LIMIT_S) -> dict[str, Any]:
        """As `wait_ready`, without blocking the event loop (peers may run in it)."""
        deadline = time.monotonic() + limit_s
        while True:
            if (ready := self._check(deadline)) is not None:
                return ready
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM (the sidecar hangs up its calls), SIGKILL if it is still there after 20 s."""
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    """Stop a process the test started: SIGTERM, then SIGKILL after `grace_s`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_sim(tmp: Path, module: str, *args: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start a simulator (company or phone) on loopback; its first stdout line is its JSON ready message."""
    with (tmp / f"{module.rsplit('.', 1)[-1]}-{time.monotonic_ns()}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=tmp,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"{module} did not start"
    return process, dict(json.loads(line))


def phone_uri(ready: Mapping[str, Any]) -> str:
    """The SIP URI the simulated phone answers on."""
    return str(ready.get("uri") or f"sip:user@127.0.0.1:{ready['port']}")


class Client:
    """One authenticated websocket client of the sidecar; the events it is sent are kept as they arrive."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, welcome: dict[str, Any], *, timeout_s: float = 30) -> None:
        self.ws = ws
        self.welcome = welcome
        self.timeout_s = timeout_s  # for one answer; a lost answer fails the test instead of hanging it
        self.events: list[dict[str, Any]] = []
        self._rid = 0

    async def receive(self, timeout_s: float | None = None) -> dict[str, Any]:
        """The next frame; an event is kept."""
        msg = await self.ws.receive(timeout=timeout_s)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        frame: dict[str, Any] = json.loads(msg.data)
        if frame["type"] == "event":
            self.events.append(frame)
        return frame

    async def ask(self, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request; its result frame (success or not)."""
        self._rid += 1
        await self.ws.send_str(protocol.encode(protocol.request(self._rid, command, data)))
        while True:
            frame = await self.receive(self.timeout_s)
            if frame["type"] == "result" and frame["id"] == self._rid:
                return frame

    async def ok(self, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request that must succeed; its data."""
        frame = await self.ask(command, data)
        assert frame["success"] is True, frame
        return dict(frame["data"])

    async def error(self, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request that must fail; its error (code and message)."""
        frame = await self.ask(command, data)
        assert frame["success"] is False, (command, data, frame)
        return dict(frame["error"])

    def of(self, name: str) -> list[dict[str, Any]]:
        """The data of the events of one kind kept so far."""
        return [frame["data"] for frame in self.events if frame["event"] == name]

    def event_names(self) -> list[str]:
        """The kinds of the events kept so far, in order."""
        return [frame["event"] for frame in self.events]

    async def until(self, done: str | Callable[[], object], limit_s: float) -> dict[str, Any] | None:
        """Read events until `done` holds (or, for an event kind, one has come: its data)."""
        check = (lambda: self.of(done)) if isinstance(done, str) else done
        async with asyncio.timeout(limit_s):
            while not check():
                await self.receive()
        return self.of(done)[0] if isinstance(done, str) else None


async def hello(ws: aiohttp.ClientWebSocketResponse, token: str, name: str) -> dict[str, Any]:
    """Say hello; the answer (a welcome, or an error when the token is wrong)."""
    await ws.send_str(protocol.encode(protocol.hello(token, name)))
    return dict(json.loads((await ws.receive(timeout=10)).data))


@contextlib.asynccontextmanager
async def connect(
    url: str, token: str, name: str, *, timeout_s: float = 30, http: aiohttp.ClientSession | None = None
) -> AsyncIterator[Client]:
    """An authenticated client of the sidecar at `url` (welcomed, or the test fails)."""
    async with contextlib.AsyncExitStack() as stack:
        if http is None:
            http = await stack.enter_async_context(aiohttp.ClientSession())
        ws = await stack.enter_async_context(http.ws_connect(url, max_msg_size=protocol.MAX_MESSAGE_BYTES))
        welcome = await hello(ws, token, name)
        assert welcome["type"] == "welcome", welcome
        yield Client(ws, welcome, timeout_s=timeout_s)

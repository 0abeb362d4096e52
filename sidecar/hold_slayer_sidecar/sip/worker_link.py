"""The sidecar's end of one media worker: spawn the process, send it commands, notice when it dies.

No PJSUA2 import here (the worker process has it). A worker is a fresh interpreter started with
``python -m hold_slayer_sidecar.sip.worker`` (spawn, never fork: PJSUA2 must not be forked after
``libCreate``), talking over an inherited Unix socket pair, in its own session so a terminal's Ctrl-C
reaches only the sidecar, which then stops the workers in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..audio.types import AudioFrame
from .api import LegEvent, LegEventKind, SipError
from .channel import ChannelError, LegAudio, Message, encode_message, read_frame
from .settings import SipSettings, settings_to_wire

_LOGGER = logging.getLogger(__name__)

WORKER_MODULE = "hold_slayer_sidecar.sip.worker"
# Interpreter start, numpy and PJSUA2 imports and libCreate take about 0.3 s idle; 20 s covers a loaded
# CI machine without letting a hung start block the pool for ever.
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0  # stop hangs up every leg and pumps BYE transactions for up to ~1 s
# Liveness: a ping goes through the worker's loop and its PJSUA2 thread. A thread stuck in PJSIP (or a
# process stopped by SIGSTOP) answers nothing; once no ping has been answered for HUNG_AFTER_S the worker is
# killed and restarted like a crashed one. The promise is a replacement within 2 s: detection (at most
# HUNG_AFTER_S + one HEARTBEAT_S tick) plus adopting the spare (~0.1-0.3 s).
# Why 1.5 s does not kill healthy workers on a slow, loaded box: a healthy worker answers within a few ms;
# CFS gives every runnable thread a slice within tens of ms even at a load of 8 on 2 cores, and a worker
# starved for 1.5 s has already dropped 75 frames of 20 ms, so the call is broken anyway. Two stalls that
# are not the worker's are excluded: the sidecar's own loop (a late tick pushes the deadline back by the
# stall, so a blocked sidecar never blames its workers) and a dial (PJSIP resolves a trunk's host name
# with a blocking getaddrinfo on the PJSUA2 thread: resolv.conf's default is 5 s per try).
HEARTBEAT_S = 0.25
HUNG_AFTER_S = 1.5
DIALING_HUNG_AFTER_S = 12.0  # getaddrinfo: 5 s timeout x 2 attempts (resolv(5) defaults), plus slack
LOOP_STALL_S = 0.2  # a tick this much later than asked means the sidecar's loop, not the worker, was stuck
REAP_TIMEOUT_S = 2.0  # a worker that closed its socket but does not exit is killed after this


@dataclass(frozen=True)
class WorkerProcess:
    """A worker interpreter that has imported everything and waits for its ``start`` message."""

    proc: asyncio.subprocess.Process
    sock: socket.socket  # the sidecar's end of its channel

    async def discard(self) -> None:
        """End an unused spare: closing the channel before ``start`` makes it exit quietly."""
        self.sock.close()
        try:
            await asyncio.wait_for(self.proc.wait(), REAP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


async def spawn_worker(log_level: str) -> WorkerProcess:
    """Start a fresh worker interpreter (its name and settings come later, with ``start``)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            WORKER_MODULE,
            "--fd",
            str(theirs.fileno()),
            "--log-level",
            log_level,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # only libCreate's banner, printed before the log writer is set
            start_new_session=True,
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return WorkerProcess(proc, ours)


def describe_exit(returncode: int | None) -> str:
    """Say how a worker process ended, for the log and for the legs it carried."""
    if returncode is None:
        return "stopped responding"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-returncode}, {name}"
    return f"exited with code {returncode}"


class WorkerLink:
    """One supervised media worker: spawn, request/reply, events and audio, exit detection."""

    def __init__(
        self,
        index: int,
        settings: SipSettings,
        *,
        on_event: Callable[[WorkerLink, LegEvent], None],
        on_audio: Callable[[WorkerLink, str, AudioFrame], None],
        on_registration: Callable[[WorkerLink], None] | None = None,
        log_level: str = "INFO",
    ) -> None:
        self.index = index
        self.settings = settings
        self.generation = 0
        self.port = 0
        self.pid: int | None = None
        self.registered = False
        self.registration_status: tuple[int, str] = (0, "")
        self.registration_generation = 0  # the worker's count of trunk replacements this answer belongs to
        self.dropped_frames = 0
        self.started_at = 0.0
        self.up = asyncio.Event()
        self._on_event = on_event
        self._on_audio = on_audio
        self._on_registration = on_registration
        self._log_level = log_level
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._exited: asyncio.Future[str] | None = None
        self._hung = False
        self._dialing = 0  # dials in flight (each may block the PJSUA2 thread in a name lookup)
        self._answered_at = 0.0  # loop time of the last answered ping

    @property
    def name(self) -> str:
        """The worker's name in logs and reasons."""
        return f"media worker {self.index}"

    @property
    def tag(self) -> str:
        """Prefix of this incarnation's leg ids (a restarted worker gets a new one)."""
        return f"w{self.index}.{self.generation}"

    # ----- lifecycle -----

    async def start(self, spare: WorkerProcess | None = None) -> None:
        """Start (or adopt ``spare``) and wait until its engine is listening; raise ``SipError`` if it cannot."""
        self.generation += 1
        self._hung = False
        self._exited = asyncio.get_running_loop().create_future()
        if spare is None or spare.proc.returncode is not None:
            spare = await spawn_worker(self._log_level)
        self._proc, ours = spare.proc, spare.sock
        self.pid = self._proc.pid
        reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        try:
            await asyncio.wait_for(self._handshake(reader), START_TIMEOUT_S)
        except (TimeoutError, SipError, ChannelError, ConnectionError) as err:
            await self._kill_and_reap()
            self._exited.set_result("failed to start")
            raise SipError(f"{self.name} did not start: {err or 'timed out'}") from err
        self._tasks = [
            asyncio.create_task(self._read(reader, self._exited), name=f"{self.name} reader"),
            asyncio.create_task(self._heartbeat(), name=f"{self.name} heartbeat"),
        ]
        self.started_at = time.monotonic()
        self.up.set()

    async def _handshake(self, reader: asyncio.StreamReader) -> None:
        self._write({"op": "start", "settings": settings_to_wire(self.settings), "name": f"worker-{self.index}"})
        first = await read_frame(reader)
        if not isinstance(first, Message):
            raise SipError("the worker closed its channel before it was ready")
        if first.data.get("type") != "ready":
            raise SipError(str(first.data.get("message", first.data)))
        self.port = int(first.data["port"])
        # A restarted worker binds the same port, so an edge's list of worker ports stays right.
        self.settings = replace(self.settings, port=self.port)

    async def wait_exit(self) -> str:
        """Wait until the current incarnation has ended; return how it ended."""
        if self._exited is None:
            raise SipError(f"{self.name} was never started")
        return await asyncio.shield(self._exited)

    async def stop(self) -> None:
        """Ask the worker to hang up and exit; kill it if it does not within ``STOP_TIMEOUT_S``."""
        self.up.clear()
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ConnectionError, SipError):
                self._write({"op": "stop"})
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                _LOGGER.warning("%s did not stop within %.0f s: killing it", self.name, STOP_TIMEOUT_S)
                await self._kill_and_reap()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._close_writer()

    # ----- requests -----

    async def request(self, op: str, blob: bytes = b"", **args: Any) -> Any:
        """Run a command in the worker and return its result; raise ``SipError`` on failure or a crash."""
        if not self.up.is_set():
            raise SipError(f"{self.name} is not running")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._dialing += op == "dial"
        try:
            self._write({"op": op, "id": request_id, **args}, blob)
            return await future
        except asyncio.CancelledError:
            if self.up.is_set():  # play and send_dtmf stop at once in the worker too
                with contextlib.suppress(ConnectionError, SipError):
                    self._write({"op": "cancel", "id": request_id})
            raise
        finally:
            self._pending.pop(request_id, None)
            self._dialing -= op == "dial"

    def post(self, op: str, **args: Any) -> None:
        """Send a command without waiting for it."""
        if self.up.is_set():
            self._write({"op": op, **args})

    def _write(self, data: dict[str, Any], blob: bytes = b"") -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise SipError(f"{self.name} is not running")
        writer.write(encode_message(data, blob))

    # ----- the worker's output -----

    async def _read(self, reader: asyncio.StreamReader, exited: asyncio.Future[str]) -> None:
        try:
            while (item := await read_frame(reader)) is not None:
                if isinstance(item, LegAudio):
                    self._on_audio(self, item.leg_id, item.frame)
                else:
                    self._on_message(item.data)
        except (ChannelError, ConnectionError) as err:
            _LOGGER.warning("%s: channel failed: %s", self.name, err)  # the supervisor reports the death
        except (KeyError, TypeError, ValueError) as err:  # a worker that talks nonsense is replaced
            _LOGGER.error("%s sent a malformed message (%r): restarting it", self.name, err)
            self._kill()
        finally:
            await self._went_down(exited)

    def _on_message(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "event":
            fields = {key: value for key, value in data.items() if key != "type"}
            self._on_event(self, LegEvent(**{**fields, "kind": LegEventKind(fields["kind"])}))
        elif kind in ("reply", "error"):
            future = self._pending.get(int(data["id"]))
            if future is not None and not future.done():
                if kind == "reply":
                    future.set_result(data.get("result"))
                elif not data.get("cancelled"):
                    future.set_exception(SipError(str(data.get("message", "failed"))))
        elif kind == "registration":
            self.registered = bool(data["registered"])
            self.registration_status = (int(data["code"]), str(data["reason"]))
            self.registration_generation = int(data.get("generation", 0))
            if self._on_registration is not None:
                self._on_registration(self)
        elif kind != "stopped":
            _LOGGER.warning("%s sent an unknown message %r", self.name, kind)

    async def _heartbeat(self) -> None:
        """Ping every ``HEARTBEAT_S``; kill the worker once none has been answered for ``hung_after`` seconds."""
        loop = asyncio.get_running_loop()
        self._answered_at = loop.time()
        pinger: asyncio.Task[None] | None = None
        try:
            while True:
                asked = loop.time()
                await asyncio.sleep(HEARTBEAT_S)
                if (stall := loop.time() - asked - HEARTBEAT_S) > LOOP_STALL_S:
                    self._answered_at += stall  # our own loop was stuck: the worker had no chance to be heard
                if pinger is None or pinger.done():
                    pinger = asyncio.create_task(self._ping(), name=f"{self.name} ping")
                if (silent := loop.time() - self._answered_at) > self._hung_after():
                    _LOGGER.error("%s did not answer for %.1f s: killing it", self.name, silent)
                    self._hung = True
                    self._kill()
                    return
                if not self.up.is_set():
                    return  # it went down; the reader reports that
        finally:
            if pinger is not None:
                pinger.cancel()

    async def _ping(self) -> None:
        with contextlib.suppress(SipError):
            self.dropped_frames = int(await self.request("ping"))
            self._answered_at = asyncio.get_running_loop().time()

    def _hung_after(self) -> float:
        """How long a worker may stay silent: longer while a dial may block its PJSUA2 thread in a name lookup."""
        return DIALING_HUNG_AFTER_S if self._dialing else HUNG_AFTER_S

    async def _went_down(self, exited: asyncio.Future[str]) -> None:
        """Fail what waits on this worker, reap its process, and say how it ended (its channel closed)."""
        self.up.clear()
        self._close_writer()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        returncode = await self._reap()
        description = "stopped responding" if self._hung else describe_exit(returncode)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SipError(f"{self.name} {description}"))
        if not exited.done():
            exited.set_result(description)

    async def _reap(self) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        try:
            return await asyncio.wait_for(proc.wait(), REAP_TIMEOUT_S)
        except TimeoutError:
            _LOGGER.error("%s closed its channel but did not exit: killing it", self.name)
            return await self._kill_and_reap()

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    async def _kill_and_reap(self) -> int | None:
        self._kill()
        self._close_writer()
        proc = self._proc
        return None if proc is None else await proc.wait()

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()

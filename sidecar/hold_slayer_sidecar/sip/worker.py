"""A media worker process: one ``PjsuaEngine`` served over a Unix socket to the sidecar's ``WorkerPoolEngine``.

Started as ``python -m hold_slayer_sidecar.sip.worker --fd N`` (a fresh interpreter, never a fork: PJSUA2
must not be forked after ``libCreate``). The first message on the socket carries the ``SipSettings`` (so the
trunk password never shows in ``ps``); the worker answers ``ready`` with its bound SIP port, then runs
commands as tasks, streams leg events, registration changes and tapped audio back, and exits when told to
stop or when the sidecar's end of the socket closes. Stdout is never used: ``libCreate`` prints there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import functools
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..lifetime import die_with_parent
from ..protocol import DtmfMethod
from .api import LegEvent, SipError
from .channel import AudioSender, ChannelError, Message, encode_message, read_frame
from .engine import PjsuaEngine
from .settings import settings_from_wire

_LOGGER = logging.getLogger(__name__)

# How often the registration is compared with what was last reported: it changes on a REGISTER answer only
# (every few minutes at most), and half a second is quick enough for a settings form that waits on it.
REGISTRATION_POLL_S = 0.5
# Once the sidecar is gone the worker hangs up every leg (a BYE each, ~1 s of transactions) and exits. A
# PJSUA2 thread that no longer answers would keep it alive for ever, holding calls nobody can end: after
# this long it exits without them (the far end's own timers end the dangling legs then).
ORPHAN_EXIT_S = 5.0


class WorkerServer:
    """Runs the pool's commands against the engine and streams events and audio back."""

    def __init__(self, engine: PjsuaEngine, writer: asyncio.StreamWriter) -> None:
        self._engine = engine
        self._writer = writer
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._tapped: set[str] = set()
        self._audio = AudioSender(writer)
        self._ops: dict[str, Callable[[dict[str, Any], bytes], Awaitable[Any]]] = {
            "dial": lambda a, _: engine.dial(str(a["target"])),
            "ring": lambda a, _: engine.ring(str(a["leg"])),
            "answer": lambda a, _: engine.answer(str(a["leg"])),
            "reject": lambda a, _: engine.reject(str(a["leg"]), int(a["status_code"])),
            "hang_up": lambda a, _: engine.hang_up(str(a["leg"])),
            "hold": lambda a, _: engine.hold(str(a["leg"])),
            "resume": lambda a, _: engine.resume(str(a["leg"])),
            "send_dtmf": lambda a, _: engine.send_dtmf(str(a["leg"]), str(a["digits"]), DtmfMethod(a["method"])),
            "play": lambda a, blob: engine.play(str(a["leg"]), np.frombuffer(blob, "<i2"), int(a["sample_rate"])),
            "bridge": lambda a, _: engine.bridge(str(a["a"]), str(a["b"])),
            "record": lambda a, _: engine.start_mix_recording([str(x) for x in a["legs"]], Path(str(a["path"]))),
            # Through the PJSUA2 thread: a worker whose loop answers but whose PJSUA2 thread hangs is not alive.
            "ping": lambda a, _: self._ping(),
            "set_trunk": lambda a, _: self._set_trunk(dict(a["settings"])),
        }

    def send(self, data: dict[str, Any]) -> None:
        """Queue a control message (never dropped: they are few and small)."""
        if not self._writer.is_closing():
            self._writer.write(encode_message(data))

    def on_event(self, event: LegEvent) -> None:
        """Forward a leg event."""
        self.send({"type": "event", **asdict(event)})

    async def serve(self, reader: asyncio.StreamReader) -> None:
        """Handle messages until ``stop`` or the end of the stream."""
        watcher = asyncio.create_task(self._watch_registration())
        try:
            while True:
                item = await read_frame(reader)
                if item is None:
                    _LOGGER.info("the sidecar closed the channel: stopping")
                    return
                if not isinstance(item, Message):
                    raise ChannelError("the sidecar sent audio")
                if item.data.get("op") == "stop":
                    return
                try:
                    self._handle(item)
                except (KeyError, TypeError, ValueError) as err:  # a bad command fails alone
                    _LOGGER.warning("ignoring a malformed command %r: %r", item.data.get("op"), err)
        finally:
            watcher.cancel()
            for task in list(self._tasks.values()):
                task.cancel()

    def _handle(self, message: Message) -> None:
        op, args = str(message.data.get("op")), message.data
        if op == "tap":
            self._tap(str(args["leg"]))
        elif op == "cancel":
            task = self._tasks.get(int(args["id"]))
            if task is not None:
                task.cancel()
        elif op in self._ops:
            request = int(args["id"])
            task = asyncio.create_task(self._run(request, op, args, message.blob))
            self._tasks[request] = task
            task.add_done_callback(functools.partial(self._forget_task, request))
        else:
            _LOGGER.warning("unknown command %r", op)

    def _forget_task(self, request: int, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(request, None)

    async def _ping(self) -> int:
        await self._engine.ping()
        return self._audio.dropped

    async def _set_trunk(self, settings: dict[str, Any]) -> int:
        await self._engine.set_trunk(settings_from_wire(settings))
        return self._engine.trunk_generation

    def _tap(self, leg_id: str) -> None:
        if leg_id in self._tapped:
            return
        try:
            self._engine.subscribe_audio(leg_id, functools.partial(self._audio.send, leg_id))
        except SipError as err:
            _LOGGER.debug("cannot tap %s: %s", leg_id, err)
            return
        self._tapped.add(leg_id)

    async def _run(self, request: int, op: str, args: dict[str, Any], blob: bytes) -> None:
        try:
            result = await self._ops[op](args, blob)
        except asyncio.CancelledError:
            self.send({"type": "error", "id": request, "message": "cancelled", "cancelled": True})
            raise
        except SipError as err:
            self.send({"type": "error", "id": request, "message": str(err)})
        except (KeyError, TypeError, ValueError) as err:
            self.send({"type": "error", "id": request, "message": f"bad {op} command: {err!r}"})
        except Exception as err:  # command boundary: report, keep the other calls going
            _LOGGER.exception("%s failed", op)
            self.send({"type": "error", "id": request, "message": f"media worker error in {op}: {err}"})
        else:
            self.send({"type": "reply", "id": request, "result": result})

    async def _watch_registration(self) -> None:
        last: tuple[bool, tuple[int, str], int] | None = None
        while True:
            now = (self._engine.registered, self._engine.registration_status, self._engine.trunk_generation)
            if now != last:
                last = now
                code, reason = now[1]
                message = {"type": "registration", "registered": now[0], "code": code, "reason": reason}
                self.send({**message, "generation": now[2]})
            await asyncio.sleep(REGISTRATION_POLL_S)

    def forget(self, event: LegEvent) -> None:
        """Drop a finished leg's tap bookkeeping."""
        self._tapped.discard(event.leg_id)


async def run_worker(sock: socket.socket) -> int:
    """Serve one engine over ``sock``; return the process exit code."""
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    first = await read_frame(reader)
    if first is None:
        return 0  # a spare that was not needed
    if not isinstance(first, Message) or first.data.get("op") != "start":
        _LOGGER.error("the first message must be 'start'")
        return 2
    _name_log(str(first.data.get("name", "media-worker")))
    try:
        engine = PjsuaEngine(settings_from_wire(dict(first.data["settings"])))
        await engine.start()
    except (SipError, KeyError, TypeError, ValueError) as err:
        writer.write(encode_message({"type": "failed", "message": str(err)}))
        await writer.drain()
        return 1
    server = WorkerServer(engine, writer)
    engine.subscribe_events(server.on_event)
    engine.subscribe_events(server.forget)
    # SIGTERM (also what the kernel sends when the sidecar dies: PR_SET_PDEATHSIG) ends the channel: the
    # same orderly path as the sidecar's socket closing, so every leg gets its BYE.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, writer.transport.abort)
    server.send({"type": "ready", "port": engine.local_port, "pid": os.getpid()})
    try:
        await server.serve(reader)
    except (ChannelError, ConnectionError) as err:
        _LOGGER.error("channel to the sidecar failed: %s", err)
    finally:
        _exit_after(ORPHAN_EXIT_S)
        await engine.stop()
        with contextlib.suppress(ConnectionError):
            server.send({"type": "stopped"})
            await writer.drain()
        writer.close()
    return 0


def _exit_after(seconds: float) -> None:
    """Exit the process after ``seconds`` whatever the loop and the PJSUA2 thread are doing (a daemon timer)."""

    def hard_exit() -> None:
        _LOGGER.error("could not hang up and stop within %.0f s: exiting anyway", seconds)
        logging.shutdown()
        os._exit(3)

    timer = threading.Timer(seconds, hard_exit)
    timer.daemon = True
    timer.start()


def _name_log(name: str) -> None:
    """Put the worker's name (known only at ``start``: a spare does not know which worker it becomes) in the log."""
    formatter = logging.Formatter(f"%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


def main(argv: list[str] | None = None) -> None:
    """Entry point of a worker process."""
    parser = argparse.ArgumentParser(prog="python -m hold_slayer_sidecar.sip.worker")
    parser.add_argument("--fd", type=int, required=True, help="the Unix stream socket inherited from the sidecar")
    parser.add_argument("--name", default="media-worker", help="name used in the log")
    parser.add_argument("--log-level", default="INFO", type=str.upper)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format=f"%(asctime)s %(levelname)s [{args.name}] %(name)s: %(message)s",
        stream=sys.stderr,
    )
    faulthandler.enable(all_threads=True)  # a native crash leaves every thread's stack in the log
    die_with_parent()  # SIGTERM when the sidecar dies: the handler in run_worker hangs up first
    sock = socket.socket(fileno=args.fd)
    code = asyncio.run(run_worker(sock))
    logging.shutdown()
    # The endpoint is destroyed; skip interpreter teardown, where a late SWIG destructor can still crash.
    os._exit(code)


if __name__ == "__main__":
    main()

"""A remote-controlled SIP peer: a real PjsuaEngine in its own process (one Endpoint per process).

Run as ``python sip_peer.py CONTROL_PORT AUTO [SETTINGS_JSON]`` where AUTO says what to do with inbound calls:
``answer`` (200 at once), ``ring`` (180, then 200 after 0.3 s), ``busy`` (486) or ``none``; SETTINGS_JSON
holds ``SipSettings`` fields (a trunk, an outbound proxy, a fixed port).
It connects to 127.0.0.1:CONTROL_PORT and speaks JSON lines (stdout is not used: libCreate prints there).
Requests: {"id", "op", ...}; replies {"id", "ok", "result"|"error"}; events {"event": "leg", ...}.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from tones import RATE, spectrum_peaks, tone


class Peer:
    """Executes control requests against one engine."""

    def __init__(self, engine: PjsuaEngine, auto: str, writer: asyncio.StreamWriter) -> None:
        self.engine = engine
        self.auto = auto
        self.writer = writer
        self.plays: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write((json.dumps(message) + "\n").encode())

    def on_event(self, event: LegEvent) -> None:
        self.send({"event": "leg", **asdict(event)})
        if event.kind == LegEventKind.INCOMING:
            self.spawn(self.handle_incoming(event.leg_id))

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def handle_incoming(self, leg: str) -> None:
        if self.auto == "answer":
            await self.engine.answer(leg)
        elif self.auto == "ring":
            await self.engine.ring(leg)
            await asyncio.sleep(0.3)
            await self.engine.answer(leg)
        elif self.auto == "busy":
            await self.engine.reject(leg, 486)

    async def capture(self, leg: str, seconds: float) -> dict[str, Any]:
        frames: list[AudioFrame] = []
        unsubscribe = self.engine.subscribe_audio(leg, frames.append)
        await asyncio.sleep(seconds)
        unsubscribe()
        pcm = np.concatenate([f.pcm for f in frames]) if frames else np.zeros(0, np.int16)
        rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if pcm.size else 0.0
        return {"frames": len(frames), "rms": rms, "peaks": spectrum_peaks(pcm, RATE)}

    async def play_tone(self, leg: str, freq: float, seconds: float) -> None:
        previous = self.plays.pop(leg, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self.engine.play(leg, tone(freq, seconds), RATE))
        self.plays[leg] = task

    async def run(self, op: str, args: dict[str, Any]) -> Any:
        engine = self.engine
        if op == "dial":
            return await engine.dial(args["target"])
        if op in ("answer", "ring", "hang_up", "hold", "resume"):
            return await getattr(engine, op)(args["leg"])
        if op == "play_tone":
            return await self.play_tone(args["leg"], args["freq"], args["seconds"])
        if op == "capture":
            return await self.capture(args["leg"], args["seconds"])
        if op == "send_dtmf":
            return await engine.send_dtmf(args["leg"], args["digits"], DtmfMethod(args["method"]))
        if op == "record":
            return await engine.start_recording(args["leg"], Path(args["path"]))
        raise ValueError(f"unknown op {op}")

    async def serve(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):  # the test went away: stop like on EOF
            while line := await reader.readline():
                self.spawn(self.answer_request(json.loads(line)))

    async def answer_request(self, request: dict[str, Any]) -> None:
        try:
            result = await self.run(request["op"], request)
        except Exception as err:  # report every failure to the test
            self.send({"id": request["id"], "ok": False, "error": f"{type(err).__name__}: {err}"})
        else:
            self.send({"id": request["id"], "ok": True, "result": result})


async def main(control_port: int, auto: str, settings: dict[str, Any]) -> None:
    """Start the engine, connect to the test and serve until the test closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", control_port)
    engine = PjsuaEngine(SipSettings(**settings))
    await engine.start()
    peer = Peer(engine, auto, writer)
    engine.subscribe_events(peer.on_event)
    peer.send({"event": "ready", "uri": engine.local_uri})
    try:
        await peer.serve(reader)
    finally:
        for task in list(peer.tasks) + list(peer.plays.values()):
            task.cancel()
        with contextlib.suppress(ConnectionError):
            writer.close()  # before libDestroy: nothing of asyncio's runs over a destroyed PJSUA
        await engine.stop()
    # Leave at once: a CI run saw this process segfault in asyncio's selector (closing the control socket) after
    # libDestroy had run, a fault in PJSUA2's teardown that no test is about. Every leg got its BYE in stop().
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    faulthandler.enable(all_threads=True)  # a native crash at exit leaves its stacks in the peer log
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}))

"""A caller for the receptionist's end-to-end test: a PJSUA2 engine in its own process that dials and plays a WAV.

    python sip_caller.py TARGET_URI WAV MODE REPORT

MODE ``after_greeting``: wait for the far side to speak and then pause (the greeting is over), then play the WAV,
as a person answers a question. ``at_once``: play it as soon as the call is answered (a robocall). ``hang_up``: hang
up 1.5 s into the greeting. The process ends when the call does (or after 60 s); REPORT gets one JSON line per event.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from hold_slayer_sidecar.voice.wav import read_wav

LIMIT_S = 60.0
LOUD_DBFS = -40.0  # the greeting's speech; the line's idle noise is far below
PAUSE_S = 0.8  # quiet this long after speech: the greeting's question is over


class Report:
    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._t0 = time.monotonic()

    def __call__(self, event: str, **data: Any) -> None:
        self._file.write(json.dumps({"event": event, "t": round(time.monotonic() - self._t0, 3), **data}) + "\n")
        self._file.flush()


class GreetingEnd:
    """Tells when the far side has spoken and then paused."""

    def __init__(self) -> None:
        self.spoke = False
        self.quiet_s = 0.0
        self.over = asyncio.Event()

    def __call__(self, frame: AudioFrame) -> None:
        x = frame.pcm.astype(np.float64)
        dbfs = 20 * np.log10(np.sqrt(np.mean(x**2)) / 32768 + 1e-9)
        if dbfs > LOUD_DBFS:
            self.spoke, self.quiet_s = True, 0.0
        elif self.spoke:
            self.quiet_s += frame.pcm.size / frame.sample_rate
            if self.quiet_s >= PAUSE_S:
                self.over.set()


async def main(target: str, wav: Path, mode: str, report: Report) -> None:
    engine = PjsuaEngine(SipSettings())
    await engine.start()
    ended = asyncio.Event()
    answered = asyncio.Event()

    def on_event(event: LegEvent) -> None:
        report("leg", kind=event.kind.value, status=event.status_code)
        if event.kind is LegEventKind.ANSWERED:
            answered.set()
        if event.kind is LegEventKind.DISCONNECTED:
            ended.set()

    engine.subscribe_events(on_event)
    try:
        leg = await engine.dial(target)
        await asyncio.wait_for(answered.wait(), 20)
        pcm, rate = read_wav(wav)
        if mode == "at_once":
            report("playing")
            await engine.play(leg, pcm, rate)
        else:
            greeting = GreetingEnd()
            engine.subscribe_audio(leg, greeting)
            if mode == "hang_up":
                await asyncio.sleep(1.5)
                report("hanging_up")
                await engine.hang_up(leg)
            else:
                await asyncio.wait_for(greeting.over.wait(), 20)
                report("playing")
                await engine.play(leg, pcm, rate)
        report("played")
        await asyncio.wait_for(ended.wait(), LIMIT_S)
    finally:
        await engine.stop()


async def run_and_leave(target: str, wav: Path, mode: str, report: Report) -> None:
    """Run the call, then leave the process at once with its outcome as the exit code.

    Like tests/sip/sip_peer.py: a CI run saw a PJSUA2 process segfault in asyncio's teardown after libDestroy (the
    loop closing its sockets over a destroyed PJSUA), a fault no test is about. Every leg got its BYE in stop().
    """
    code = 0
    try:
        await main(target, wav, mode, report)
    except BaseException:  # the test reads the log: say what went wrong, then fail the exit code
        traceback.print_exc()
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    faulthandler.enable(all_threads=True)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(run_and_leave(sys.argv[1], Path(sys.argv[2]), sys.argv[3], Report(Path(sys.argv[4]))))

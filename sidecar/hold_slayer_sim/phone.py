"""A simulated user phone: rings, answers, says hello and reports when it first hears the far side speak.

    python -m hold_slayer_sim.phone --port 0 --report phone.jsonl [--answer-after 2] [--reject]

The FIRST stdout line is ``{"ready": true, "port": N, "uri": "sip:user@HOST:N"}`` (any user part reaches it).
Report lines: incoming (from), ringing, answered | rejected, said (text), heard_audio (first burst of
energy from the far side, e.g. the agent's voice bridged through), heard_speech (first audio Silero VAD
calls speech: music or tones do not count), heard_speech_end, hangup (who, why).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame, Pcm
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind, SipError
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.settings import SipSettings

from .clips import DEFAULT_ASSET_DIR
from .model import Voice
from .report import ReportWriter
from .runtime import Line
from .speech import SAMPLE_RATE, SpeechCache
from .stdout_guard import ReadyChannel
from .vad import SpeechDetector, SpeechEnd, SpeechStart

USER_VOICE = Voice(engine="espeak", id="en-us+m3", speed=1.0)
_LOGGER = logging.getLogger(__name__)
_SPEECH_PROB = 0.5
_SPEECH_CHUNKS = 3
_HELLO_RETRIES = 2
_HELLO_AFTER_S = 4.0


class SpeechJudge:
    """Judge with the product's Silero VAD (bundled model) whether the far side's audio is a voice."""

    def __init__(self) -> None:
        try:
            from hold_slayer_sidecar.audio.vad import SileroVad

            self._vad: SileroVad | None = SileroVad()
        except Exception:  # no model: heard_speech is simply never reported
            _LOGGER.warning("Silero VAD unavailable; heard_speech will not be reported")
            self._vad = None
        self._run = 0

    def speech(self, pcm: Pcm) -> bool:
        """Feed one frame; True once three 32 ms chunks in a row look like speech (p >= 0.5)."""
        if self._vad is None:
            return False
        for p in self._vad.push(pcm.astype(np.float32) / 32768.0):
            self._run = self._run + 1 if p >= _SPEECH_PROB else 0
        return self._run >= _SPEECH_CHUNKS


class PhoneCall:
    """One call to the user's phone."""

    def __init__(
        self,
        line: Line,
        leg_id: str,
        report: ReportWriter,
        speech: SpeechCache,
        *,
        args: argparse.Namespace,
        call_id: str,
    ) -> None:
        self.line = line
        self.leg_id = leg_id
        self.report = report
        self.speech = speech
        self.args = args
        self.call_id = call_id
        self.ended = asyncio.Event()
        self._t0: float | None = None
        self._detector = SpeechDetector(SAMPLE_RATE, hangover_s=0.6)
        self._heard = False
        self._heard_event = asyncio.Event()
        self._judge = SpeechJudge()
        self._heard_speech = False

    def _log(self, event: str, **data: Any) -> None:
        self.report.write(event, call=self.call_id, t0=self._t0, **data)

    def on_leg_event(self, event: LegEvent) -> None:
        """Hang-up and DTMF from the far side."""
        if event.kind == LegEventKind.DISCONNECTED and not self.ended.is_set():
            self._log("hangup", who="remote", why=event.reason or "bye", status=event.status_code)
            self.ended.set()
        elif event.kind == LegEventKind.DTMF_RECEIVED:
            self._log("dtmf", digit=event.digit)

    def _on_frame(self, frame: AudioFrame) -> None:
        pcm = np.asarray(frame.pcm, dtype=np.int16)
        if not self._heard_speech and self._judge.speech(pcm):
            self._heard_speech = True
            self._log("heard_speech", stream_t_s=round(frame.t_s, 3))
        for ev in self._detector.process(pcm):
            if isinstance(ev, SpeechStart) and not self._heard:
                self._heard = True
                self._heard_event.set()
                self._log("heard_audio", stream_t_s=ev.t_s)
            elif isinstance(ev, SpeechEnd):
                self._log("heard_speech_end", duration_s=ev.duration_s)

    async def _say(self, text: str) -> None:
        pcm = await asyncio.to_thread(self.speech.render, text, USER_VOICE)
        self._log("said", text=text)
        await self.line.play(self.leg_id, pcm, SAMPLE_RATE)

    async def run(self, remote: str) -> None:
        """Ring, answer (or reject), greet, listen until the far side hangs up."""
        self._log("incoming", **{"from": remote})
        try:
            if self.args.reject:
                await self.line.reject(self.leg_id, 486)
                self._log("rejected", status=486)
                return
            await self.line.ring(self.leg_id)
            self._log("ringing", seconds=self.args.answer_after)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ended.wait(), self.args.answer_after)
            if self.ended.is_set():
                return
            await self.line.answer(self.leg_id)
            self._t0 = time.monotonic()
            self._log("answered")
            unsubscribe = self.line.subscribe_audio(self.leg_id, self._on_frame)
            try:
                await self._converse()
            finally:
                unsubscribe()
        except SipError as err:
            if not self.ended.is_set():
                self._log("error", message=str(err))

    async def _converse(self) -> None:
        """Say the greeting, repeat "Hello?" while nobody speaks, hang up after --hangup-after if given."""
        await asyncio.sleep(0.5)  # a person lifts the handset, then speaks
        await self._say(self.args.greeting)
        for _ in range(_HELLO_RETRIES):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._heard_event.wait(), _HELLO_AFTER_S)
            if self._heard or self.ended.is_set():
                break
            await self._say("Hello?")
        limit = self.args.hangup_after
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._talk_on(), None if limit is None else max(0.0, limit - (time.monotonic() - (self._t0 or 0)))
            )
        if not self.ended.is_set():
            self._log("hangup", who="phone", why="hangup_after")
            self.ended.set()
            await self.line.hang_up(self.leg_id)

    async def _talk_on(self) -> None:
        """Wait for the end of the call, saying "Hello?" every --talk-every seconds if given."""
        every = self.args.talk_every
        while not self.ended.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ended.wait(), every)
            if every is not None and not self.ended.is_set():
                await self._say("Hello?")


async def serve(args: argparse.Namespace, ready: ReadyChannel) -> None:
    """Start the endpoint and take calls until SIGTERM/SIGINT."""
    report = ReportWriter(args.report)
    speech = SpeechCache(args.assets / "tts")
    for text in (args.greeting, "Hello?"):
        await asyncio.to_thread(speech.render, text, USER_VOICE)
    engine = PjsuaEngine(SipSettings(bind_host=args.host, port=args.port, max_calls=4))
    await engine.start()
    calls: dict[str, PhoneCall] = {}
    tasks: set[asyncio.Task[None]] = set()
    numbers = itertools.count(1)

    def on_event(event: LegEvent) -> None:
        if event.kind == LegEventKind.INCOMING:
            call = PhoneCall(engine, event.leg_id, report, speech, args=args, call_id=f"phone-{next(numbers)}")
            calls[event.leg_id] = call
            task = asyncio.ensure_future(call.run(event.remote_uri))
            tasks.add(task)

            def finished(done: asyncio.Task[None], leg: str = event.leg_id) -> None:
                tasks.discard(done)
                calls.pop(leg, None)

            task.add_done_callback(finished)
        elif event.leg_id in calls:
            calls[event.leg_id].on_leg_event(event)

    unsubscribe = engine.subscribe_events(on_event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    uri = f"sip:user@{args.host}:{engine.local_port}"
    report.write("ready", call="", t0=None, port=engine.local_port, uri=uri)
    ready.send({"ready": True, "port": engine.local_port, "uri": uri})
    try:
        await stop.wait()
    finally:
        unsubscribe()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.stop()
        report.close()


def main() -> None:
    """Parse arguments and run the phone."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="SIP UDP port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--report", type=Path, help="JSON-lines report file (appended)")
    parser.add_argument("--answer-after", type=float, default=2.0, help="seconds of ringing before answering")
    parser.add_argument("--reject", action="store_true", help="decline every call with 486 Busy Here")
    parser.add_argument("--greeting", default="Hi, this is Alex.", help="what the user says after answering")
    parser.add_argument("--hangup-after", type=float, help="hang up this many seconds after answering")
    parser.add_argument(
        "--talk-every", type=float, help='say "Hello?" this often for the whole call (the far side hears speech)'
    )
    parser.add_argument("--assets", type=Path, default=DEFAULT_ASSET_DIR)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.answer_after < 0:
        sys.exit("--answer-after must be >= 0")
    if args.talk_every is not None and args.talk_every <= 0:
        sys.exit("--talk-every must be > 0")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    ready = ReadyChannel()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args, ready))


if __name__ == "__main__":
    main()

"""Run simulated companies on a real SIP endpoint.

    python -m hold_slayer_sim.company --company FILE [--company FILE ...] --port 0 --report calls.jsonl

The FIRST line on stdout is ``{"ready": true, "port": N, "companies": {id: "sip:id@HOST:N"}}`` and
nothing else is ever written there (file descriptor 1 is pointed at stderr before PJSUA2 starts, so
its banner cannot get in the way). Dial ``sip:<company id>@HOST:N``; the SIP user part picks the
company. At most 4 calls at once (PJSUA2's limit); more are refused with 486 Busy Here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import re
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.settings import SipSettings

from .clips import DEFAULT_ASSET_DIR, ClipLibrary
from .model import Channel, Company, CompanyFileError, load_company
from .report import ReportWriter
from .runtime import CompanyCall, Transcriber
from .speech import SAMPLE_RATE
from .stdout_guard import ReadyChannel

_LOGGER = logging.getLogger(__name__)
_USER_PART = re.compile(r"sips?:([^@;>]+)@", re.IGNORECASE)


def user_part(uri: str) -> str:
    """Return the user part of a SIP URI (``<sip:bank@127.0.0.1:5060>`` -> ``bank``), lower-cased."""
    m = _USER_PART.search(uri)
    return m.group(1).lower() if m else ""


def whisper_transcriber() -> Transcriber | None:
    """Wrap the product's embedded whisper (tiny.en) as a blocking transcriber; None if unavailable."""
    try:
        from hold_slayer_sidecar.voice.stt import EmbeddedWhisperStt
    except ImportError:
        return None
    stt = EmbeddedWhisperStt(initial_prompt=None)

    def transcribe(pcm: Pcm, rate: int) -> str:
        return stt.transcribe_blocking(pcm, rate).text

    return transcribe


class CompanyServer:
    """Answers inbound calls and runs each through the company its URI names."""

    def __init__(
        self,
        engine: PjsuaEngine,
        companies: dict[str, Company],
        library: ClipLibrary,
        report: ReportWriter,
        *,
        transcriber: Transcriber | None,
        record_dir: Path | None,
    ) -> None:
        self.engine = engine
        self.companies = companies
        self.library = library
        self.report = report
        self.transcriber = transcriber
        self.record_dir = record_dir
        self.calls: dict[str, CompanyCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)

    def on_event(self, event: LegEvent) -> None:
        """Route engine events: new calls start a CompanyCall; the rest go to their call."""
        if event.kind == LegEventKind.INCOMING:
            self._incoming(event)
            return
        call = self.calls.get(event.leg_id)
        if call is not None:
            call.on_leg_event(event)

    def _incoming(self, event: LegEvent) -> None:
        wanted = user_part(event.local_uri)
        company = self.companies.get(wanted)
        if company is None:
            self.report.write("rejected", call="", t0=None, to=event.local_uri, why="unknown company")
            self._spawn(self.engine.reject(event.leg_id, 404))
            return
        if len(self.calls) >= self.engine.settings.max_calls:
            self.report.write("rejected", call="", t0=None, to=event.local_uri, why="busy")
            self._spawn(self.engine.reject(event.leg_id, 486))
            return
        call_id = f"{company.id}-{next(self._numbers)}"
        call = CompanyCall(
            self.engine,
            event.leg_id,
            company,
            self.library,
            self.report,
            call_id=call_id,
            transcriber=self.transcriber,
            record_dir=self.record_dir,
        )
        self.calls[event.leg_id] = call
        self.report.write("call_from", call=call_id, t0=None, company=company.id, remote=event.remote_uri)

        async def run() -> None:
            try:
                await call.run()
            finally:
                self.calls.pop(event.leg_id, None)

        self._spawn(run())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel running calls."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def serve(args: argparse.Namespace, ready: ReadyChannel, companies: dict[str, Company]) -> None:
    """Start the endpoint, announce readiness and serve until SIGTERM/SIGINT."""
    library = ClipLibrary(args.assets)
    report = ReportWriter(args.report)
    for company in companies.values():  # render anything not pre-rendered before the first call
        await asyncio.to_thread(library.prerender, company)
    transcriber = None if args.no_stt else whisper_transcriber()
    engine = PjsuaEngine(SipSettings(bind_host=args.host, port=args.port, max_calls=4))
    await engine.start()
    server = CompanyServer(engine, companies, library, report, transcriber=transcriber, record_dir=args.record_dir)
    unsubscribe = engine.subscribe_events(server.on_event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = engine.local_port
    uris = {cid: f"sip:{cid}@{args.host}:{port}" for cid in companies}
    report.write("ready", call="", t0=None, port=port, companies=uris)
    ready.send({"ready": True, "port": port, "companies": uris})
    warm_up: asyncio.Future[str] | None = None
    if transcriber is not None and any(m.listens_for_speech for c in companies.values() for m in c.menus.values()):
        # Load whisper now, in the background, so the first caller's words are not delayed by the load.
        quiet = (np.random.default_rng(0).standard_normal(SAMPLE_RATE // 2) * 30).astype(np.int16)
        warm_up = asyncio.ensure_future(asyncio.to_thread(transcriber, quiet, SAMPLE_RATE))
    try:
        await stop.wait()
    finally:
        if warm_up is not None:
            with contextlib.suppress(Exception):  # a failed warm-up shows again (and is handled) on first use
                await warm_up
        unsubscribe()
        await server.close()
        await engine.stop()
        report.close()


def main() -> None:
    """Parse arguments, load the companies and serve."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--company", type=Path, action="append", required=True, help="company YAML (repeatable)")
    parser.add_argument("--port", type=int, default=0, help="SIP UDP port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind and advertise")
    parser.add_argument("--report", type=Path, help="JSON-lines report file (appended)")
    parser.add_argument("--record-dir", type=Path, help="save what each call's company hears as <call>.wav here")
    parser.add_argument("--assets", type=Path, default=DEFAULT_ASSET_DIR, help="generated asset folder")
    parser.add_argument("--no-stt", action="store_true", help="no transcription: any speech counts as a reason")
    parser.add_argument(
        "--channel",
        help='impairments for every company without its own, as JSON: {"codecs": ["pcma"], "band_hz": [300, 3400], '
        '"noise_snr_db": 20, "loss": 0.07} (FORMAT.md, channel)',
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    try:
        channel = Channel.model_validate_json(args.channel) if args.channel else None
    except ValueError as err:
        sys.exit(f"--channel: {err}")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    ready = ReadyChannel()
    companies: dict[str, Company] = {}
    try:
        for path in args.company:
            company = load_company(path)
            if channel is not None and company.channel is None:
                company = company.model_copy(update={"channel": channel})
            if company.id in companies:
                sys.exit(f"{path}: company id {company.id!r} is used twice")
            companies[company.id] = company
    except CompanyFileError as err:
        sys.exit(str(err))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args, ready, companies))


if __name__ == "__main__":
    main()

"""Keep each call in the history as it happens: its row, every transcript line, its recordings, its summary.

Listens to the call manager's events (the same ones clients get) and to the legs it registers, so the call
logic stays unaware of persistence. Writes go through one bounded queue to the store, in order; a failing
write is logged and never disturbs the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..protocol import FINAL_STATES, EventType
from ..sip.api import SipEngine, SipError, Unsubscribe
from ..store.history import RecordingRef, TranscriptLine
from ..store.sqlite import CallRecord, StoreError
from ..voice.api import SpeechToText
from .conversation import LegTranscriber, SpokenLine
from .wavfix import WavFixError, fix_sizes

_LOGGER = logging.getLogger(__name__)
_WRITE_QUEUE = 2000  # pending writes; a call produces a few per second, so this is minutes of a stalled disk
HEADER_REFRESH_S = 1.0  # how stale a live recording's WAV header may get (what a kill -9 can cost to play)


class HistoryStore(Protocol):
    """The persistence the recorder needs (``store.sqlite.Store``)."""

    async def upsert_call(self, record: CallRecord, *, status: str, human_at: float | None = None) -> None:
        """Write a call's row."""
        ...

    async def add_transcript_line(self, line: TranscriptLine) -> None:
        """Keep one line."""
        ...

    async def add_recording(self, ref: RecordingRef) -> None:
        """Keep one recording reference."""
        ...

    async def set_summary(self, call_id: str, summary: dict[str, Any]) -> None:
        """Store a summary."""
        ...


# Summarises a finished call: (lines, call start in Unix seconds, company) -> summary as JSON.
type Summarize = Callable[[list[TranscriptLine], float, str | None], Awaitable[dict[str, Any]]]
type Publish = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class TranscriptPrivacy:
    """Whether the conversation with a person (after the answer) is transcribed."""

    bridged: bool = True  # global switch
    private_companies: frozenset[str] = frozenset()  # casefolded company names never transcribed once answered

    def allows(self, company: str | None) -> bool:
        """Tell whether this company's conversation may be transcribed."""
        return self.bridged and (company or "").strip().casefold() not in self.private_companies


@dataclass(slots=True)
class _Live:
    call_id: str
    started_at: float
    company: str | None
    seq: int = 0
    legs: dict[str, str] = field(default_factory=dict)
    recordings: dict[str, RecordingRef] = field(default_factory=dict)
    lines: list[TranscriptLine] = field(default_factory=list)
    transcribers: dict[str, tuple[LegTranscriber, Unsubscribe]] = field(default_factory=dict)
    human: bool = False
    bridged: bool = False
    closing: bool = False


def _ts(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _leg_of(path: str) -> str:
    return Path(path).stem.rsplit("-", 1)[-1]


class CallRecorder:
    """Turns call events into history rows, transcript lines, recordings and a summary."""

    def __init__(
        self,
        store: HistoryStore,
        *,
        sip: SipEngine,
        publish: Publish,
        stt: SpeechToText | None = None,
        summarize: Summarize | None = None,
        privacy: TranscriptPrivacy = TranscriptPrivacy(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._sip = sip
        self._publish = publish
        self._stt = stt
        self._summarize = summarize
        self._privacy = privacy
        self._clock = clock
        self._live: dict[str, _Live] = {}
        self._writes: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue(_WRITE_QUEUE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start writing and keeping live recordings' headers current."""
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop(), name="history-writer")
        self._refresher = loop.create_task(self._refresh_loop(), name="history-wav-headers")

    async def stop(self) -> None:
        """Finish the calls' transcripts and summaries, then flush every pending write."""
        for live in list(self._live.values()):
            self._spawn(self._finish(live))
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._refresher is not None:
            self._refresher.cancel()
        if self._writer is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._writes.put_nowait(None)
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._writer, 10)

    # ------------------------------------------------------------ inputs

    def on_event(self, event: str, data: dict[str, Any]) -> None:
        """Event sink for the call manager."""
        call_id = data.get("call_id")
        if not isinstance(call_id, str):
            return
        if event == EventType.CALL_STATE:
            self._on_call_state(call_id, data)
            return
        live = self._live.get(call_id)
        if live is None:
            return
        if event == EventType.TRANSCRIPT:
            self._on_transcript(live, data)
        elif event == EventType.HUMAN_DETECTED:
            live.human = True
            self._arm(live, "company")
        elif event == EventType.BRIDGED:
            live.bridged = True
            self._arm(live, "user")

    def on_leg(self, call_id: str, leg: str, leg_id: str) -> None:
        """Tap a new leg of a call for the conversation transcript (when allowed)."""
        live = self._live.get(call_id)
        if live is None or live.closing or leg not in ("company", "user"):
            return
        live.legs[leg] = leg_id
        if self._stt is None or not self._privacy.allows(live.company):
            return
        speaker = "agent" if leg == "company" else "you"
        transcriber = LegTranscriber(
            speaker=speaker,
            leg=leg,
            stt=self._stt,
            on_line=lambda line: self._heard(live, line),
            call_started_at=live.started_at,
            clock=self._clock,
        )
        try:
            unsubscribe = self._sip.subscribe_audio(leg_id, transcriber.on_frame)
        except SipError as err:
            _LOGGER.debug("call %s: no conversation tap on %s: %s", call_id, leg, err)
            self._spawn(transcriber.close())
            return
        live.transcribers[leg] = (transcriber, unsubscribe)
        if (leg == "company" and live.human) or (leg == "user" and live.bridged):
            transcriber.arm()

    # ------------------------------------------------------------ handlers

    def _on_call_state(self, call_id: str, info: dict[str, Any]) -> None:
        now = self._clock()
        live = self._live.get(call_id)
        if live is None:
            started = _ts(info.get("started_at")) or now
            live = self._live[call_id] = _Live(call_id, started, info.get("company"))
        live.company = info.get("company") or live.company
        final = info.get("state") in FINAL_STATES
        for path in info.get("recordings") or []:
            if isinstance(path, str) and path not in live.recordings:
                ref = RecordingRef(call_id, path, _leg_of(path), max(0.0, now - live.started_at))
                live.recordings[path] = ref
                self._write(self._keep_recording(ref))
        record = CallRecord(
            call_id=call_id,
            target=str(info.get("target") or ""),
            company=info.get("company"),
            intent=info.get("intent"),
            department=info.get("department"),
            started_at=live.started_at,
            ended_at=now,
            hold_seconds=float(info.get("hold_seconds") or 0.0),
            outcome=str(info.get("outcome") or ""),
            reason=info.get("reason"),
            recordings=list(live.recordings),
        )
        human_at = _ts(info.get("human_detected_at"))
        status = "ended" if final else "live"
        self._write(lambda: self._store.upsert_call(record, status=status, human_at=human_at))
        if final and not live.closing:
            live.closing = True
            self._spawn(self._finish(live))

    def _on_transcript(self, live: _Live, data: dict[str, Any]) -> None:
        text = str(data.get("text") or "").strip()
        if not text:
            return
        live.seq += 1
        duration = data.get("duration_s")
        line = TranscriptLine(
            call_id=live.call_id,
            seq=live.seq,
            speaker=str(data.get("speaker") or "company"),
            offset_s=float(data.get("offset_s") or 0.0),
            text=text,
            duration_s=float(duration) if isinstance(duration, int | float) else None,
            leg=data.get("leg") if isinstance(data.get("leg"), str) else "company",
        )
        live.lines.append(line)
        self._write(lambda: self._store.add_transcript_line(line))

    def _keep_recording(self, ref: RecordingRef) -> Callable[[], Awaitable[None]]:
        return lambda: self._store.add_recording(ref)

    def _heard(self, live: _Live, line: SpokenLine) -> None:
        """Publish a conversation line like the call's own transcript lines (it comes back to on_event)."""
        self._publish(
            EventType.TRANSCRIPT,
            {
                "call_id": live.call_id,
                "speaker": line.speaker,
                "text": line.text,
                "offset_s": round(line.offset_s, 2),
                "duration_s": round(line.duration_s, 2),
                "leg": line.leg,
            },
        )

    def _arm(self, live: _Live, leg: str) -> None:
        entry = live.transcribers.get(leg)
        if entry is not None:
            entry[0].arm()

    async def _finish(self, live: _Live) -> None:
        """Finish a call: last lines, header sizes, then the summary."""
        for transcriber, unsubscribe in list(live.transcribers.values()):
            unsubscribe()
            await transcriber.close()
        live.transcribers.clear()
        self._live.pop(live.call_id, None)
        await self._fix_headers(live)
        if self._summarize is None:
            return
        try:
            summary = await self._summarize(list(live.lines), live.started_at, live.company)
        except Exception:  # a summary is a bonus: the history row and transcript are already kept
            _LOGGER.exception("call %s: summary failed", live.call_id)
            return
        self._write(lambda: self._store.set_summary(live.call_id, summary))
        self._publish(EventType.CALL_SUMMARY, {"call_id": live.call_id, "company": live.company, **summary})

    # ------------------------------------------------------------ writing

    def _write(self, job: Callable[[], Awaitable[None]]) -> None:
        try:
            self._writes.put_nowait(job)
        except asyncio.QueueFull:
            _LOGGER.error("history writes are stalled (%d pending): dropping one", self._writes.qsize())

    async def _write_loop(self) -> None:
        while (job := await self._writes.get()) is not None:
            try:
                await job()
            except StoreError as err:
                _LOGGER.error("cannot write the call history: %s", err)
            except Exception:
                _LOGGER.exception("history write failed")

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(HEADER_REFRESH_S)
            for live in list(self._live.values()):
                await self._fix_headers(live)

    async def _fix_headers(self, live: _Live) -> None:
        for path in list(live.recordings):
            try:
                await asyncio.to_thread(fix_sizes, Path(path))
            except (OSError, WavFixError) as err:
                _LOGGER.debug("call %s: %s: %s", live.call_id, path, err)

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

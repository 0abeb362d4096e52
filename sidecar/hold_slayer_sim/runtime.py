"""SIP glue for one company call: line events and audio become script events; effects become SIP actions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from hold_slayer_sidecar.audio.dtmf import DtmfDetector
from hold_slayer_sidecar.audio.types import AudioFrame, Pcm
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind, SipError, Unsubscribe
from hold_slayer_sidecar.voice.wav import write_wav

from .channel import impair
from .clips import ClipLibrary
from .hold import HoldAudio
from .model import Company
from .report import ReportWriter
from .script import (
    Answered,
    CallerHungUp,
    CallerSpeechEnded,
    CallerSpeechStarted,
    CallScript,
    CancelTimer,
    DigitReceived,
    Effect,
    Event,
    HangUp,
    Phase,
    Play,
    PlaybackFinished,
    Report,
    StartTimer,
    StopPlayback,
    TimerFired,
    Transcribe,
    TranscriptReady,
)
from .speech import SAMPLE_RATE, speech_onset_s
from .vad import SpeechDetector, SpeechEnd, SpeechStart

_LOGGER = logging.getLogger(__name__)

Transcriber = Callable[[Pcm, int], str]

_PROMPT_GAP_S = 0.35


class Line(Protocol):
    """The part of the SIP engine a simulated party uses (``PjsuaEngine`` fits)."""

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Unsubscribe:
        """Incoming audio of a leg."""
        ...

    async def ring(self, leg_id: str) -> None:
        """Send 180 Ringing."""
        ...

    async def answer(self, leg_id: str) -> None:
        """Send 200 OK."""
        ...

    async def reject(self, leg_id: str, status_code: int = 486) -> None:
        """Refuse an unanswered leg."""
        ...

    async def hang_up(self, leg_id: str) -> None:
        """End a leg."""
        ...

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        """Play into a leg until done (cancel to stop)."""
        ...


class CompanyCall:
    """Runs one inbound call through a company's script over a real SIP leg."""

    def __init__(
        self,
        line: Line,
        leg_id: str,
        company: Company,
        library: ClipLibrary,
        report: ReportWriter,
        *,
        call_id: str,
        transcriber: Transcriber | None = None,
        record_dir: Path | None = None,
    ) -> None:
        self.line = line
        self.leg_id = leg_id
        self.company = company
        self.library = library
        self.report = report
        self.call_id = call_id
        self.transcriber = transcriber
        self.record_dir = record_dir
        self.script = CallScript(company)
        self._events: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._t0: float | None = None
        self._play_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._detector = SpeechDetector(SAMPLE_RATE)
        self._dtmf = DtmfDetector(SAMPLE_RATE)
        self._last_segment: Pcm | None = None
        self._heard: list[Pcm] = []
        self._ended = False

    def _log(self, event: str, *, at: float | None = None, **data: Any) -> None:
        fields: dict[str, Any] = {"company": self.company.id, **data}
        self.report.write(event, call=self.call_id, t0=self._t0, at=at, **fields)

    def _put(self, event: Event) -> None:
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            _LOGGER.warning("%s: event queue full, dropping %s", self.call_id, event)

    # ------------------------------------------------------------ inputs

    def on_leg_event(self, event: LegEvent) -> None:
        """Feed a LegEvent of this leg (DTMF and hang-up)."""
        if event.kind == LegEventKind.DTMF_RECEIVED and event.digit:
            self._put(DigitReceived(event.digit))
        elif event.kind == LegEventKind.DISCONNECTED and not self._ended:
            self._ended = True
            self._log("hangup", who="caller", why=event.reason or "bye", status=event.status_code)
            self._put(CallerHungUp())

    def _on_frame(self, frame: AudioFrame) -> None:
        pcm = np.asarray(frame.pcm, dtype=np.int16)
        if self.record_dir is not None:
            self._heard.append(pcm)
        # In-band DTMF (ITU-T Q.23 tones in the audio) works like RFC 4733 events; tone frames are hidden
        # from the speech detector so a key press never counts as the caller talking.
        for digit, _t in self._dtmf.process(pcm, frame.t_s):
            self._put(DigitReceived(digit, via="inband"))
        if self._dtmf.tone_active:
            pcm = np.zeros_like(pcm)
        for ev in self._detector.process(pcm):
            if isinstance(ev, SpeechStart):
                self._put(CallerSpeechStarted())
            elif isinstance(ev, SpeechEnd):
                self._last_segment = ev.audio
                self._put(CallerSpeechEnded(ev.duration_s))

    # ------------------------------------------------------------ main loop

    async def run(self) -> None:
        """Ring, answer and run the script until someone hangs up."""
        self._log("incoming")
        unsubscribe: Unsubscribe | None = None
        try:
            if self.company.ringback_s > 0:
                await self.line.ring(self.leg_id)
                self._log("ringing", seconds=self.company.ringback_s)
                await asyncio.sleep(self.company.ringback_s)
            if self._ended:
                return
            await self.line.answer(self.leg_id)
            self._t0 = time.monotonic()
            unsubscribe = self.line.subscribe_audio(self.leg_id, self._on_frame)
            self._put(Answered())
            while self.script.phase is not Phase.ENDED:
                event = await self._events.get()
                try:
                    effects = self.script.handle(event)
                    for effect in effects:
                        await self._apply(effect)
                except Exception as err:  # a failing helper must not drop the call: log it, go on
                    _LOGGER.exception("%s: effect failed", self.call_id)
                    self._log("error", message=str(err))
        except SipError as err:
            self._log("error", message=str(err))
        finally:
            await self._cleanup(unsubscribe)

    async def _cleanup(self, unsubscribe: Unsubscribe | None) -> None:
        if unsubscribe is not None:
            unsubscribe()
        for handle in self._timers.values():
            handle.cancel()
        for task in [self._play_task, *self._tasks]:
            if task is not None:
                task.cancel()
        if not self._ended:
            self._ended = True
            with contextlib.suppress(SipError):
                await self.line.hang_up(self.leg_id)
        if self.record_dir is not None and self._heard:
            path = self.record_dir / f"{self.call_id}.wav"
            await asyncio.to_thread(write_wav, path, np.concatenate(self._heard), SAMPLE_RATE)
            self._log("recording", path=str(path))

    # ------------------------------------------------------------ effects

    async def _apply(self, effect: Effect) -> None:
        match effect:
            case Report(kind=kind, data=data):
                self._log(kind, **data)
            case Play():
                await self._start_play(effect)
            case StopPlayback():
                if self._play_task is not None:
                    self._play_task.cancel()
                    self._play_task = None
            case StartTimer(name=name, seconds=seconds):
                self._cancel_timer(name)
                loop = asyncio.get_running_loop()
                self._timers[name] = loop.call_later(seconds, self._put, TimerFired(name))
            case CancelTimer(name=name):
                self._cancel_timer(name)
            case Transcribe():
                self._spawn(self._transcribe(self._last_segment))
            case HangUp(why=why):
                if not self._ended:
                    self._ended = True
                    self._log("hangup", who="company", why=why)
                    await self.line.hang_up(self.leg_id)

    def _cancel_timer(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_play(self, play: Play) -> None:
        if self._play_task is not None:
            self._play_task.cancel()
        try:
            if isinstance(play.source, HoldAudio):
                pcm = await asyncio.to_thread(self.library.hold, play.source)
            else:
                assert play.voice is not None
                pcm = await asyncio.to_thread(self.library.clip, play.source, play.voice)
        except Exception as err:  # TTS or a WAV failed: skip the clip so the script moves on
            _LOGGER.exception("%s: cannot render %s", self.call_id, play.source)
            self._log("error", message=f"cannot render clip: {err}")
            self._put(PlaybackFinished(play.tag, 0.0))
            return
        if not isinstance(play.source, HoldAudio) and play.voice == self.company.voice:
            # Recorded IVR prompts end with a short pause before the next one starts, as on real systems.
            pcm = np.concatenate([pcm, np.zeros(round(_PROMPT_GAP_S * SAMPLE_RATE), np.int16)])
        onset_s = speech_onset_s(pcm)  # ground truth from the clean clip: noise must not move the first word
        if self.company.channel is not None:
            pcm = await asyncio.to_thread(impair, pcm, self.company.channel)
        self._play_task = asyncio.ensure_future(self._play(play, pcm, onset_s))

    async def _play(self, play: Play, pcm: Pcm, onset_s: float) -> None:
        started = time.monotonic()
        if play.mark:
            # Ground truth: the moment the first word is heard, i.e. playback start plus the clip's lead-in.
            self._log(play.mark, at=started + onset_s, **play.mark_data)
        try:
            await self.line.play(self.leg_id, pcm, SAMPLE_RATE)
        except SipError as err:
            if self._ended:
                return
            self._log("error", message=f"play failed: {err}")
        self._put(PlaybackFinished(play.tag, time.monotonic() - started))

    async def _transcribe(self, audio: Pcm | None) -> None:
        text: str | None = None
        if audio is not None and self.transcriber is not None:
            try:
                text = await asyncio.to_thread(self.transcriber, audio, SAMPLE_RATE)
            except Exception as err:  # a failed transcription counts as speech without words
                self._log("error", message=f"transcription failed: {err}")
        self._put(TranscriptReady(text))

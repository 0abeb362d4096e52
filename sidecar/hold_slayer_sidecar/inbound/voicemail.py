"""Voicemail: greet the caller, record the message up to a limit, keep the WAV, transcribe it, announce it.

The recording is the caller's audio as the sidecar receives it (20 ms frames), written once the message
ends: by the caller hanging up, the length limit, or a stretch of silence (an answering machine's "nobody
is speaking any more"). It is stored before transcription, so a failing speech-to-text leaves a voicemail
without a transcript, never no voicemail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.types import AudioFrame, Pcm
from ..protocol import EventType, VoicemailInfo
from ..sip.api import LegEventKind, SipEngine, SipError
from ..store.inbound import VOICEMAIL_FILE_SUFFIX, InboundStore, Voicemail
from ..store.sqlite import StoreError
from ..voice.api import EngineOffError, SpeechToText, TextToSpeech, VoiceEngineError
from ..voice.wav import write_wav
from .legs import LegEvents

_LOGGER = logging.getLogger(__name__)

DEFAULT_GREETING = "Sorry, nobody can take your call right now. Please leave a message after the tone."
# The tone that says "speak now": 1 kHz for 0.4 s at -12 dBFS, as answering machines have long used.
BEEP_HZ = 1000.0
BEEP_S = 0.4
# A 20 ms frame quieter than -45 dBFS is silence on a telephone line: line noise and comfort noise sit
# around -60 to -50 dBFS, the quietest speech well above -40 dBFS.
SILENCE_DBFS = -45.0
KEEP_TRAILING_S = 0.5  # silence kept after the last word (cutting right at it sounds clipped)


@dataclass(frozen=True, slots=True)
class VoicemailSettings:
    """How messages are taken."""

    limit_s: float = 90.0  # the longest message kept (issue #18's default)
    # Ten seconds without a word ends the message: long enough for a pause to think, short enough
    # that a caller who forgot to hang up does not fill the box.
    silence_limit_s: float = 10.0
    greeting: str = DEFAULT_GREETING


@dataclass(frozen=True, slots=True)
class MessageFor:
    """Whose message is being taken."""

    call_id: str
    leg_id: str
    caller: str
    caller_name: str | None
    dialled: str | None


def voicemail_info(v: Voicemail) -> VoicemailInfo:
    """Return the wire form of a stored voicemail (the recording by file name: fetched with the call id)."""
    return VoicemailInfo(
        voicemail_id=v.voicemail_id,
        call_id=v.call_id,
        caller=v.caller,
        caller_name=v.caller_name,
        dialled=v.dialled,
        received_at=_iso(v.received_at),
        duration_s=round(v.duration_s, 2),
        transcript=v.transcript,
        recording=Path(v.recording).name,
        heard=v.heard,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def beep(sample_rate: int) -> Pcm:
    """Return the tone played before recording."""
    t = np.arange(int(sample_rate * BEEP_S)) / sample_rate
    return (0.25 * 32767 * np.sin(2 * np.pi * BEEP_HZ * t)).astype(np.int16)


def is_silent(pcm: Pcm) -> bool:
    """Whether a frame is below the silence level."""
    if pcm.size == 0:
        return True
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return rms < 32767.0 * 10 ** (SILENCE_DBFS / 20)


class MessageRecorder:
    """Collects one caller's frames until the limit or the silence limit (bounded by the limit)."""

    def __init__(self, settings: VoicemailSettings) -> None:
        self._settings = settings
        self.frames: list[Pcm] = []
        self.sample_rate = 8000
        self.heard_voice = False
        self._seconds = 0.0
        self._silent_s = 0.0
        self._last_voice_s = 0.0
        self.full = asyncio.Event()

    def add(self, frame: AudioFrame) -> None:
        """Take one frame (called on the loop by the SIP engine's audio tap)."""
        if self.full.is_set():
            return
        self.sample_rate = frame.sample_rate
        self.frames.append(frame.pcm)
        seconds = frame.pcm.size / frame.sample_rate
        self._seconds += seconds
        if is_silent(frame.pcm):
            self._silent_s += seconds
        else:
            self.heard_voice = True
            self._silent_s = 0.0
            self._last_voice_s = self._seconds
        if self._seconds >= self._settings.limit_s or self._silent_s >= self._settings.silence_limit_s:
            self.full.set()

    def message(self) -> Pcm:
        """Return the message, trailing silence trimmed to a short tail."""
        if not self.frames:
            return np.zeros(0, np.int16)
        pcm = np.concatenate(self.frames)
        end = int((self._last_voice_s + KEEP_TRAILING_S) * self.sample_rate)
        return pcm[: max(0, min(len(pcm), end))]


class VoicemailTaker:
    """Takes messages on answered inbound legs."""

    def __init__(
        self,
        sip: SipEngine,
        legs: LegEvents,
        store: InboundStore,
        *,
        recordings_dir: Path,
        sample_rate: int,
        clock: Callable[[], float],
        publish: Callable[[str, dict[str, Any]], None],
        tts: TextToSpeech | None = None,
        stt: SpeechToText | None = None,
        settings: VoicemailSettings | None = None,
    ) -> None:
        self._sip = sip
        self._legs = legs
        self._store = store
        self._recordings = recordings_dir
        self._rate = sample_rate
        self._clock = clock
        self._publish = publish
        self._tts = tts
        self._stt = stt
        self.settings = settings or VoicemailSettings()

    async def take(self, who: MessageFor) -> Voicemail | None:
        """Greet, record and keep a message; None when the caller left none (hung up, or said nothing)."""
        received_at = self._clock()
        await self._greet(who.leg_id)
        recorder = MessageRecorder(self.settings)
        try:
            unsubscribe = self._sip.subscribe_audio(who.leg_id, recorder.add)
        except SipError:
            return None  # the caller hung up during the greeting
        try:
            await self._until_done(who.leg_id, recorder)
        except asyncio.CancelledError:
            # The sidecar is stopping mid-message: what the caller already said is kept all the same.
            if recorder.heard_voice:
                await asyncio.shield(self._keep(who, recorder.message(), recorder.sample_rate, received_at))
            raise
        finally:
            unsubscribe()
            with contextlib.suppress(SipError):
                await asyncio.shield(self._sip.hang_up(who.leg_id))
        if not recorder.heard_voice:
            _LOGGER.info("call %s: the caller left no message", who.call_id)
            return None
        return await self._keep(who, recorder.message(), recorder.sample_rate, received_at)

    async def _greet(self, leg_id: str) -> None:
        if self._tts is not None and self.settings.greeting:
            try:
                speech = await self._tts.synthesize(self.settings.greeting, self._rate)
                await self._sip.play(leg_id, speech.pcm, speech.sample_rate)
            except (VoiceEngineError, SipError) as err:  # the tone alone still says "speak now"
                _LOGGER.warning("voicemail greeting failed: %s", err)
        with contextlib.suppress(SipError):
            await self._sip.play(leg_id, beep(self._rate), self._rate)

    async def _until_done(self, leg_id: str, recorder: MessageRecorder) -> None:
        full = asyncio.create_task(recorder.full.wait())
        gone = asyncio.create_task(self._legs.wait(leg_id, (LegEventKind.DISCONNECTED,)))
        try:
            # The limit bounds the wait even when no audio flows (a stalled worker delivers no frames).
            await asyncio.wait({full, gone}, timeout=self.settings.limit_s + 5, return_when=asyncio.FIRST_COMPLETED)
        finally:
            full.cancel()
            gone.cancel()

    async def _keep(self, who: MessageFor, pcm: Pcm, sample_rate: int, received_at: float) -> Voicemail | None:
        day = datetime.fromtimestamp(received_at, UTC).strftime("%Y-%m-%d")
        path = self._recordings / day / f"{who.call_id}{VOICEMAIL_FILE_SUFFIX}"
        try:
            await asyncio.to_thread(write_wav, path, pcm, sample_rate)
        except OSError as err:
            _LOGGER.error("call %s: cannot write the voicemail %s: %s", who.call_id, path, err)
            return None
        voicemail = Voicemail(
            voicemail_id=uuid.uuid4().hex[:12],
            call_id=who.call_id,
            caller=who.caller,
            caller_name=who.caller_name,
            dialled=who.dialled,
            received_at=received_at,
            duration_s=len(pcm) / sample_rate,
            transcript=None,
            recording=str(path),
        )
        try:
            await self._store.add_voicemail(voicemail)  # kept before transcription: nothing is lost if it fails
            voicemail = replace(voicemail, transcript=await self._transcribe(pcm, sample_rate))
            await self._store.add_voicemail(voicemail)
            unheard = await self._store.unheard()
        except StoreError as err:
            _LOGGER.error("call %s: cannot keep the voicemail: %s", who.call_id, err)
            return voicemail
        self._publish(EventType.VOICEMAIL, dict(voicemail_info(voicemail)))
        changed = {"voicemail_id": voicemail.voicemail_id, "heard": False, "deleted": False, "unheard": unheard}
        self._publish(EventType.VOICEMAIL_CHANGED, changed)
        return voicemail

    async def _transcribe(self, pcm: Pcm, sample_rate: int) -> str | None:
        if self._stt is None:
            return None
        try:
            return (await self._stt.transcribe(pcm, sample_rate)).text.strip() or None
        except EngineOffError:
            return None  # speech-to-text switched off: the message is kept without words
        except Exception as err:  # any failure of the helper: the message is kept without words
            _LOGGER.warning("voicemail transcription failed: %s", err)
            return None

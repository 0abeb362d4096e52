"""Conference-bridge ports: a tap that turns a leg's audio into 20 ms frames, and a PCM player.

Both port callbacks run on PJMEDIA's clock thread, not the PJSUA2 thread: they only touch Python state
(behind a lock) and hand results to asyncio with ``call_soon_threadsafe``; they never call PJSUA2 APIs.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import threading
from collections.abc import Callable

import numpy as np
import pjsua2 as pj

from ..audio.types import FRAME_MS, AudioFrame, Pcm
from ..voice.resample import resample_pcm
from .errors import log_exception

_LOGGER = logging.getLogger(__name__)

MAX_BACKLOG_FRAMES = 500  # 10 s of 20 ms frames per tap


def frame_samples(clock_rate: int) -> int:
    """Return the samples in one 20 ms frame at ``clock_rate``."""
    return clock_rate * FRAME_MS // 1000


def _port_format(clock_rate: int) -> pj.MediaFormatAudio:
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = clock_rate
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = FRAME_MS * 1000
    return fmt


def _read_frame(frame: pj.MediaFrame) -> bytes:
    # bytes(frame.buf) copies element by element through SWIG (~360 us); the vector's first word is
    # its data pointer, so ctypes reads the whole buffer in ~6 us.
    size = int(frame.size)
    if size <= 0:
        return b""
    data = ctypes.c_void_p.from_address(int(frame.buf.this)).value
    return b"" if data is None else ctypes.string_at(data, size)


def resample(pcm: Pcm, from_rate: int, to_rate: int) -> Pcm:
    """Band-limited resampling of int16 mono PCM to the bridge's clock rate (no copy when rates match)."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"bad sample rate {from_rate} -> {to_rate}")
    if from_rate == to_rate or pcm.size == 0:
        return pcm.astype(np.int16, copy=False)
    # Linear interpolation would fold 4-8 kHz TTS energy back into the telephone band as hiss.
    return resample_pcm(pcm, from_rate, to_rate)


class TapPort(pj.AudioMediaPort):  # type: ignore[misc]
    """Receives what a leg hears and delivers it as ``AudioFrame`` objects on the asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock_rate: int, deliver: Callable[[AudioFrame], None]) -> None:
        super().__init__()
        self._loop = loop
        self._rate = clock_rate
        self._samples = frame_samples(clock_rate)
        self._outbox: _Outbox | None = _Outbox(deliver)
        self._frames = 0
        self._silence = np.zeros(self._samples, dtype=np.int16)

    def rebind(self, deliver: Callable[[AudioFrame], None] | None) -> None:
        """Send this port's frames to ``deliver`` from now on (None: drop them while the port waits for reuse)."""
        # One reference swap: the media thread sees either the old outbox or the new one, never half of each.
        self._outbox = None if deliver is None else _Outbox(deliver)
        self._frames = 0

    def create(self, name: str) -> None:
        """Register the port in the conference bridge (PJSUA2 thread only)."""
        self.createPort(name, _port_format(self._rate))

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # PJSUA2 callback name
        """Conference-bridge callback: copy the frame out and post it to asyncio."""
        outbox = self._outbox
        if outbox is None:
            return  # an idle port kept for reuse: nobody listens
        try:
            raw = _read_frame(frame) if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO else b""
            # No transmitter or a short frame: keep stream time continuous with silence.
            pcm = np.frombuffer(raw, dtype=np.int16) if len(raw) == self._samples * 2 else self._silence
            self._frames += 1
            audio = AudioFrame(pcm=pcm, sample_rate=self._rate, t_s=self._frames * FRAME_MS / 1000)
            if outbox.reserve():
                # Post the outbox's method, never one of this port's: a pending loop callback must not
                # hold the last reference to a PJSUA2 object, or it is destroyed on the loop's thread.
                self._loop.call_soon_threadsafe(outbox.hand_over, audio)
        except Exception:  # media-thread boundary
            log_exception(_LOGGER, "audio tap callback failed")


class _Outbox:
    """Frames posted to the loop but not yet delivered; bounded so a stalled loop cannot grow memory."""

    def __init__(self, deliver: Callable[[AudioFrame], None]) -> None:
        self._deliver = deliver
        self._lock = threading.Lock()
        self._pending = 0
        self._dropped = 0

    def reserve(self) -> bool:
        """Return True if one more frame may be posted (stream time advances over dropped ones)."""
        with self._lock:
            if self._pending < MAX_BACKLOG_FRAMES:
                self._pending += 1
                return True
            self._dropped += 1
            dropped = self._dropped
        if dropped % MAX_BACKLOG_FRAMES == 1:
            _LOGGER.warning("event loop is not keeping up: dropped %d audio frames", dropped)
        return False

    def hand_over(self, audio: AudioFrame) -> None:
        """Deliver one frame on the loop."""
        with self._lock:
            self._pending -= 1
        self._deliver(audio)


class PlayerPort(pj.AudioMediaPort):  # type: ignore[misc]
    """Plays queued PCM into the bridge; ``load`` replaces what is playing, ``stop`` silences it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock_rate: int) -> None:
        super().__init__()
        self._loop = loop
        self._rate = clock_rate
        self._bytes_per_frame = frame_samples(clock_rate) * 2
        self._lock = threading.Lock()
        self._pcm = b""
        self._pos = 0
        self._done: asyncio.Future[None] | None = None

    def create(self, name: str) -> None:
        """Register the port in the conference bridge (PJSUA2 thread only)."""
        self.createPort(name, _port_format(self._rate))

    def load(self, pcm: Pcm, done: asyncio.Future[None]) -> None:
        """Start playing ``pcm`` (at the bridge clock rate); ``done`` resolves when it has all been sent."""
        with self._lock:
            previous = self._done
            self._pcm = pcm.astype("<i2", copy=False).tobytes()
            self._pos = 0
            self._done = done
        if previous is not None:
            self._finish(previous)
        if not self._pcm:
            self.stop()

    def stop(self, done: asyncio.Future[None] | None = None) -> None:
        """Stop playback now (only if ``done`` is the current playback, when given)."""
        with self._lock:
            if done is not None and done is not self._done:
                return
            finished = self._done
            self._pcm = b""
            self._pos = 0
            self._done = None
        if finished is not None:
            self._finish(finished)

    def _finish(self, done: asyncio.Future[None]) -> None:
        def settle() -> None:
            if not done.done():
                done.set_result(None)

        try:
            self._loop.call_soon_threadsafe(settle)
        except RuntimeError:
            _LOGGER.debug("event loop closed before playback finished")

    def _next_chunk(self) -> tuple[bytes, asyncio.Future[None] | None]:
        with self._lock:
            if not self._pcm:
                return b"", None
            chunk = self._pcm[self._pos : self._pos + self._bytes_per_frame]
            self._pos += self._bytes_per_frame
            if self._pos < len(self._pcm):
                return chunk, None
            finished = self._done
            self._pcm = b""
            self._pos = 0
            self._done = None
            return chunk, finished

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:  # PJSUA2 callback name
        """Conference-bridge callback: hand out the next 20 ms of PCM (or no frame when idle)."""
        try:
            chunk, finished = self._next_chunk()
            if not chunk:
                frame.type = pj.PJMEDIA_FRAME_TYPE_NONE
                frame.size = 0
                return
            chunk = chunk.ljust(self._bytes_per_frame, b"\x00")
            frame.buf.resize(len(chunk))
            data = ctypes.c_void_p.from_address(int(frame.buf.this)).value
            if data is None:
                return
            ctypes.memmove(data, chunk, len(chunk))
            frame.size = len(chunk)
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            if finished is not None:
                self._finish(finished)
        except Exception:  # media-thread boundary
            log_exception(_LOGGER, "audio player callback failed")

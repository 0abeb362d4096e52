"""Framing between the sidecar and a media worker: length-prefixed messages and raw audio over a Unix socket.

Every frame is ``u32 length | u8 kind | body`` (network byte order). A MESSAGE body is
``u32 json length | JSON object | optional binary blob`` (the blob carries PCM for ``play``). An AUDIO body
is ``u8 leg-id length | leg id | f64 stream time | u32 sample rate | int16 PCM``: 20 ms of audio costs a
17-byte header and a copy, never a JSON array. No PJSUA2 import: the sidecar uses this module too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from ..audio.types import AudioFrame

_LOGGER = logging.getLogger(__name__)

_HEAD = struct.Struct("!IB")
_JSON_LEN = struct.Struct("!I")
_AUDIO_HEAD = struct.Struct("!dI")
# A whole TTS prompt travels in one frame: 2 minutes of 48 kHz int16 is 11 MB; anything bigger is a bug.
MAX_FRAME_BYTES = 16 * 1024 * 1024
# Audio waiting in the socket's send buffer beyond this is dropped (counted), so a sidecar that stops
# reading costs the worker bounded memory and never stalls its PJSUA2 or media threads. 256 KiB is about
# 15 s of one 8 kHz leg (343 bytes a frame), far above any healthy loop's jitter.
AUDIO_BACKLOG_BYTES = 256 * 1024


class ChannelError(Exception):
    """The peer sent a frame this side cannot read (the channel is then unusable)."""


class FrameKind(IntEnum):
    """What a frame carries."""

    MESSAGE = 1
    AUDIO = 2


@dataclass(frozen=True, slots=True)
class Message:
    """A control message: a JSON object and an optional binary blob."""

    data: dict[str, Any]
    blob: bytes = b""


@dataclass(frozen=True, slots=True)
class LegAudio:
    """One audio frame of one leg (the leg id is the worker's own)."""

    leg_id: str
    frame: AudioFrame


def encode_message(data: dict[str, Any], blob: bytes = b"") -> bytes:
    """Return the wire bytes of a control message."""
    text = json.dumps(data, separators=(",", ":")).encode()
    body = _JSON_LEN.pack(len(text)) + text + blob
    return _frame(FrameKind.MESSAGE, body)


def encode_audio(leg_id: str, frame: AudioFrame) -> bytes:
    """Return the wire bytes of one audio frame."""
    leg = leg_id.encode()
    if len(leg) > 255:
        raise ChannelError(f"leg id too long: {leg_id[:40]!r}")
    pcm = frame.pcm.astype("<i2", copy=False).tobytes()
    body = bytes([len(leg)]) + leg + _AUDIO_HEAD.pack(frame.t_s, frame.sample_rate) + pcm
    return _frame(FrameKind.AUDIO, body)


def _frame(kind: FrameKind, body: bytes) -> bytes:
    if len(body) + 1 > MAX_FRAME_BYTES:
        raise ChannelError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEAD.pack(len(body) + 1, kind) + body


def decode(kind: int, body: bytes) -> Message | LegAudio:
    """Decode one frame's body."""
    try:
        if kind == FrameKind.MESSAGE:
            (size,) = _JSON_LEN.unpack_from(body)
            data = json.loads(body[4 : 4 + size])
            if not isinstance(data, dict):
                raise ChannelError("a message must be a JSON object")
            return Message(data, body[4 + size :])
        if kind == FrameKind.AUDIO:
            size = body[0]
            leg_id = body[1 : 1 + size].decode()
            t_s, rate = _AUDIO_HEAD.unpack_from(body, 1 + size)
            pcm = np.frombuffer(body, dtype="<i2", offset=1 + size + _AUDIO_HEAD.size).astype(np.int16, copy=False)
            return LegAudio(leg_id, AudioFrame(pcm=pcm, sample_rate=int(rate), t_s=float(t_s)))
    except (struct.error, IndexError, ValueError) as err:
        raise ChannelError(f"malformed frame of kind {kind}: {err}") from err
    raise ChannelError(f"unknown frame kind {kind}")


async def read_frame(reader: asyncio.StreamReader) -> Message | LegAudio | None:
    """Read and decode the next frame; None at a clean end of stream."""
    try:
        head = await reader.readexactly(_HEAD.size)
    except asyncio.IncompleteReadError as err:
        if err.partial:
            raise ChannelError("stream ended inside a frame header") from err
        return None
    length, kind = _HEAD.unpack(head)
    if not 1 <= length <= MAX_FRAME_BYTES:
        raise ChannelError(f"bad frame length {length}")
    try:
        body = await reader.readexactly(length - 1)
    except asyncio.IncompleteReadError as err:
        raise ChannelError("stream ended inside a frame") from err
    return decode(kind, body)


class AudioSender:
    """Writes audio frames to a stream, dropping (and counting) them while the reader is too far behind."""

    def __init__(self, writer: asyncio.StreamWriter, backlog_bytes: int = AUDIO_BACKLOG_BYTES) -> None:
        self._writer = writer
        self._backlog = backlog_bytes
        self.dropped = 0

    def send(self, leg_id: str, frame: AudioFrame) -> None:
        """Queue one frame unless the backlog is full (runs on the worker's loop, never on a PJSUA2 thread)."""
        writer = self._writer
        if writer.is_closing():
            return
        if writer.transport.get_write_buffer_size() > self._backlog:
            self.dropped += 1
            if self.dropped % 500 == 1:
                _LOGGER.warning("the sidecar is not reading audio: dropped %d frames", self.dropped)
            return
        writer.write(encode_audio(leg_id, frame))

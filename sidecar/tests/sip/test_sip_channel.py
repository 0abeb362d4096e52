"""The sidecar <-> media worker channel: framing round trips, hostile frames, a reader that falls behind."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.channel import (
    AUDIO_BACKLOG_BYTES,
    MAX_FRAME_BYTES,
    AudioSender,
    ChannelError,
    LegAudio,
    Message,
    encode_audio,
    encode_message,
    read_frame,
)
from hold_slayer_sidecar.sip.settings import SipSettings, settings_from_wire, settings_to_wire
from hold_slayer_sidecar.sip.worker_link import describe_exit


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_messages_and_audio_round_trip() -> None:
    pcm = (np.arange(160) - 80).astype(np.int16)
    wire = encode_message({"op": "play", "id": 7}, b"\x01\x02") + encode_audio("leg-3", AudioFrame(pcm, 8000, 1.24))
    reader = reader_of(wire)
    message = await read_frame(reader)
    assert message == Message({"op": "play", "id": 7}, b"\x01\x02")
    audio = await read_frame(reader)
    assert isinstance(audio, LegAudio) and audio.leg_id == "leg-3"
    assert audio.frame.sample_rate == 8000 and audio.frame.t_s == 1.24
    assert audio.frame.pcm.dtype == np.int16 and np.array_equal(audio.frame.pcm, pcm)
    assert await read_frame(reader) is None  # a clean end between frames
    assert len(encode_audio("leg-3", AudioFrame(pcm, 8000, 0.0))) - pcm.nbytes == 23  # the whole per-frame cost


@pytest.mark.parametrize(
    ("wire", "error"),
    [
        (struct.pack("!IB", 0, 1), "bad frame length"),
        (struct.pack("!IB", MAX_FRAME_BYTES + 1, 1), "bad frame length"),
        (struct.pack("!IB", 5, 9) + b"abcd", "unknown frame kind"),
        (struct.pack("!IB", 7, 1) + struct.pack("!I", 2) + b"[]", "must be a JSON object"),
        (struct.pack("!IB", 7, 1) + struct.pack("!I", 2) + b"{x", "malformed"),
        (struct.pack("!IB", 3, 2) + b"\x09ab", "malformed"),  # leg id longer than the frame
        (struct.pack("!IB", 9, 1) + b"abc", "stream ended inside a frame"),
        (b"\x00\x00", "inside a frame header"),
    ],
)
async def test_malformed_frames_are_refused_with_a_clear_error(wire: bytes, error: str) -> None:
    with pytest.raises(ChannelError, match=error):
        await read_frame(reader_of(wire))


def test_oversize_and_bad_leg_ids_are_refused_on_the_sending_side() -> None:
    with pytest.raises(ChannelError, match="exceeds"):
        encode_message({}, b"\x00" * MAX_FRAME_BYTES)
    with pytest.raises(ChannelError, match="leg id too long"):
        encode_audio("x" * 300, AudioFrame(np.zeros(160, np.int16), 8000, 0.0))


def test_settings_cross_the_channel_unchanged() -> None:
    settings = SipSettings(port=5070, registrar="sip:pbx.example", username="me", password="pw", register=False)
    settings = SipSettings(**{**settings_to_wire(settings), "dtmf_method": DtmfMethod.SIP_INFO, "codecs": ("PCMA",)})
    assert settings_from_wire(settings_to_wire(settings)) == settings


def test_worker_exits_are_described_for_people() -> None:
    assert describe_exit(-11) == "killed by signal 11, SIGSEGV"
    assert describe_exit(-6) == "killed by signal 6, SIGABRT"
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(None) == "stopped responding"


class _StalledTransport:
    """A transport whose peer stopped reading: its send buffer only grows."""

    def __init__(self) -> None:
        self.buffered = 0

    def get_write_buffer_size(self) -> int:
        return self.buffered


class _StalledWriter:
    def __init__(self) -> None:
        self.transport = _StalledTransport()

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.transport.buffered += len(data)


def test_a_sidecar_that_stops_reading_costs_the_worker_bounded_memory() -> None:
    writer: Any = _StalledWriter()
    sender = AudioSender(writer)
    frame = AudioFrame(np.zeros(160, np.int16), 8000, 0.02)
    for _ in range(3000):  # a minute of one leg
        sender.send("leg-1", frame)
    assert writer.transport.buffered <= AUDIO_BACKLOG_BYTES + 343
    assert sender.dropped == 3000 - writer.transport.buffered // 343 > 2000

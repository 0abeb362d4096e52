"""The chaos bench's own readers: SIPp's message log, RTP port pairs, G.711 tones, WAVs a player can read."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from hold_slayer_tools.bench.kills import heard_after, playable_seconds, trunk_byes
from hold_slayer_tools.bench.rtp_inject import rtp_ports, ulaw

# As SIPp -trace_msg writes it: a header line, a blank line, then the message (requests and answers alike).
MESSAGES = """----------------------------------------------- 2026-12-07 09:04:27.368
UDP message received [482] bytes :

BYE sip:company@127.0.0.2:48619 SIP/2.0
Call-ID: a

----------------------------------------------- 2026-12-07 09:04:27.369
UDP message sent (405 bytes):

SIP/2.0 200 OK
CSeq: 2 BYE

----------------------------------------------- 2026-12-07 09:04:28.000
UDP message received [300] bytes :

SIP/2.0 200 OK
CSeq: 3 BYE

----------------------------------------------- 2026-12-07 09:04:29.000
UDP message received [482] bytes :

INVITE sip:5550100@127.0.0.2 SIP/2.0
"""


def test_trunk_byes_counts_only_bye_requests_received(tmp_path: Path) -> None:
    (tmp_path / "trunk_123_messages.log").write_text(MESSAGES)
    assert trunk_byes(tmp_path) == 1


def test_rtp_ports_are_even_ports_with_their_rtcp_neighbour() -> None:
    assert rtp_ports({5060, 4000, 4001, 4002, 4005, 4006, 4007}, sip_port=5060) == [4000, 4006]


def test_ulaw_encodes_g711_reference_values() -> None:
    # ITU-T G.711 mu-law: silence is 0xFF, full scale positive 0x80, full scale negative 0x00.
    assert ulaw(np.array([0, 32767, -32768], dtype=np.int16)) == bytes([0xFF, 0x80, 0x00])


def test_playable_seconds_reads_a_wav_and_refuses_a_broken_one() -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(np.zeros(4000, dtype=np.int16).tobytes())
    assert playable_seconds(buffer.getvalue()) == 0.5
    assert playable_seconds(b"RIFF\0\0\0\0WAVEjunk") == 0.0


def test_heard_after_counts_matching_lines_after_a_moment() -> None:
    lines = [
        {"event": "caller_speech", "wall": 10.0, "phase": "agent"},
        {"event": "caller_speech", "wall": 20.0, "phase": "agent"},
        {"event": "caller_speech", "wall": 21.0, "phase": "menu"},
    ]
    assert heard_after(lines, "caller_speech", 15.0, phase="agent") == 1

"""A caller's speech as an RTP capture SIPp can replay (``play_pcap_audio``), for the inbound end-to-end tests.

    python speech_pcap.py TEXT OUT.pcap

synthesises TEXT with the sidecar's embedded voice (piper, offline) and writes OUT.pcap; prints the length in ms.
The HA contract tests run it with the sidecar's interpreter (their own environment has no voice stack).
"""

from __future__ import annotations

import asyncio
import struct
import sys
from pathlib import Path

import numpy as np


def ulaw(pcm: np.ndarray) -> bytes:
    """G.711 mu-law (ITU-T G.711, on the 14-bit magnitude as the reference encoder does) of 16-bit PCM."""
    x = pcm.astype(np.int32) >> 2
    sign = (x < 0).astype(np.int32) << 7
    magnitude = np.minimum(np.abs(x), 8158) + 0x21
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 5, 0, 7)
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    return ((~(sign | (exponent << 4) | mantissa)) & 0xFF).astype(np.uint8).tobytes()


def rtp_pcap(pcm: np.ndarray, path: Path) -> None:
    """Write 20 ms PCMU RTP packets (RFC 3551) in a pcap file (Ethernet, IPv4, UDP) paced in real time."""
    payload = ulaw(pcm)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for index in range(len(payload) // 160):
        rtp = (
            struct.pack("!BBHII", 0x80, 0x80 if index == 0 else 0, index, index * 160, 0x1234)
            + payload[index * 160 : (index + 1) * 160]
        )
        udp = struct.pack("!HHHH", 4000, 4002, 8 + len(rtp), 0) + rtp
        loopback = bytes([127, 0, 0, 1])
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), index, 0, 64, 17, 0, loopback, loopback) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        t = index * 0.02
        out.append(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


async def spoken(text: str) -> np.ndarray:
    """Return ``text`` said by the embedded voice, 8 kHz 16-bit PCM."""
    from hold_slayer_sidecar.voice.tts import PiperTts

    return (await PiperTts().synthesize(text, 8000)).pcm


def main(text: str, out: Path) -> None:
    """Write the capture and print its length in milliseconds."""
    pcm = asyncio.run(spoken(text))
    rtp_pcap(pcm, out)
    print(int(len(pcm) / 8))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))

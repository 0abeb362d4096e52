"""RTP from a stranger into a bridged call's media ports: it must reach neither the call nor take its audio away.

Without help pjmedia reads RTP from any source and follows a new one after ``PJMEDIA_RTP_NAT_PROBATION_CNT``
(10, compiled in) consecutive packets from it (pjsua attaches each media transport with options 0). The media
workers therefore give each call's RTP/RTCP sockets a filter that admits only the peer its SDP names
(``sip.rtp_peer_only``, on by default; ``hold_slayer_sidecar/sip/rtp_filter.py``): the kernel drops the rest.
This attack sends a trickle (one packet per 20 ms, interleaved with the peer's) and a burst (15 per 20 ms, more
than the probation count between two of the peer's) of PCMU from 127.0.0.8 to every media port of the call's
workers. It fails
when any of the call's own packets come back to the injector (pjmedia latched onto it: the stranger was heard
in the call and heard it), or when the bridged call lost its speech either way afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import numpy as np

from .chaos_stage import Outcome, Stage, hang_up
from .kills import bridge_call, grown, heard_after, snapshot_ports
from .workers import udp_ports

INJECTOR_IP = "127.0.0.8"
PACKET_S = 0.02  # 20 ms of PCMU per packet, as the call's own stream
PHASE_S = 2.0  # long enough for the stream to latch and for 100 packets of ours to be redirected
AFTER_S = 12.0  # the phone's and the agent's turns: speech both ways again, or not
BURST = 15  # packets per 20 ms: more than PJMEDIA_RTP_NAT_PROBATION_CNT (10) between two of the peer's
SSRC = 0x0BADF00D


def ulaw(pcm: np.ndarray) -> bytes:
    """Encode 16-bit linear PCM as G.711 mu-law (ITU-T G.711: bias 0x84, segment, 4-bit mantissa, inverted)."""
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm.astype(np.int32)), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes())


def pcmu_tone(freq: float, seq: int) -> bytes:
    """One RTP packet (RFC 3550 header, payload type 0) of a loud tone: what an injector would say."""
    t = (np.arange(160) + seq * 160) / 8000.0
    pcm = (12000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, SSRC)
    return header + ulaw(pcm)


def rtp_ports(ports: set[int], sip_port: int | None = None) -> list[int]:
    """Even ports whose odd neighbour is open too (RTP and RTCP, RFC 3550 s11), without the SIP port."""
    return sorted(port for port in ports if port % 2 == 0 and port + 1 in ports and port != sip_port)


async def inject(ports: list[int], per_tick: int) -> tuple[int, int]:
    """Send PHASE_S of tone to every port; return (packets sent, packets of the call's audio received back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((INJECTOR_IP, 0))
        sock.setblocking(False)
        sent = received = seq = 0
        started = time.monotonic()
        while time.monotonic() - started < PHASE_S:
            for _ in range(per_tick):
                for port in ports:
                    sock.sendto(pcmu_tone(1000.0, seq), ("127.0.0.1", port))
                    sent += 1
                seq += 1
            received += drain(sock)
            await asyncio.sleep(PACKET_S)
        await asyncio.sleep(0.2)
        return sent, received + drain(sock)


def drain(sock: socket.socket) -> int:
    """Read every datagram waiting on the socket; return how many there were."""
    count = 0
    while True:
        try:
            sock.recv(2048)
        except (BlockingIOError, ConnectionRefusedError):
            return count
        count += 1


async def rtp_inject(run: Stage) -> Outcome:
    """Inject RTP into a bridged call's media ports, as a trickle and as a burst; fail if it takes the stream."""
    parent = run.sidecar.process.pid
    before = snapshot_ports(parent)
    bridged, why = await bridge_call(run)
    try:
        if why is not None:
            return Outcome(1, f"the bridged call was {why}", failed=("bridge",))
        workers = grown(before)
        ports = sorted({port for pid in workers for port in rtp_ports(udp_ports(pid) - before.get(pid, set()))})
        if not ports:
            return Outcome(1, f"no RTP port found in workers {workers}", failed=("target",))
        state = await run.call_state(bridged)
        trickle = await inject(ports, 1)
        burst = await inject(ports, BURST)
        ended_wall = time.time()
        await asyncio.sleep(AFTER_S)
        user_heard = heard_after(run.phone.lines(), "heard_speech_end", ended_wall)
        company_heard = heard_after(run.company.lines(), "caller_speech", ended_wall, phase="agent")
        failed = []
        if bridged in run.ended or await run.call_state(bridged) != state:
            failed.append("bridge kept")
        if not user_heard or not company_heard:
            failed.append("speech both ways after")
        if trickle[1] or burst[1]:
            failed.append("stream taken over")
        note = (
            f"ports {ports}: trickle {trickle[0]} sent, {trickle[1]} of the call's packets came back to the "
            f"injector; burst {burst[0]} sent, {burst[1]} came back (0 expected: media sockets hear only "
            f"the SDP peer); afterwards phone heard {user_heard}, company heard {company_heard} bursts"
        )
        figures = {"hijacked_trickle": float(trickle[1]), "hijacked_burst": float(burst[1])}
        return Outcome(trickle[0] + burst[0], note, failed=tuple(failed), figures=figures)
    finally:
        await hang_up(run, bridged)

"""A remote SIP party cannot make Hold Slayer place a call: REFER, Replaces and redirects are refused.

The "trap" is a UDP socket standing for the target an attacker names (an emergency number at the trunk,
a premium number): any datagram arriving there is a call the attacker made us place. The raw requests
below are an attacker's, written by hand on purpose; nothing here parses SIP beyond a status line.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hold_slayer_sidecar.sip.api import LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from sidecar_harness import free_port
from sip_harness import TIMEOUT, EventLog

SCENARIOS = Path(__file__).with_name("scenarios")
needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed")


@pytest.fixture
def trap() -> Iterator[socket.socket]:
    """A UDP port on loopback that must never hear from the engine."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def trap_heard(sock: socket.socket) -> list[bytes]:
    heard: list[bytes] = []
    while True:
        try:
            heard.append(sock.recv(65535))
        except BlockingIOError:
            return heard


async def run_sipp(tmp_path: Path, scenario: str, refer_to: str) -> tuple[int, asyncio.subprocess.Process]:
    port = free_port(socket.SOCK_DGRAM)
    media = free_port(socket.SOCK_DGRAM)
    log = (tmp_path / f"{scenario}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(SCENARIOS / scenario), "-key", "refer_to", refer_to,
        "-i", "127.0.0.1", "-p", str(port), "-mp", str(media),
        "-nostdin", "-m", "1", "-timeout", "20", "-timeout_error",
        stdout=log, stderr=log, cwd=tmp_path,
    )  # fmt: skip
    await asyncio.sleep(0.3)  # let SIPp bind
    return port, proc


async def finished(proc: asyncio.subprocess.Process, tmp_path: Path, scenario: str) -> None:
    try:
        code = await asyncio.wait_for(proc.wait(), TIMEOUT * 2)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert code == 0, (tmp_path / f"{scenario}.log").read_text(errors="replace")[-3000:]


@needs_sipp
@pytest.mark.parametrize("user", ["911", "19005550199", "attacker"])
async def test_a_refer_from_the_company_is_refused_and_nothing_is_dialled(
    engine: PjsuaEngine, events: EventLog, trap: socket.socket, tmp_path: Path, user: str
) -> None:
    trap_port = trap.getsockname()[1]
    port, proc = await run_sipp(tmp_path, "uas_refer.xml", f"sip:{user}@127.0.0.1:{trap_port}")
    leg = await engine.dial(f"sip:company@127.0.0.1:{port}")
    await events.wait(LegEventKind.ANSWERED, leg)
    # SIPp sends the REFER, requires 603 for it (a 202 fails the scenario), then hangs up.
    await finished(proc, tmp_path, "uas_refer.xml")
    await events.wait(LegEventKind.DISCONNECTED, leg)
    await asyncio.sleep(0.3)
    assert trap_heard(trap) == []
    assert [e.leg_id for e in events.events if e.kind == LegEventKind.ANSWERED] == [leg]


@needs_sipp
async def test_a_redirect_is_not_followed(
    engine: PjsuaEngine, events: EventLog, trap: socket.socket, tmp_path: Path
) -> None:
    trap_port = trap.getsockname()[1]
    port, proc = await run_sipp(tmp_path, "uas_redirect.xml", f"sip:911@127.0.0.1:{trap_port}")
    leg = await engine.dial(f"sip:company@127.0.0.1:{port}")
    ended = await events.wait(LegEventKind.DISCONNECTED, leg)
    assert ended.status_code in (302, 487)  # the redirect ends the call (PJSUA reports 487 after stopping)
    await finished(proc, tmp_path, "uas_redirect.xml")
    assert trap_heard(trap) == []


class RawPeer:
    """An attacker's UDP socket that writes SIP by hand and reads status lines."""

    def __init__(self, engine_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.engine = ("127.0.0.1", engine_port)

    def send(self, text: str) -> None:
        self.sock.sendto(text.replace("\n", "\r\n").encode(), self.engine)

    async def response(self, call_id: str, final: bool = True) -> str:
        """Return the next response for ``call_id`` (the next final one when ``final``)."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(TIMEOUT):
            while True:
                data = (await loop.sock_recv(self.sock, 65535)).decode(errors="replace")
                if not data.startswith("SIP/2.0 ") or f"Call-ID: {call_id}" not in data:
                    continue
                if not final or int(data.split(" ", 2)[1]) >= 200:
                    return data

    def invite(self, call_id: str, from_tag: str, extra: str = "") -> None:
        sdp = (
            "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=audio {self.port + 2} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
        )
        host, port = self.engine
        self.send(
            f"INVITE sip:holdslayer@{host}:{port} SIP/2.0\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex}\n"
            f"From: <sip:attacker@127.0.0.1:{self.port}>;tag={from_tag}\n"
            f"To: <sip:holdslayer@{host}:{port}>\n"
            f"Call-ID: {call_id}\nCSeq: 1 INVITE\nContact: <sip:attacker@127.0.0.1:{self.port}>\n"
            f"Max-Forwards: 70\n{extra}Content-Type: application/sdp\n"
            f"Content-Length: {len(sdp) + sdp.count(chr(10))}\n\n{sdp}"  # each newline is sent as CRLF
        )

    def ack(self, call_id: str, from_tag: str, to_tag: str) -> None:
        host, port = self.engine
        self.send(
            f"ACK sip:holdslayer@{host}:{port} SIP/2.0\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex}\n"
            f"From: <sip:attacker@127.0.0.1:{self.port}>;tag={from_tag}\n"
            f"To: <sip:holdslayer@{host}:{port}>;tag={to_tag}\n"
            f"Call-ID: {call_id}\nCSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n"
        )

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
async def raw_peer(engine: PjsuaEngine) -> AsyncIterator[RawPeer]:
    peer = RawPeer(engine.local_port)
    yield peer
    peer.close()


async def test_an_invite_with_replaces_cannot_take_over_a_live_call(
    engine: PjsuaEngine, events: EventLog, raw_peer: RawPeer
) -> None:
    """RFC 3891 Replaces naming the live dialog is refused (603); the call it names goes on."""
    call_id, from_tag = uuid.uuid4().hex, "a1"
    raw_peer.invite(call_id, from_tag)
    incoming = await events.wait(LegEventKind.INCOMING)
    await engine.answer(incoming.leg_id)
    ok = await raw_peer.response(call_id)
    assert ok.startswith("SIP/2.0 200")
    to_tag = re.search(r"^To:.*;tag=([^;\r\n]+)", ok, re.MULTILINE | re.IGNORECASE)
    assert to_tag is not None
    raw_peer.ack(call_id, from_tag, to_tag.group(1))
    await events.wait(LegEventKind.ANSWERED, incoming.leg_id)

    hijack = uuid.uuid4().hex
    replaces = f"Replaces: {call_id};to-tag={to_tag.group(1)};from-tag={from_tag}\n"
    raw_peer.invite(hijack, "b2", extra=replaces)
    refused = await raw_peer.response(hijack)
    assert refused.startswith("SIP/2.0 603"), refused.split("\r\n", 1)[0]
    await asyncio.sleep(0.5)
    assert events.of(LegEventKind.DISCONNECTED, incoming.leg_id) == []
    assert len(events.of(LegEventKind.INCOMING)) == 1  # the hijacking INVITE never became a call


async def test_presence_subscriptions_are_refused(engine: PjsuaEngine, raw_peer: RawPeer) -> None:
    call_id = uuid.uuid4().hex
    raw_peer.send(
        f"SUBSCRIBE sip:holdslayer@127.0.0.1:{engine.local_port} SIP/2.0\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{raw_peer.port};branch=z9hG4bK{uuid.uuid4().hex}\n"
        f"From: <sip:attacker@127.0.0.1:{raw_peer.port}>;tag=s1\n"
        f"To: <sip:holdslayer@127.0.0.1:{engine.local_port}>\n"
        f"Call-ID: {call_id}\nCSeq: 1 SUBSCRIBE\nContact: <sip:attacker@127.0.0.1:{raw_peer.port}>\n"
        "Event: presence\nExpires: 600\nMax-Forwards: 70\nContent-Length: 0\n\n"
    )
    answer = await raw_peer.response(call_id)
    assert answer.startswith("SIP/2.0 403"), answer.split("\r\n", 1)[0]

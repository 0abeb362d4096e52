"""The hostile traffic of the chaos run: each attack is bounded in count and time and sent to loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Iterator
from pathlib import Path

from hold_slayer_sidecar.edge.probe import options_request

SCENARIOS = Path(__file__).with_name("scenarios")
SIPP_GRACE_S = 10.0
_VIA = "Via: SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bKx\r\n"


def free_udp_port(host: str = "127.0.0.1") -> int:
    """Return a UDP port nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def run_sipp(workdir: Path, name: str, source: str, *args: str, calls: int, timeout_s: int) -> int:
    """Run SIPp from ``source`` until it ends (at most ``timeout_s`` + grace); return its exit code."""
    with (workdir / f"{name}.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            "sipp", *args, "-i", source, "-p", str(free_udp_port(source)), "-mp", str(free_udp_port(source)),
            "-nostdin", "-m", str(calls), "-timeout", str(timeout_s), "-timeout_error", "-trace_err",
            stdout=log, stderr=log, cwd=workdir,
        )  # fmt: skip
    try:
        return await asyncio.wait_for(proc.wait(), timeout_s + SIPP_GRACE_S)
    except TimeoutError:
        proc.kill()
        return await proc.wait()


def malformed_datagrams(count: int, seed: int = 17) -> Iterator[bytes]:
    """Yield ``count`` datagrams: random bytes and SIP requests mutated the ways fuzzers and broken stacks do."""
    rng = random.Random(seed)  # reproducible runs; not security relevant
    base = options_request("127.0.0.1", 5060, ("127.0.0.3", 5099)).decode()
    invite = base.replace("OPTIONS", "INVITE")
    for index in range(count):
        kind = index % 8
        if kind == 0:
            yield rng.randbytes(rng.randint(1, 1400))
        elif kind == 1:  # a request cut anywhere
            yield invite.encode()[: rng.randint(1, len(invite))]
        elif kind == 2:  # flipped bytes
            data = bytearray(invite.encode())
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            yield bytes(data)
        elif kind == 3:  # lies about the body, negative and huge numbers
            yield invite.replace("Content-Length: 0", f"Content-Length: {rng.choice(['-1', '99999999', 'x'])}").encode()
        elif kind == 4:  # one header 60 kB long
            yield invite.replace("Max-Forwards: 70", "Subject: " + "A" * 60_000).encode()
        elif kind == 5:  # headers repeated hundreds of times
            yield invite.replace("Max-Forwards: 70\r\n", _VIA * 300).encode()
        elif kind == 6:  # bare LF, no CRLF (RFC 3261 s7 wants CRLF), and a missing request line
            yield (invite.replace("\r\n", "\n") if rng.random() < 0.5 else invite.split("\r\n", 1)[1]).encode()
        else:  # a valid-looking request with a hostile URI and method
            method = rng.choice(["INVITE", "REFER", "NOTIFY", "FOO", "", "INVITE INVITE"])
            uri = rng.choice(["sip:911@127.0.0.1", "sip:%39%31%31@x", "sip:x@y?Route=sip:z", "tel:911", "<>"])
            yield invite.replace("INVITE sip:127.0.0.1:5060", f"{method} {uri}", 1).encode()


async def send_datagrams(target: tuple[str, int], datagrams: Iterator[bytes], sources: list[str], rate: int) -> int:
    """Send every datagram to ``target`` round-robin from ``sources``, at most ``rate`` per second; return the count."""
    socks = []
    for source in sources:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source, 0))
        sock.setblocking(False)
        socks.append(sock)
    sent = 0
    try:
        for sent, data in enumerate(datagrams, start=1):
            with contextlib.suppress(OSError):  # ICMP errors of earlier sends, full buffers: keep going
                socks[sent % len(socks)].sendto(data, target)
            if sent % max(rate // 50, 1) == 0:
                await asyncio.sleep(0.02)
    finally:
        for sock in socks:
            sock.close()
    return sent


async def options_sweep(target: tuple[str, int], sources: list[str], timeout_s: float = 1.0) -> tuple[int, int]:
    """Send one OPTIONS from each source (an svmap-style scan); return (sent, answered)."""
    loop = asyncio.get_running_loop()
    answered = 0

    async def one(source: str) -> bool:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source, 0))
        sock.setblocking(False)
        try:
            await loop.sock_sendto(sock, options_request(target[0], target[1], sock.getsockname()), target)
            data = await asyncio.wait_for(loop.sock_recv(sock, 65535), timeout_s)
            return data.startswith(b"SIP/2.0 ")
        except (TimeoutError, OSError):
            return False
        finally:
            sock.close()

    for start in range(0, len(sources), 50):  # 50 in flight at most
        answered += sum(await asyncio.gather(*(one(source) for source in sources[start : start + 50])))
    return len(sources), answered


def loopback_sources(count: int, third_octet: int) -> list[str]:
    """Return ``count`` distinct addresses 127.<third_octet + n // 250>.<1 + n % 250> (all of 127/8 is loopback)."""
    return [f"127.{third_octet + n // 250}.{1 + n % 250}" for n in range(count)]

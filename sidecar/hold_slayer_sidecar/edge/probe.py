"""A liveness probe for the edge: one SIP OPTIONS over UDP, answered 200 by the edge itself (RFC 3261 s11)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

_OK = b"SIP/2.0 200 "


class _Reply(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.first: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if not self.first.done():
            self.first.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: nothing listens yet.
        if not self.first.done():
            self.first.set_exception(exc)


def options_request(host: str, port: int, local: tuple[str, int]) -> bytes:
    """Build a minimal, complete OPTIONS request (every header sanity checks) sent from ``local``."""
    branch = "z9hG4bK" + secrets.token_hex(8)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    source = f"[{local[0]}]:{local[1]}" if ":" in local[0] else f"{local[0]}:{local[1]}"
    return (
        f"OPTIONS sip:{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {source};branch={branch}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{source}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:{target}>\r\n"
        f"Call-ID: {secrets.token_hex(12)}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


async def probe_options(host: str, port: int, *, timeout_s: float) -> bool:
    """Return whether ``host:port`` answers an OPTIONS with 200 within ``timeout_s``."""
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_datagram_endpoint(_Reply, remote_addr=(host, port))
    except OSError:
        return False
    try:
        local = transport.get_extra_info("sockname")
        transport.sendto(options_request(host, port, (str(local[0]), int(local[1]))))
        with contextlib.suppress(TimeoutError, OSError):
            return (await asyncio.wait_for(protocol.first, timeout_s)).startswith(_OK)
        return False
    finally:
        transport.close()

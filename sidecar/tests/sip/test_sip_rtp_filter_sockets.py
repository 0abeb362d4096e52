"""The RTP source filter's socket layer on loopback: what a connected UDP socket hears, and what it survives."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator

import pytest
from hold_slayer_sidecar.sip.rtp_filter import RtpFilterError, connect_to, parse_address, udp_sockets

STRANGER = "127.0.0.8"  # another loopback address, as an injector on the internet would be another host


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:4000", ("127.0.0.1", 4000)),
        ("[::1]:4000", ("::1", 4000)),
        ("[2001:db8::5]:65535", ("2001:db8::5", 65535)),
        ("0.0.0.0:4000", None),  # c=0.0.0.0: hold the RFC 2543 way, nobody to listen to
        ("[::]:4000", None),
        ("127.0.0.1:0", None),  # a refused stream (RFC 3264 s6)
        ("127.0.0.1:65536", None),
        ("127.0.0.1:-1", None),
        ("127.0.0.1", None),
        ("[::1]", None),
        ("", None),
        ("host.example:4000", None),  # never resolved here: PJSIP prints addresses, not names
        ("1.2.3.4:4000\r\nX: y", None),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int] | None) -> None:
    assert parse_address(text) == expected


def _udp(host: str = "127.0.0.1") -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.settimeout(1.0)
    return sock


@pytest.fixture
def media() -> Iterator[socket.socket]:
    """Stands in for pjmedia's RTP socket: non-blocking, like an ioqueue's."""
    sock = _udp()
    sock.setblocking(False)
    yield sock
    sock.close()


def _received(sock: socket.socket) -> list[tuple[bytes, str]]:
    got = []
    while True:
        try:
            data, source = sock.recvfrom(2048)
        except BlockingIOError:
            return got
        got.append((data, str(source[0])))


def test_udp_sockets_finds_this_process_datagram_sockets_by_port(media: socket.socket) -> None:
    port = media.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind(("127.0.0.1", 0))
        found = udp_sockets()
        assert found[port] == [media.fileno()]
        assert tcp.getsockname()[1] not in found or tcp.fileno() not in found[tcp.getsockname()[1]]


def test_a_connected_socket_hears_only_its_peer_and_still_sends_anywhere(media: socket.socket) -> None:
    with _udp() as peer, _udp(STRANGER) as stranger, _udp() as elsewhere:
        flags = fcntl.fcntl(media.fileno(), fcntl.F_GETFL)
        fds = len(os.listdir("/proc/self/fd"))
        connect_to(media.fileno(), peer.getsockname())
        assert fcntl.fcntl(media.fileno(), fcntl.F_GETFL) == flags  # still non-blocking: pjmedia's ioqueue relies on it
        assert len(os.listdir("/proc/self/fd")) == fds  # the duplicate was closed, the original kept
        target = media.getsockname()
        for _ in range(20):
            stranger.sendto(b"stranger", target)
        peer.sendto(b"peer", target)
        assert _received(media) == [(b"peer", "127.0.0.1")]
        media.sendto(b"rtp", elsewhere.getsockname())  # pjmedia sends with an explicit address: still allowed
        assert elsewhere.recv(100) == b"rtp"


def test_a_reinvite_moves_the_filter_to_the_new_peer(media: socket.socket) -> None:
    with _udp() as old, _udp(STRANGER) as new:
        connect_to(media.fileno(), old.getsockname())
        connect_to(media.fileno(), new.getsockname())  # no disconnect needed: a UDP connect replaces the peer
        old.sendto(b"old", media.getsockname())
        new.sendto(b"new", media.getsockname())
        assert _received(media) == [(b"new", STRANGER)]


def test_icmp_port_unreachable_is_reported_once_then_the_socket_reads_on(media: socket.socket) -> None:
    with _udp() as gone:
        closed = gone.getsockname()
    with _udp() as peer:
        connect_to(media.fileno(), closed)
        media.send(b"rtp")  # the port is closed: ICMP port unreachable comes back (RFC 1122 s4.1.3.3)
        with pytest.raises(ConnectionRefusedError):
            media.recv(100)
        connect_to(media.fileno(), peer.getsockname())
        peer.sendto(b"peer", media.getsockname())
        assert _received(media) == [(b"peer", "127.0.0.1")]


def test_ipv6_socket_hears_only_its_ipv6_peer() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        media = _udp("::1")
    except OSError:
        pytest.skip("no ::1 on this machine")
    with media, _udp("::1") as peer, _udp("::1") as stranger:
        media.setblocking(False)
        connect_to(media.fileno(), peer.getsockname()[:2])
        stranger.sendto(b"stranger", media.getsockname())
        peer.sendto(b"peer", media.getsockname())
        assert [data for data, _ in _received(media)] == [b"peer"]


def test_an_ipv4_socket_refuses_an_ipv6_peer_clearly(media: socket.socket) -> None:
    with pytest.raises(RtpFilterError, match="IPv4 socket cannot hear the IPv6 peer"):
        connect_to(media.fileno(), ("::1", 4000))


def test_a_descriptor_that_is_gone_is_a_clear_error() -> None:
    sock = _udp()
    fd = sock.fileno()
    sock.close()
    with pytest.raises(RtpFilterError, match=f"descriptor {fd}"):
        connect_to(fd, ("127.0.0.1", 4000))

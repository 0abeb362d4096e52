"""The RTP source filter's socket layer on loopback: what a filtered UDP socket hears, and what it keeps."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator

import pytest
from hold_slayer_sidecar.sip.rtp_filter import RtpFilterError, admit_only, parse_address, udp_sockets

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
    """Stands in for pjmedia's RTP socket: bound to every address (the add-on's bind_host), non-blocking."""
    sock = _udp("0.0.0.0")
    sock.setblocking(False)
    yield sock
    sock.close()


def _target(sock: socket.socket, host: str = "127.0.0.1") -> tuple[str, int]:
    return host, int(sock.getsockname()[1])


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
        assert tcp.fileno() not in found.get(tcp.getsockname()[1], [])


def test_a_filtered_socket_hears_only_its_peer_and_keeps_its_binding(media: socket.socket) -> None:
    with _udp() as peer, _udp(STRANGER) as stranger, _udp() as same_host, _udp() as elsewhere:
        flags = fcntl.fcntl(media.fileno(), fcntl.F_GETFL)
        fds = len(os.listdir("/proc/self/fd"))
        admit_only(media.fileno(), peer.getsockname())
        assert fcntl.fcntl(media.fileno(), fcntl.F_GETFL) == flags  # still non-blocking: pjmedia's ioqueue relies on it
        assert len(os.listdir("/proc/self/fd")) == fds  # the duplicate was closed, the original kept
        assert media.getsockname()[0] == "0.0.0.0"  # still bound to every address (connect() would pin one)
        for _ in range(20):
            stranger.sendto(b"stranger", _target(media))
            same_host.sendto(b"other port", _target(media))  # the peer's address, another port: not the peer
        peer.sendto(b"peer", _target(media))
        peer.sendto(b"peer via another local address", _target(media, "127.0.0.2"))
        assert _received(media) == [(b"peer", "127.0.0.1"), (b"peer via another local address", "127.0.0.1")]
        media.sendto(b"rtp", elsewhere.getsockname())  # pjmedia sends to whom it likes
        assert elsewhere.recv(100) == b"rtp"


def test_a_reinvite_moves_the_filter_to_the_new_peer(media: socket.socket) -> None:
    with _udp() as old, _udp(STRANGER) as new:
        admit_only(media.fileno(), old.getsockname())
        admit_only(media.fileno(), new.getsockname())  # the new program replaces the old one
        old.sendto(b"old", _target(media))
        new.sendto(b"new", _target(media))
        assert _received(media) == [(b"new", STRANGER)]


def test_no_icmp_error_reaches_the_reader(media: socket.socket) -> None:
    """The socket stays unconnected: a closed port answering ICMP never shows as ECONNREFUSED on pjmedia's reads."""
    with _udp() as gone:
        closed = gone.getsockname()
    with _udp() as peer:
        admit_only(media.fileno(), peer.getsockname())
        media.sendto(b"rtp", closed)
        peer.sendto(b"peer", _target(media))
        assert _received(media) == [(b"peer", "127.0.0.1")]


def test_ipv6_socket_hears_only_its_ipv6_peer() -> None:
    try:
        media = _udp("::1")
    except OSError:
        pytest.skip("no ::1 on this machine")
    with media, _udp("::1") as peer, _udp("::1") as stranger:
        media.setblocking(False)
        admit_only(media.fileno(), peer.getsockname()[:2])
        stranger.sendto(b"stranger", media.getsockname()[:2])
        peer.sendto(b"peer", media.getsockname()[:2])
        assert [data for data, _ in _received(media)] == [b"peer"]


def test_a_dual_stack_socket_hears_its_ipv4_peer() -> None:
    try:
        media = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        media.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        media.bind(("::", 0))
    except OSError:
        pytest.skip("no IPv6 on this machine")
    with media, _udp() as peer, _udp(STRANGER) as stranger:
        media.setblocking(False)
        admit_only(media.fileno(), ("::ffff:127.0.0.1", peer.getsockname()[1]))
        stranger.sendto(b"stranger", _target(media))
        peer.sendto(b"peer", _target(media))
        assert [data for data, _ in _received(media)] == [b"peer"]


def test_an_ipv4_socket_refuses_an_ipv6_peer_clearly(media: socket.socket) -> None:
    with pytest.raises(RtpFilterError, match="IPv4 socket cannot hear the IPv6 peer"):
        admit_only(media.fileno(), ("::1", 4000))


def test_a_descriptor_that_is_gone_is_a_clear_error() -> None:
    sock = _udp()
    fd = sock.fileno()
    sock.close()
    with pytest.raises(RtpFilterError, match=f"descriptor {fd}"):
        admit_only(fd, ("127.0.0.1", 4000))

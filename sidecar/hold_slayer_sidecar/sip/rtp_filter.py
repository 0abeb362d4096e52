"""RTP and RTCP from the call's peer only: a socket filter on each media socket admits the SDP address alone.

pjsua creates a call's UDP media transport with options 0, so pjmedia reads RTP from any source and follows a
new one after ``PJMEDIA_RTP_NAT_PROBATION_CNT`` (10) packets in a row (its NAT latching): a stranger who
outnumbers the peer 10:1 takes the stream over, hears the call and is heard in it. Here each of the call's RTP
and RTCP sockets gets a classic BPF socket filter (``SO_ATTACH_FILTER``, Linux) that passes a datagram only when
its source address and port are the ones the peer's SDP names; the kernel drops the rest before pjmedia reads
them. The sockets are pjmedia's own: found among this process's descriptors by local port and reached through a
duplicate descriptor (the same socket; pjmedia's descriptor stays open and untouched). A new filter replaces the
old one, so a re-INVITE that moves the peer moves the filter.

Why not ``connect()`` the socket to the peer (which also drops other sources): on a socket bound to 0.0.0.0
(``sip.bind_host`` in the add-on) it also pins the local address to the route's source towards the peer, and
media sent to any other address of the host is then dropped (measured: bound 0.0.0.0, connected to 127.0.0.1,
a datagram to 127.0.0.2 never arrives); it would also turn ICMP errors into ECONNREFUSED on pjmedia's reads.
The filter changes neither the binding nor the errors.

Trade-off: a peer whose RTP comes from another address than its SDP names (a phone behind NAT that does not
rewrite its SDP) is then not heard at all. Trunks' SBCs and LAN phones send from the address they advertise
(symmetric RTP, RFC 4961), which is what this sidecar talks to; ``SipSettings.rtp_peer_only`` turns it off.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import logging
import os
import socket
import stat
import struct
import sys
import time
from dataclasses import dataclass, field

import pjsua2 as pj

_LOGGER = logging.getLogger(__name__)

# Media that has a stream, so an SDP peer to listen to: on hold either way the peer still sends RTCP.
_STREAM_UP = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_LOCAL_HOLD, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
_FD_DIR = "/proc/self/fd"
# linux/filter.h and asm-generic/socket.h (x86-64 and arm64 alike): attach a classic BPF program to a socket.
SO_ATTACH_FILTER = 26
SO_DETACH_FILTER = 27
# A peer sends RTP every 20 ms from the moment its answer is sent (RFC 3550; comfort noise, RFC 3389, included): no
# packet in this long since the filter went on means its RTP comes from another address than its SDP names (NAT
# without SDP rewriting, or a media server behind an SBC that sends asymmetric RTP). The filter is then lifted for
# that call, with a warning: hearing nothing would make the call worthless (no menu, no person ever detected), and
# without the filter the stream is what pjmedia made it before (latching). Long enough for a slow first packet
# (jitter, a media server that starts its stream late), short next to a menu's first words.
LIFT_AFTER_S = 4.0
# Datagrams queued on a socket before its filter went on are still read, and counted, after it: the count that judges
# the peer starts this long after the filter (pjmedia reads every 20 ms; a second covers a worker held up by load).
# Counting from the moment the filter went on let those few packets pass for the peer's, and the filter stayed on a
# peer that was never heard (seen once in CI, under load).
SETTLE_S = 1.0
# A load at this negative offset reads the IP header; offset 0 is the UDP header (linux/filter.h, SKF_NET_OFF).
SKF_NET_OFF = -0x100000
_BPF_LD_B, _BPF_LD_H, _BPF_LD_W = 0x30, 0x28, 0x20  # BPF_LD | BPF_ABS | size (byte, half word, word)
_BPF_AND_K, _BPF_JEQ_K, _BPF_RET_K = 0x54, 0x15, 0x06
_ACCEPT = 0xFFFFFFFF  # keep the whole datagram
_DROP = 0

Address = tuple[str, int]


class RtpFilterError(Exception):
    """A call's media socket could not be restricted to its peer."""


@dataclass(frozen=True, slots=True)
class MediaPeer:
    """One audio stream's local ports and the remote addresses its SDP names."""

    index: int  # the stream's media index in the call (for its statistics)
    rtp_port: int
    rtcp_port: int
    remote_rtp: Address | None
    remote_rtcp: Address | None
    # Whether the peer is meant to send us RTP now (active, and not on hold towards us: RFC 3264 s5.1 recvonly
    # / inactive streams carry no RTP from the peer, so its silence there proves nothing).
    receiving: bool = True


def parse_address(text: str) -> Address | None:
    """Read PJSIP's printed address (``1.2.3.4:5``, ``[::1]:5``); None when it names no one (0.0.0.0, port 0)."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit():
        return None
    try:
        ip = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    port = int(port_text)
    # c=0.0.0.0 is the old way to put a call on hold (RFC 3264 s8.4); port 0 is a refused stream (s6).
    if ip.is_unspecified or not 0 < port < 65536:
        return None
    return str(ip), port


def media_peers(call: pj.Call) -> list[MediaPeer]:
    """Return the local ports and SDP peers of the call's audio streams (PJSUA2 thread only)."""
    info = call.getInfo()  # keep it referenced: info.media points into it
    peers = []
    for media in info.media:
        if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status not in _STREAM_UP:
            continue
        try:
            transport = call.getMedTransportInfo(media.index)
            stream = call.getStreamInfo(media.index)
        except pj.Error as err:
            _LOGGER.debug("no stream for media %s: %s", media.index, err.reason)
            continue
        local_rtp = parse_address(str(transport.localRtpName))
        local_rtcp = parse_address(str(transport.localRtcpName))
        if local_rtp is None:
            continue
        peers.append(
            MediaPeer(
                index=int(media.index),
                rtp_port=local_rtp[1],
                rtcp_port=local_rtcp[1] if local_rtcp is not None else 0,
                remote_rtp=parse_address(str(stream.remoteRtpAddress)),
                remote_rtcp=parse_address(str(stream.remoteRtcpAddress)),
                receiving=media.status == pj.PJSUA_CALL_MEDIA_ACTIVE and bool(media.dir & pj.PJMEDIA_DIR_DECODING),
            )
        )
    return peers


def udp_sockets() -> dict[int, list[int]]:
    """Return this process's UDP sockets: local port -> descriptors (Linux: read from /proc/self/fd)."""
    found: dict[int, list[int]] = {}
    for name in os.listdir(_FD_DIR):
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            with socket.socket(fileno=os.dup(fd)) as sock:
                if sock.type != socket.SOCK_DGRAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
                    continue
                port = int(sock.getsockname()[1])
        except OSError:  # closed meanwhile by another thread (or the listing's own descriptor): not ours
            continue
        found.setdefault(port, []).append(fd)
    return found


def peer_program(peer: Address) -> list[tuple[int, int, int, int]]:
    """Build the BPF program that accepts a datagram only from ``peer``: IP version, source address, port.

    Each instruction is (code, jump if true, jump if false, constant); a failed test jumps to the final drop.
    """
    ip = ipaddress.ip_address(peer[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # such a peer's datagrams arrive with an IPv4 header (a dual-stack socket)
    packed = ip.packed
    # Source address: IPv4 header bytes 12-15 (RFC 791), IPv6 header bytes 8-23 (RFC 8200).
    source = 12 if ip.version == 4 else 8
    # The version nibble first: an IPv6 socket that also takes IPv4 (dual stack) sees both kinds of header.
    body = [(_BPF_LD_B, SKF_NET_OFF), (_BPF_AND_K, 0xF0), (_BPF_JEQ_K, ip.version << 4)]
    for offset in range(0, len(packed), 4):
        body += [(_BPF_LD_W, SKF_NET_OFF + source + offset), (_BPF_JEQ_K, int.from_bytes(packed[offset : offset + 4]))]
    body += [(_BPF_LD_H, 0), (_BPF_JEQ_K, peer[1])]  # the UDP header's source port (RFC 768)
    program = []
    drop_at = len(body) + 1  # body, accept, drop
    for index, (code, k) in enumerate(body):
        jump_false = drop_at - index - 1 if code == _BPF_JEQ_K else 0
        program.append((code, 0, jump_false, k & 0xFFFFFFFF))
    return [*program, (_BPF_RET_K, 0, 0, _ACCEPT), (_BPF_RET_K, 0, 0, _DROP)]


def admit_only(fd: int, peer: Address) -> None:
    """Let the UDP socket behind ``fd`` receive only from ``peer`` (a later call replaces the filter)."""
    program = peer_program(peer)
    code = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *ins) for ins in program))
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}: the kernel copies the program.
    fprog = struct.pack("HP", len(program), ctypes.addressof(code))
    try:
        # A duplicate, so closing it leaves pjmedia's descriptor open; the filter belongs to the socket.
        with socket.socket(fileno=os.dup(fd)) as sock:
            if sock.family == socket.AF_INET and ipaddress.ip_address(peer[0]).version == 6:
                raise RtpFilterError(f"an IPv4 socket cannot hear the IPv6 peer {peer[0]}")
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as err:
        raise RtpFilterError(f"cannot filter descriptor {fd} for {peer[0]}:{peer[1]}: {err}") from err


def lift(fd: int) -> None:
    """Take the filter off the UDP socket behind ``fd`` (no filter on it: nothing to do)."""
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
    except OSError as err:
        if err.errno != errno.ENOENT:  # ENOENT: no filter was attached
            raise RtpFilterError(f"cannot lift the filter of descriptor {fd}: {err}") from err


def received_rtp(call: pj.Call, index: int) -> int:
    """How many RTP packets the call's stream ``index`` has taken in (pjmedia's own count; PJSUA2 thread only)."""
    return int(call.getStreamStat(index).rtcp.rxStat.pkt)


@dataclass(slots=True)
class _Watch:
    """A call whose filtered stream has not yet shown that its peer sends from the SDP address."""

    settle_at: float
    deadline: float
    streams: list[MediaPeer] = field(default_factory=list)
    # pjmedia's count of packets each stream had taken in at ``settle_at`` (None before): what came earlier may
    # have been queued before the filter, so it says nothing about where the peer sends from.
    counts: list[int] | None = None


class RtpPeerFilter:
    """Keeps every call's RTP/RTCP sockets admitting only the peer its latest SDP names (PJSUA2 thread only)."""

    def __init__(self, lift_after_s: float = LIFT_AFTER_S) -> None:
        self._lift_after_s = lift_after_s
        self._watching: dict[str, _Watch] = {}
        self._lifted: set[str] = set()  # legs whose peer was not heard through the filter: unfiltered to the end
        self._supported = sys.platform.startswith("linux") and os.path.isdir(_FD_DIR)
        if not self._supported:
            _LOGGER.warning("RTP from strangers cannot be refused on %s: the media ports latch (pjmedia)", sys.platform)

    def apply(self, leg_id: str, call: pj.Call) -> None:
        """Filter the call's media sockets for its SDP peer; again on every media change.

        Every time, not once per peer: a re-INVITE may move the peer, and pjmedia replaces a socket that stopped
        working (``transport_restart``) with a new, unfiltered one on the same port. A scan costs well under a
        millisecond (a worker holds a few dozen descriptors) and media changes are rare.
        """
        if not self._supported or leg_id in self._lifted:
            return
        peers = media_peers(call)
        if not peers:
            return
        streams = [peer for peer in peers if peer.receiving]
        kept = self._watching.get(leg_id)
        if kept is not None and kept.streams == streams:
            pass  # the same peer again (a second media callback): its deadline and counts stand
        elif streams:
            now = time.monotonic()
            settle = min(SETTLE_S, self._lift_after_s / 2)
            self._watching[leg_id] = _Watch(now + settle, now + self._lift_after_s, streams)
        else:
            self._watching.pop(leg_id, None)  # on hold: the peer sends nothing, so its silence proves nothing
        sockets = udp_sockets()
        for peer in peers:
            for port, remote in ((peer.rtp_port, peer.remote_rtp), (peer.rtcp_port, peer.remote_rtcp)):
                if remote is None or not port:
                    continue  # on hold with c=0.0.0.0: nothing arrives; keep the last peer until one is named
                fds = sockets.get(port, [])
                if not fds:
                    _LOGGER.warning("%s: no socket on media port %s; RTP from anyone is accepted there", leg_id, port)
                for fd in fds:
                    try:
                        admit_only(fd, remote)
                    except RtpFilterError as err:
                        _LOGGER.warning("%s: %s; RTP from anyone is accepted on port %s", leg_id, err, port)
                    else:
                        _LOGGER.debug("%s: media port %s hears only %s:%s", leg_id, port, *remote)

    def check(self, leg_id: str, call: pj.Call) -> None:
        """Lift the filter of a call whose peer was not heard through it in ``lift_after_s`` (see LIFT_AFTER_S)."""
        watch = self._watching.get(leg_id)
        if watch is None:
            return
        now = time.monotonic()
        if watch.counts is None:
            if now < watch.settle_at:
                return
            watch.counts = [received_rtp(call, peer.index) for peer in watch.streams]
        if now < watch.deadline:
            return
        del self._watching[leg_id]
        silent = [
            peer
            for peer, before in zip(watch.streams, watch.counts, strict=True)
            if received_rtp(call, peer.index) == before
        ]
        if not silent:
            return  # the peer sends from where its SDP says: the filter stays for the whole call
        self._lifted.add(leg_id)
        sockets = udp_sockets()
        for peer in silent:
            for port in (peer.rtp_port, peer.rtcp_port):
                for fd in sockets.get(port, []):
                    lift(fd)
        _LOGGER.warning(
            "%s: no RTP from the address the peer's SDP names in %.0f s (NAT or asymmetric RTP?): RTP from anyone"
            " is accepted for this call; set sip.rtp_peer_only false if this trunk always does this",
            leg_id,
            self._lift_after_s,
        )

    def forget(self, leg_id: str) -> None:
        """Drop what is kept about an ended leg."""
        self._watching.pop(leg_id, None)
        self._lifted.discard(leg_id)

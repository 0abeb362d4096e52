"""RTP and RTCP from the call's peer only: each call's media sockets are ``connect()``ed to the SDP address.

pjsua creates a call's UDP media transport with options 0, so pjmedia reads RTP from any source and follows a
new one after ``PJMEDIA_RTP_NAT_PROBATION_CNT`` (10) packets in a row (its NAT latching): a stranger who
outnumbers the peer 10:1 takes the stream over, hears the call and is heard in it. A connected UDP socket
receives only datagrams whose source is the address it is connected to (Linux's UDP socket lookup refuses the
others before any queue, answering them with ICMP port unreachable), while pjmedia's ``sendto`` with an explicit
address still goes out. The sockets are pjmedia's own: found among this process's descriptors by local port,
and connected through a duplicate descriptor (the same socket; pjmedia's descriptor stays open and untouched).

Trade-off: a peer whose RTP comes from another address than its SDP names (a phone behind NAT that does not
rewrite its SDP) is then not heard at all. Trunks' SBCs and LAN phones send from the address they advertise
(symmetric RTP, RFC 4961), which is what this sidecar talks to; ``SipSettings.rtp_peer_only`` turns it off.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import stat
import sys
from dataclasses import dataclass

import pjsua2 as pj

_LOGGER = logging.getLogger(__name__)

# Media that has a stream, so an SDP peer to listen to: on hold either way the peer still sends RTCP.
_STREAM_UP = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_LOCAL_HOLD, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
_FD_DIR = "/proc/self/fd"

Address = tuple[str, int]


class RtpFilterError(Exception):
    """A call's media socket could not be restricted to its peer."""


@dataclass(frozen=True, slots=True)
class MediaPeer:
    """One audio stream's local ports and the remote addresses its SDP names."""

    rtp_port: int
    rtcp_port: int
    remote_rtp: Address | None
    remote_rtcp: Address | None


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
                rtp_port=local_rtp[1],
                rtcp_port=local_rtcp[1] if local_rtcp is not None else 0,
                remote_rtp=parse_address(str(stream.remoteRtpAddress)),
                remote_rtcp=parse_address(str(stream.remoteRtcpAddress)),
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


def connect_to(fd: int, peer: Address) -> None:
    """Let the UDP socket behind ``fd`` receive only from ``peer`` (a later call moves it to another peer)."""
    try:
        # A duplicate, so closing it leaves pjmedia's descriptor open. No setblocking/settimeout on it: the
        # O_NONBLOCK flag is shared with pjmedia's descriptor. A UDP connect only sets the remote address.
        with socket.socket(fileno=os.dup(fd)) as sock:
            host = peer[0]
            if sock.family == socket.AF_INET6 and ipaddress.ip_address(host).version == 4:
                host = f"::ffff:{host}"  # a dual-stack socket names an IPv4 peer by its mapped address
            elif sock.family == socket.AF_INET and ipaddress.ip_address(host).version == 6:
                raise RtpFilterError(f"an IPv4 socket cannot hear the IPv6 peer {host}")
            sock.connect((host, peer[1]))
    except OSError as err:
        raise RtpFilterError(f"cannot connect descriptor {fd} to {peer[0]}:{peer[1]}: {err}") from err


class RtpPeerFilter:
    """Keeps every call's RTP/RTCP sockets connected to the peer its latest SDP names (PJSUA2 thread only)."""

    def __init__(self) -> None:
        self._supported = sys.platform.startswith("linux") and os.path.isdir(_FD_DIR)
        if not self._supported:
            _LOGGER.warning("RTP from strangers cannot be refused on %s: the media ports latch (pjmedia)", sys.platform)

    def apply(self, leg_id: str, call: pj.Call) -> None:
        """Connect the call's media sockets to its SDP peer; again on every media change.

        Every time, not once per peer: a re-INVITE may move the peer, and pjmedia replaces a socket that stopped
        working (``transport_restart``) with a new, unconnected one on the same port. A scan costs well under a
        millisecond (a worker holds a few dozen descriptors) and media changes are rare.
        """
        if not self._supported:
            return
        peers = media_peers(call)
        if not peers:
            return
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
                        connect_to(fd, remote)
                    except RtpFilterError as err:
                        _LOGGER.warning("%s: %s; RTP from anyone is accepted on port %s", leg_id, err, port)
                    else:
                        _LOGGER.debug("%s: media port %s hears only %s:%s", leg_id, port, *remote)

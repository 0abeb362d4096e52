"""When the RTP source filter gives up on a call: the decision alone, with pjmedia's counts and the clock faked.

The socket layer is tested on loopback (test_sip_rtp_filter_sockets.py) and the whole over a real PJSUA2 call
(test_sip_rtp_filter.py); here the timing of the judgement, which a loaded machine makes hard to hit on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest
from hold_slayer_sidecar.sip import rtp_filter
from hold_slayer_sidecar.sip.rtp_filter import LIFT_AFTER_S, SETTLE_S, MediaPeer, RtpPeerFilter

PEER = MediaPeer(index=0, rtp_port=4000, rtcp_port=4001, remote_rtp=("192.0.2.5", 7000), remote_rtcp=None)


class Fake:
    """pjmedia's received-packet count, the clock and the socket calls the filter makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 100.0
        self.received = 0
        self.lifted: list[int] = []
        self.peers = [PEER]
        monkeypatch.setattr(rtp_filter.sys, "platform", "linux")
        monkeypatch.setattr(rtp_filter.os.path, "isdir", lambda _p: True)
        monkeypatch.setattr(rtp_filter.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(rtp_filter, "media_peers", lambda _call: self.peers)
        monkeypatch.setattr(rtp_filter, "received_rtp", lambda _call, _index: self.received)
        monkeypatch.setattr(rtp_filter, "udp_sockets", lambda: {4000: [40], 4001: [41]})
        monkeypatch.setattr(rtp_filter, "admit_only", lambda _fd, _peer: None)
        monkeypatch.setattr(rtp_filter, "lift", self.lifted.append)

    def run(self, flt: RtpPeerFilter, until: float, packets_per_s: float = 0.0) -> None:
        """Poll as the SIP thread does (every 10 ms) until ``until`` seconds after 100.0."""
        while self.now < 100.0 + until:
            self.now += 0.01
            self.received += round(packets_per_s * 0.01) if packets_per_s >= 100 else 0
            flt.check("leg", _CALL)


_CALL: Any = object()


def test_packets_queued_before_the_filter_do_not_pass_for_the_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The race CI hit: the peer's first packets were already on the socket when the filter went on; pjmedia read
    # (and counted) them just after. The peer's later packets come from another port and are dropped.
    fake = Fake(monkeypatch)
    flt = RtpPeerFilter()
    flt.apply("leg", _CALL)
    fake.now += 0.2
    fake.received += 5  # read from the queue after the filter
    fake.run(flt, LIFT_AFTER_S + 0.1)
    assert fake.lifted == [40, 41]


def test_a_peer_heard_through_the_filter_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake(monkeypatch)
    flt = RtpPeerFilter()
    flt.apply("leg", _CALL)
    fake.run(flt, LIFT_AFTER_S + 2, packets_per_s=100)  # 50 packets/s would round to 0 per poll; 100 is one each
    assert fake.lifted == []


def test_nothing_is_judged_before_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake(monkeypatch)
    flt = RtpPeerFilter()
    flt.apply("leg", _CALL)
    fake.run(flt, LIFT_AFTER_S - 0.05)
    assert fake.lifted == []
    fake.run(flt, LIFT_AFTER_S + 0.05)
    assert fake.lifted == [40, 41]


def test_a_second_media_callback_keeps_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake(monkeypatch)
    flt = RtpPeerFilter()
    flt.apply("leg", _CALL)
    fake.run(flt, SETTLE_S + 0.5)
    flt.apply("leg", _CALL)  # the same peer: pjsua reports media state more than once
    fake.run(flt, LIFT_AFTER_S + 0.05)
    assert fake.lifted == [40, 41]


def test_a_peer_on_hold_towards_us_is_never_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake(monkeypatch)
    fake.peers = [MediaPeer(0, 4000, 4001, ("192.0.2.5", 7000), None, receiving=False)]
    flt = RtpPeerFilter()
    flt.apply("leg", _CALL)
    fake.run(flt, LIFT_AFTER_S * 3)
    assert fake.lifted == []


def test_a_lifted_call_is_never_filtered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake(monkeypatch)
    filtered: list[int] = []
    flt = RtpPeerFilter()
    flt.apply("leg", _CALL)
    fake.run(flt, LIFT_AFTER_S + 0.1)
    monkeypatch.setattr(rtp_filter, "admit_only", lambda fd, _peer: filtered.append(fd))
    flt.apply("leg", _CALL)  # a re-INVITE after the lift
    assert filtered == []
    flt.forget("leg")
    flt.apply("leg", _CALL)  # a new call that happens to reuse the leg id is filtered again
    assert filtered == [40]  # its RTP port; this peer names no RTCP address

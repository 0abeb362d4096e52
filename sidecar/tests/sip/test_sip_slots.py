"""Call slots after hanging up calls that never got an answer (an unreachable or silent far end)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from hold_slayer_sidecar.sip.api import LegEventKind, SipError
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from sip_harness import EventLog


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A SIP URI on 127.0.0.1 whose UDP port takes every INVITE and never answers (no ICMP error either)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield f"sip:company@127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


async def test_slots_held_by_unanswered_invites_refuse_at_once_and_quietly(
    engine: PjsuaEngine, events: EventLog, black_hole: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = [await engine.dial(black_hole) for _ in range(2)]
    for leg in first:
        await engine.hang_up(leg)
        # PJSUA reports the end at once, though RFC 3261 s9.1 keeps the INVITE (and the slot) until a
        # provisional response allows the CANCEL, or timer B (32 s) ends it.
        assert (await events.wait(LegEventKind.DISCONNECTED, leg)).status_code == 487
    # The two slots left are free right away.
    second = [await engine.dial(black_hole) for _ in range(2)]
    for leg in second:
        await engine.hang_up(leg)
        await events.wait(LegEventKind.DISCONNECTED, leg)
    caplog.clear()
    with (
        caplog.at_level(logging.DEBUG, logger="hold_slayer_sidecar.sip"),
        pytest.raises(SipError, match=r"4 ended call\(s\) still hold one .* timer B") as err,
    ):
        await engine.dial(black_hole)
    assert "32 s" in str(err.value)
    # makeCall is not even tried: PJSUA's two ERROR lines per refused attempt are gone.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

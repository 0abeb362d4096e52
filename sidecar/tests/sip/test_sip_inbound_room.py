"""Inbound callers and calls on hold share a media worker: the slot promised to a hold call's user stays free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hold_slayer_sidecar.sip.api import LegEventKind, SipError
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from sip_harness import TIMEOUT, EventLog, PeerFactory, dial_answered

pytestmark = pytest.mark.slow


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPoolEngine]:
    """A real pool of one media worker (four legs)."""
    engine = WorkerPoolEngine(SipSettings(), workers=1)
    await engine.start()
    yield engine
    await asyncio.wait_for(engine.stop(), TIMEOUT)


async def test_a_phone_rung_for_an_inbound_caller_leaves_the_hold_calls_promised_slot(
    pool: WorkerPoolEngine, make_peer: PeerFactory
) -> None:
    """One call on hold and one inbound caller: one phone may ring beside the caller, and the user still can."""
    log = EventLog()
    pool.subscribe_events(log)
    company = await make_peer("answer")
    caller = await make_peer("none")
    hold, _ = await dial_answered(pool, log, company)  # on hold: its user's leg is promised
    await caller.request("dial", target=f"sip:alex@127.0.0.1:{pool.local_port}")
    inbound = (await log.wait(LegEventKind.INCOMING)).leg_id
    assert pool.room_beside(inbound) == 1  # 4 legs - (hold call 2 + inbound 1)
    phone = await pool.dial(company.uri, near=inbound)
    await log.wait(LegEventKind.ANSWERED, phone)
    assert pool.room_beside(inbound) == 0
    with pytest.raises(SipError, match="no free call slot"):
        await pool.dial(company.uri, near=inbound)  # a second phone would take the user's slot
    user = await pool.dial(company.uri, near=hold)
    await log.wait(LegEventKind.ANSWERED, user)
    for leg in (user, phone, inbound, hold):
        await pool.hang_up(leg)
        await log.wait(LegEventKind.DISCONNECTED, leg)


async def test_an_inbound_caller_in_a_promised_slot_is_seen_as_over_committed(
    pool: WorkerPoolEngine, make_peer: PeerFactory
) -> None:
    """Two calls on hold promise all four legs: an inbound caller sits in a promised slot (room < 0, busy)."""
    log = EventLog()
    pool.subscribe_events(log)
    company = await make_peer("answer")
    caller = await make_peer("none")
    holds = [(await dial_answered(pool, log, company))[0] for _ in range(2)]
    await caller.request("dial", target=f"sip:alex@127.0.0.1:{pool.local_port}")
    inbound = (await log.wait(LegEventKind.INCOMING)).leg_id
    assert pool.room_beside(inbound) == -1  # the handler answers 486 Busy Here
    with pytest.raises(SipError, match="no free call slot"):
        await pool.dial(company.uri, near=inbound)
    await pool.reject(inbound, 486)
    await log.wait(LegEventKind.DISCONNECTED, inbound)
    for hold in holds:  # each user still rings: its slot was kept
        user = await pool.dial(company.uri, near=hold)
        await log.wait(LegEventKind.ANSWERED, user)
    for leg in holds:
        await pool.hang_up(leg)

"""No capacity left: an inbound caller hears busy and the calls on hold are untouched (the real sidecar, end to end).

One media worker (four legs) carries two outbound calls on hold with a simulated bank; each keeps a leg promised
for ringing its user. An inbound INVITE (SIPp) then finds no leg it may use: 486 Busy Here at once, announced as
rejected with the reason, and both hold calls stay on hold, each with its company leg up.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.protocol import Command
from sidecar_harness import Sidecar, phone_uri, start_sim, stop_process

from .test_inbound_e2e import TOKEN, Sipp, caller_scenario, connect, rejected_with

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed"),
]
COMPANIES = Path(__file__).resolve().parents[2] / "hold_slayer_sim" / "companies"
HOLD_FLOW = [
    {"kind": "wait", "seconds": 1.0},
    {"kind": "dtmf", "digits": "1"},
    {"kind": "wait", "seconds": 1.0},
    {"kind": "dtmf", "digits": "2"},
    {"kind": "hold"},
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The bank, the user's phone (never rung here) and the sidecar with one media worker."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        company, company_ready = start_sim(
            tmp_path, "hold_slayer_sim.company", "--company", str(COMPANIES / "first_city_bank.yaml")
        )
        processes.append(company)
        phone, phone_ready = start_sim(tmp_path, "hold_slayer_sim.phone")
        processes.append(phone)
        sidecar = Sidecar(tmp_path, token=TOKEN, sip_workers=1)
        processes.append(sidecar.process)
        yield {
            **sidecar.wait_ready(),
            "company": company_ready["companies"]["first_city_bank"],
            "phone": phone_uri(phone_ready),
        }
    finally:
        for process in reversed(processes):
            stop_process(process)


async def test_no_leg_left_an_inbound_caller_hears_busy_and_the_hold_calls_stay(
    world: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    async with connect(world) as client:
        flow = {"id": "bank", "name": "disputes", "company": "First City Bank", "number": world["company"]}
        await client.ok(Command.SAVE_CALL_FLOW, {"flow": {**flow, "steps": HOLD_FLOW}})
        calls = []
        for _ in range(2):
            placed = await client.ok(
                Command.PLACE_CALL, {"target": world["company"], "call_flow": "bank", "transfer_to": world["phone"]}
            )
            calls.append(placed["call_id"])

        def on_hold() -> set[str]:
            return {e["call_id"] for e in client.of(protocol.EventType.CALL_STATE) if e.get("state") == "hold"}

        # Menus, then the card disputes queue (an agent only after 40 s there).
        await client.until(lambda: set(calls) <= on_hold(), 120)

        scenario = caller_scenario(tmp_path, "+15557654321", rejected_with(486))
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{world['sip_port']}")
        await sipp.finish()  # it got 486 Busy Here (and sent its ACK)
        rejected = await client.until(protocol.EventType.INBOUND_REJECTED, 10)
        assert rejected["caller"] == "+15557654321" and "busy" in rejected["reason"], rejected

        snapshot = await client.ok(Command.GET_SNAPSHOT)
        states = {call["call_id"]: call["state"] for call in snapshot["calls"]}
        assert all(states.get(call_id) == "hold" for call_id in calls), states
        for call_id in calls:
            await client.ok(Command.HANG_UP, {"call_id": call_id})

"""No capacity left: an inbound caller hears busy and the calls on hold are untouched (the real sidecar, end to end).

One media worker (four legs) carries two outbound calls on hold with a simulated bank; each keeps a leg promised
for ringing its user. An inbound INVITE (SIPp) then finds no leg it may use: 486 Busy Here at once, announced as
rejected with the reason, and both hold calls stay on hold, each with its company leg up.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.protocol import Command

from .test_inbound_e2e import TOKEN, Sipp, caller_scenario, connect, rejected_with, stop_process

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


def _start(tmp: Path, args: list[str], ready_line: bool, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log = (tmp / f"{args[1].rsplit('.', 1)[-1]}-{time.monotonic_ns()}.log").open("wb")
    out = subprocess.PIPE if ready_line else log
    return subprocess.Popen([sys.executable, *args], stdout=out, stderr=log, cwd=tmp, env=env)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The bank, the user's phone (never rung here) and the sidecar with one media worker."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ready_of = {}
        for name, extra in (
            ("company", ["--company", str(COMPANIES / "first_city_bank.yaml")]),
            ("phone", []),
        ):
            process = _start(
                tmp_path, ["-m", f"hold_slayer_sim.{name}", "--host", "127.0.0.1", "--port", "0", *extra], True
            )
            processes.append(process)
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line, f"{name} did not start"
            ready_of[name] = json.loads(line)
        ready = tmp_path / "ready.json"
        args = ["-m", "hold_slayer_sidecar", "--port", "0", "--sip-port", "0", "--sip-workers", "1",
                "--data-dir", str(tmp_path / "data"), "--ready-file", str(ready)]  # fmt: skip
        sidecar = _start(tmp_path, args, False, {**os.environ, "HOLD_SLAYER_TOKEN": TOKEN})
        processes.append(sidecar)
        deadline = time.monotonic() + 90
        while not ready.exists():
            assert sidecar.poll() is None and time.monotonic() < deadline, "the sidecar did not start"
            time.sleep(0.1)
        phone = ready_of["phone"]
        yield {
            **json.loads(ready.read_text()),
            "company": ready_of["company"]["companies"]["first_city_bank"],
            "phone": str(phone.get("uri") or f"sip:user@127.0.0.1:{phone['port']}"),
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

        async with asyncio.timeout(120):  # menus, then the card disputes queue (an agent only after 40 s there)
            while not set(calls) <= on_hold():
                frame = json.loads((await client.ws.receive()).data)
                if frame["type"] == "event":
                    client.events.append(frame)

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

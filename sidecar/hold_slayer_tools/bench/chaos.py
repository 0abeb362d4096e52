"""Chaos run: attack the real sidecar behind its SIP edge on loopback and count what breaks.

    scripts/run bench chaos [--json] [--keep DIR] [--only NAME ...]

Starts the stage of ``chaos_stage`` on 127.0.0.0/8 (the sidecar behind its edge, a SIPp trunk, a trap that
counts every INVITE an attacker made us send, a simulated company and user phone, a websocket client like
Home Assistant's). One call is placed and held for the whole run: no attack targets it until the last.
Then each attack runs, bounded in count and time, from attacker addresses (127.0.0.3, 127.0.0.5-7,
127.0.1-3.x; 127.0.0.4 spoofs a trunk address). After each one the run checks the sidecar is alive, the
held call is up, the websocket open, and the trap empty. Three attacks are from inside (``kills``): a media
worker killed and one frozen beside a call bridged to the user's phone, and the sidecar killed while on hold.

Prints one row per attack; with ``--json`` the last line is one JSON object with the totals
(``crashes``, ``calls_originated_by_attacker``, ``collateral_calls_lost``, ``emergency_dialled``,
``connections_wrongly_closed``, ``checks_failed``: an attack's own expectation that did not hold),
``worker_restarts``, ``edge_restarts`` and ``attacks`` (per-attack detail). Exit code 1 when any total is not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hold_slayer_sidecar import protocol

from .attacks import (
    SCENARIOS,
    loopback_sources,
    malformed_datagrams,
    options_sweep,
    run_sipp,
    send_datagrams,
)
from .chaos_stage import (
    ATTACKER_IP,
    HOSTILE_NUMBER,
    SPOOFED_TRUNK_IP,
    Attack,
    AttackResult,
    Outcome,
    Stage,
    place_held_call,
    stage,
)
from .kills import sidecar_kill, worker_freeze, worker_kill
from .rtp_inject import rtp_inject
from .svscans import sipvicious
from .ws_attacks import can_authenticate, fuzz, idle_connections

TOTALS = (
    "crashes",
    "calls_originated_by_attacker",
    "collateral_calls_lost",
    "emergency_dialled",
    "connections_wrongly_closed",
    "checks_failed",
)
ATTACK_LIMIT_S = 180.0  # no attack may run longer, whatever the sidecar does


# ----- the attacks -----


async def invite_flood(run: Stage) -> Outcome:
    """2,000 INVITEs at 200/s from one stranger (SIPp uac)."""
    code = await run_sipp(
        run.workdir, "flood", ATTACKER_IP, "-sn", "uac", "-r", "200", f"127.0.0.1:{run.edge_port}",
        calls=2000, timeout_s=20,
    )  # fmt: skip
    return Outcome(2000, f"sipp exit {code} (403, then silence once pike marks the address)")


async def spoofed_trunk_flood(run: Stage) -> Outcome:
    """500 INVITEs at 100/s from an address on the trunk's allow-list."""
    code = await run_sipp(
        run.workdir, "trunk_flood", SPOOFED_TRUNK_IP, "-sn", "uac", "-r", "100", f"127.0.0.1:{run.edge_port}",
        calls=500, timeout_s=20,
    )  # fmt: skip
    return Outcome(500, f"sipp exit {code} (at most 5/s and 2 at once reach PJSUA2, which refuses inbound calls)")


async def method_scan(run: Stage) -> Outcome:
    """OPTIONS, MESSAGE, SUBSCRIBE, PUBLISH, NOTIFY, REGISTER, REFER, INVITE+Replaces from a stranger and the trunk."""
    tries, codes = 0, list[int]()
    for name, source in (("scan_stranger", ATTACKER_IP), ("scan_trunk", SPOOFED_TRUNK_IP)):
        # 2 scenario runs per second = 16 requests/s: under the flood limit, so every answer is the policy's.
        code = await run_sipp(
            run.workdir, name, source, "-sf", str(SCENARIOS / "out_of_dialog.xml"), "-r", "2",
            f"127.0.0.1:{run.edge_port}", calls=20, timeout_s=30,
        )  # fmt: skip
        tries, codes = tries + 20 * 8, [*codes, code]
    return Outcome(tries, f"sipp exit {codes} (0: every request got exactly 200/401/405/403 from the edge)")


async def options_scan(run: Stage) -> Outcome:
    """One OPTIONS from each of 500 addresses (svmap-style sweep)."""
    sent, answered = await options_sweep(("127.0.0.1", run.edge_port), loopback_sources(500, 1))
    return Outcome(sent, f"{answered} answered 200 by the edge itself")


async def malformed(run: Stage) -> Outcome:
    """10,000 malformed datagrams (random bytes, cut, flipped, oversized, hostile URIs) from 250 addresses."""
    sources = loopback_sources(250, 4)
    sent = await send_datagrams(("127.0.0.1", run.edge_port), malformed_datagrams(10_000), sources, rate=2000)
    return Outcome(sent, "2,000/s; 40 per address, so pike lets the parser and sanity checks see them")


async def refer_mid_call(run: Stage) -> Outcome:
    """Let a company answer the sidecar's call and REFER it to sip:911@trap and to a premium number."""
    placed = await run.client.request(protocol.Command.PLACE_CALL, {"target": HOSTILE_NUMBER})
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.call_ended(placed["call_id"]), 20)
    outcome = run.ended.get(placed["call_id"], "still up after 20 s")
    return Outcome(2, f"the company's call ended: {outcome}")


async def ws_fuzz(run: Stage) -> Outcome:
    """20,000 fuzzed text frames after authentication (wrong types, deep nesting, cut JSON, 60 kB frames)."""
    fuzzed = await fuzz(run.ws_url, run.token, 20_000)
    note = (
        f"{fuzzed.answered} frames came back over {fuzzed.connections} connections; the sidecar closed "
        f"{fuzzed.closed} of them (each one is wrong: every frame is valid UTF-8 under 64 kB)"
    )
    return Outcome(fuzzed.sent, note, wrongly_closed=fuzzed.closed)


async def ws_idle(run: Stage) -> Outcome:
    """1,100 TCP connections to the websocket port that never send a byte, held 8 s."""
    host, port = run.ws_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    opened, closed, welcomed = await idle_connections(
        host, int(port), 1100, 8.0, lambda: can_authenticate(run.ws_url, run.token)
    )
    verdict = "welcomed" if welcomed else "NOT welcomed"
    note = f"{opened} opened, {closed} closed by the sidecar within 8 s; meanwhile a new client was {verdict}"
    return Outcome(opened, note, wrongly_closed=int(not welcomed))


ATTACKS: dict[str, Attack] = {
    "invite_flood": invite_flood,
    "spoofed_trunk_flood": spoofed_trunk_flood,
    "method_scan": method_scan,
    "options_scan": options_scan,
    "malformed_datagrams": malformed,
    "refer_mid_call": refer_mid_call,
    "ws_fuzz": ws_fuzz,
    "ws_idle_connections": ws_idle,
    "rtp_inject": rtp_inject,
    "sipvicious": sipvicious,
    "worker_kill": worker_kill,
    "worker_freeze": worker_freeze,
    "sidecar_kill": sidecar_kill,  # last: every call is gone afterwards, the sidecar a new process
}


async def run_attack(run: Stage, name: str, attack: Attack) -> AttackResult:
    """Run one attack and count the damage it did."""
    invites, emergency, restarts = len(run.trap.invites), run.trap.emergency, run.edge_restarts()
    worker_restarts = run.worker_restarts()
    started = time.monotonic()
    try:
        outcome = await asyncio.wait_for(attack(run), ATTACK_LIMIT_S)
    except TimeoutError:
        outcome = Outcome(0, f"gave up after {ATTACK_LIMIT_S:.0f} s")
    await asyncio.sleep(1.0)  # late effects: a crash or a BYE a second after the last packet
    result = AttackResult(name, outcome.tries, seconds=round(time.monotonic() - started, 1), note=outcome.note)
    result.crashes = int(run.sidecar.process.returncode is not None)
    result.edge_restarts = run.edge_restarts() - restarts
    result.worker_restarts = run.worker_restarts() - worker_restarts
    result.collateral_calls_lost = int(run.hold_call in run.ended) + outcome.collateral
    result.calls_originated_by_attacker = len(run.trap.invites) - invites
    result.emergency_dialled = run.trap.emergency - emergency
    result.connections_wrongly_closed = int(run.client.closed) + outcome.wrongly_closed
    result.checks_failed = len(outcome.failed)
    result.figures = dict(outcome.figures)
    if outcome.failed:
        result.note += f" [failed: {', '.join(outcome.failed)}]"
    return result


async def chaos(workdir: Path, only: list[str]) -> list[AttackResult]:
    """Start the stage, hold one call, run every attack in turn; stop at the first crash."""
    results: list[AttackResult] = []
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGINT):  # stop the children on Ctrl-C or timeout(1), do not orphan them
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    async with stage(workdir) as run:
        await place_held_call(run)
        for name, attack in ATTACKS.items():
            if only and name not in only:
                continue
            results.append(await run_attack(run, name, attack))
            if results[-1].crashes or results[-1].collateral_calls_lost or run.client.closed:
                break  # what comes after would measure the wreck, not the attack
    return results


def totals(results: list[AttackResult]) -> dict[str, Any]:
    """Sum the figures the issue asks for (every one should be 0) and keep the per-attack detail."""
    summary: dict[str, Any] = {key: sum(getattr(r, key) for r in results) for key in TOTALS}
    summary["worker_restarts"] = sum(r.worker_restarts for r in results)
    summary["edge_restarts"] = sum(r.edge_restarts for r in results)
    summary["attacks"] = [asdict(r) for r in results]
    return summary


def print_table(results: list[AttackResult], out: Any) -> None:
    """One row per attack."""
    header = (
        f"{'attack':<22}{'tries':>7}{'crash':>6}{'edge↻':>6}{'work↻':>6}{'lost':>5}{'calls':>6}{'911':>4}{'ws✗':>4}"
    )
    print(header + "  seconds  note", file=out)
    for r in results:
        print(
            f"{r.name:<22}{r.tries:>7}{r.crashes:>6}{r.edge_restarts:>6}{r.worker_restarts:>6}"
            f"{r.collateral_calls_lost:>5}{r.calls_originated_by_attacker:>6}{r.emergency_dialled:>4}"
            f"{r.connections_wrongly_closed:>4}  {r.seconds:>7.1f}  {r.note}",
            file=out,
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="scripts/run bench chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="last line: one JSON object with the totals")
    parser.add_argument("--keep", type=Path, help="keep logs and traces in this folder")
    parser.add_argument("--only", action="append", choices=sorted(ATTACKS), help="run only this attack (repeatable)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the chaos bench and print its table (and JSON)."""
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hold-slayer-chaos-")))
        workdir.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(chaos(workdir, args.only or []))
    print_table(results, sys.stdout)
    summary = totals(results)
    if args.json:
        print(json.dumps(summary, separators=(",", ":")))
    sys.exit(0 if all(summary[key] == 0 for key in TOTALS) else 1)


if __name__ == "__main__":
    main()

"""Chaos run: attack the real sidecar behind its SIP edge on loopback and count what breaks.

    scripts/run bench chaos [--json] [--keep DIR] [--only NAME ...]

Starts, all on 127.0.0.0/8: the sidecar (``python -m hold_slayer_sidecar``, edge on, trunk configured), a
SIPp trunk on 127.0.0.2 (digest registrar, and the far end of every call: a held call and a hostile
company), a trap on 127.0.0.9 that counts every INVITE reaching it (it stands for 911 and a premium
number), and a websocket client like Home Assistant's. One call is placed and held for the whole run:
no attack targets it. Then each attack runs, bounded in count and time, from attacker addresses
(127.0.0.3, 127.0.1-3.x; 127.0.0.4 spoofs a trunk address). After each one the run checks the
sidecar is alive, the held call is up, the websocket open, and the trap empty. One attack is from inside:
``worker_kill`` SIGKILLs the media worker process carrying a second call (the held call is in the other one).

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
import os
import re
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hold_slayer_sidecar import protocol

from hold_slayer_tools.demo import Child, Children, DemoClient, connect, ready_file

from .attacks import (
    SCENARIOS,
    free_udp_port,
    loopback_sources,
    malformed_datagrams,
    options_sweep,
    run_sipp,
    send_datagrams,
)
from .workers import udp_ports, worker_pids
from .ws_attacks import can_authenticate, fuzz, idle_connections

TRUNK_IP = "127.0.0.2"
ATTACKER_IP = "127.0.0.3"
SPOOFED_TRUNK_IP = "127.0.0.4"  # listed as a trunk address: what an attacker spoofing the trunk gets
TRAP_IP = "127.0.0.9"
HOLD_NUMBER = "5550100"
HOSTILE_NUMBER = "5550199"  # scenarios/trunk.xml answers this number as the hostile company
TOTALS = (
    "crashes",
    "calls_originated_by_attacker",
    "collateral_calls_lost",
    "emergency_dialled",
    "connections_wrongly_closed",
    "checks_failed",
)
ATTACK_LIMIT_S = 180.0  # no attack may run longer, whatever the sidecar does
ANSWER_WAIT_S = 10.0  # SIPp answers at once; a loaded 2-core machine still connects a call within a second or two
RESTART_WAIT_S = 10.0  # the pool restarts a killed worker at once (~0.3 s, a spare interpreter is ready)
LOG_POLL_S = 0.05  # finer than a restart takes (~0.1-0.3 s), coarse enough to cost nothing
SURVIVOR_WATCH_S = 3.0  # how long the call in the other worker must stay up after the kill
WORKER_RESTARTED = re.compile(r"media worker \d+ restarted \(pid")
WORKER_KILLED = re.compile(r"media worker \d+ crashed \(killed by signal 9, SIGKILL\); restarted")


@dataclass
class AttackResult:
    """What one attack did."""

    name: str
    tries: int = 0
    crashes: int = 0
    edge_restarts: int = 0
    worker_restarts: int = 0
    collateral_calls_lost: int = 0
    calls_originated_by_attacker: int = 0
    emergency_dialled: int = 0
    connections_wrongly_closed: int = 0
    checks_failed: int = 0  # what the attack itself expected and did not see (listed in the note)
    seconds: float = 0.0
    note: str = ""


class Trap(asyncio.DatagramProtocol):
    """Counts INVITEs that reach it (it never answers): each one is a call an attacker made us place."""

    def __init__(self) -> None:
        self.invites: list[str] = []

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """Record the request line of an INVITE."""
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        if line.startswith("INVITE "):
            self.invites.append(line)

    @property
    def emergency(self) -> int:
        """INVITEs for the emergency number the hostile company named."""
        return sum(1 for line in self.invites if line.startswith("INVITE sip:911@"))


@dataclass
class Stage:
    """Everything the run started and watches."""

    workdir: Path
    edge_port: int
    sidecar: Child
    client: DemoClient
    trap: Trap
    ended: dict[str, str] = field(default_factory=dict)  # call id -> outcome
    reasons: dict[str, str] = field(default_factory=dict)  # call id -> reason it ended
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    ws_url: str = ""
    token: str = ""
    hold_call: str = ""
    ws_closed: bool = False

    async def call_ended(self, call_id: str) -> None:
        """Return once the call has ended."""
        while call_id not in self.ended:
            self.changed.clear()
            await self.changed.wait()

    def edge_restarts(self) -> int:
        """How often the sidecar has restarted kamailio so far (from its log)."""
        return self.sidecar.log.read_text(errors="replace").count("SIP edge restarted")

    def worker_restarts(self) -> int:
        """How often the sidecar's pool has restarted a media worker so far (its log line, sip/pool.py)."""
        return len(WORKER_RESTARTED.findall(self.sidecar.log.read_text(errors="replace")))

    async def call_state(self, call_id: str) -> str | None:
        """Return the call's state in a fresh snapshot (None once it is no longer listed)."""
        snapshot = await self.client.request(protocol.Command.GET_SNAPSHOT, {})
        return next((call["state"] for call in snapshot["calls"] if call["call_id"] == call_id), None)


@dataclass(frozen=True)
class Outcome:
    """What an attack reports itself: how much it sent, a note, legitimate connections it cost."""

    tries: int
    note: str
    wrongly_closed: int = 0
    failed: tuple[str, ...] = ()  # checks of the attack's own that did not hold


type Attack = Callable[[Stage], Awaitable[Outcome]]


def sidecar_config(workdir: Path, edge_port: int, registrar_port: int, trunk_port: int, token: str) -> Path:
    """Write the sidecar's YAML settings: edge on the public port, a trunk at TRUNK_IP, light voice engines."""
    config = {
        "token": token,
        "data_dir": str(workdir / "data"),
        # Only rung if the detector heard a person in SIPp's silence: nobody listens there.
        "user_phone": f"sip:user@{TRAP_IP}:9",
        "sip": {
            "bind_host": "127.0.0.1",
            "port": edge_port,
            "registrar": f"sip:{TRUNK_IP}:{registrar_port}",
            "username": "alice",
            "password": "chaos-secret",
            "domain": f"{TRUNK_IP}:{trunk_port}",
        },
        "edge": {
            "enabled": True,
            "internal_port": free_udp_port(),
            "trunk_sources": [TRUNK_IP, SPOOFED_TRUNK_IP],
        },
        # The held call must outlast the run whatever the detector makes of SIPp's silence.
        "timeouts": {"max_ivr_s": 3600, "max_hold_s": 6 * 3600, "max_ring_s": 60},
        "voice": {"stt": "none", "tts": "espeak", "relabel_menus": False},
        "record": False,
    }
    path = workdir / "sidecar.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def start_sipp(workdir: Path, name: str, source: str, port: int, *args: str) -> asyncio.subprocess.Process:
    """Start a long-lived SIPp (registrar or trunk far end) on ``source:port``."""
    with (workdir / f"{name}.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            "sipp", *args, "-i", source, "-p", str(port), "-mp", str(free_udp_port(source)), "-nostdin",
            "-timeout", "900", "-trace_err",
            stdout=log, stderr=log, cwd=workdir,
        )  # fmt: skip
    await asyncio.sleep(0.3)  # let it bind
    return proc


@contextlib.asynccontextmanager
async def stage(workdir: Path) -> AsyncIterator[Stage]:
    """Start trap, trunk, sidecar and client; stop everything afterwards."""
    loop = asyncio.get_running_loop()
    trap_transport, trap = await loop.create_datagram_endpoint(Trap, local_addr=(TRAP_IP, 0))
    trap_port = int(trap_transport.get_extra_info("sockname")[1])
    registrar_port, trunk_port, edge_port = free_udp_port(TRUNK_IP), free_udp_port(TRUNK_IP), free_udp_port()
    registrar_xml = workdir / "registrar.xml"
    registrar_xml.write_text(
        (SCENARIOS / "registrar.xml").read_text().replace("__USER__", "alice").replace("__PASSWORD__", "chaos-secret")
    )
    trunk_keys = [
        *("-key", "refer_to", f"sip:911@{TRAP_IP}:{trap_port}"),
        *("-key", "premium_to", f"sip:19005550199@{TRAP_IP}:{trap_port}"),
    ]
    sipps = [
        await start_sipp(workdir, "registrar", TRUNK_IP, registrar_port, "-sf", str(registrar_xml), "-m", "1"),
        await start_sipp(
            workdir, "trunk", TRUNK_IP, trunk_port, "-sf", str(SCENARIOS / "trunk.xml"), "-m", "20", *trunk_keys
        ),
    ]
    token = secrets.token_urlsafe(32)
    config = sidecar_config(workdir, edge_port, registrar_port, trunk_port, token)
    children = Children(workdir)
    ready_path = workdir / "sidecar.ready.json"
    try:
        sidecar = await children.spawn(
            "sidecar", "-m", "hold_slayer_sidecar", "--config", str(config), "--port", "0",
            "--ready-file", str(ready_path),
        )  # fmt: skip
        ready = await ready_file(sidecar, ready_path)
        async with connect(ready["ws_url"], token) as (client, _welcome):
            run = Stage(workdir, edge_port, sidecar, client, trap, ws_url=ready["ws_url"], token=token)
            watcher = asyncio.create_task(watch(run))
            try:
                yield run
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                if run.hold_call and run.hold_call not in run.ended:
                    with contextlib.suppress(Exception):
                        await client.request(protocol.Command.HANG_UP, {"call_id": run.hold_call})
    finally:
        await children.stop_all()
        for proc in sipps:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        trap_transport.close()


async def watch(run: Stage) -> None:
    """Record every call that ends, and whether the websocket closed."""
    while True:
        frame = await run.client.events.get()
        if frame.get("event") == protocol.EventType.CALL_ENDED:
            run.ended[frame["data"]["call_id"]] = str(frame["data"].get("outcome"))
            run.reasons[frame["data"]["call_id"]] = str(frame["data"].get("reason"))
            run.changed.set()


async def place_held_call(run: Stage) -> None:
    """Place the call no attack targets, and wait until the trunk has answered it."""
    placed = await run.client.request(protocol.Command.PLACE_CALL, {"target": HOLD_NUMBER})
    run.hold_call = placed["call_id"]
    await asyncio.sleep(3.0)  # answered at once by SIPp; the first seconds show whether it stays up
    if run.hold_call in run.ended:
        raise RuntimeError(f"the held call ended before any attack: {run.ended[run.hold_call]}")


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


async def answered(run: Stage, call_id: str) -> bool:
    """Wait until the trunk has answered the call (its state is past dialling and ringing)."""
    deadline = time.monotonic() + ANSWER_WAIT_S
    while time.monotonic() < deadline and call_id not in run.ended:
        if await run.call_state(call_id) not in (None, protocol.CallState.DIALING, protocol.CallState.RINGING):
            return True
        await asyncio.sleep(0.2)
    return False


async def hang_up(run: Stage, call_id: str) -> None:
    """End a call the attack placed, and wait (bounded) until it has ended."""
    if call_id not in run.ended:
        with contextlib.suppress(Exception):
            await run.client.request(protocol.Command.HANG_UP, {"call_id": call_id})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.call_ended(call_id), ANSWER_WAIT_S)


async def worker_kill(run: Stage) -> Outcome:
    """Place a second call, SIGKILL the media worker carrying it; the held call lives in the other worker."""
    failed: list[str] = []
    parent = run.sidecar.process.pid
    before = {pid: udp_ports(pid) for pid in worker_pids(parent)}  # the spare holds no port until adopted
    victim_call = (await run.client.request(protocol.Command.PLACE_CALL, {"target": HOLD_NUMBER}))["call_id"]
    if not await answered(run, victim_call):
        await hang_up(run, victim_call)
        return Outcome(1, f"the second call was not answered: {run.reasons.get(victim_call)}", failed=("answer",))
    # The worker carrying the new call is the one whose UDP sockets grew: PJSUA2 opens RTP/RTCP per call.
    grown = [pid for pid, ports in before.items() if udp_ports(pid) - ports]
    if len(grown) != 1:
        await hang_up(run, victim_call)
        return Outcome(1, f"cannot tell which worker carries the second call ({len(grown)} grew)", failed=("target",))
    victim = grown[0]
    held_state = await run.call_state(run.hold_call)
    restarts = run.worker_restarts()
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.call_ended(victim_call), ANSWER_WAIT_S)
    ended_s = time.monotonic() - killed_at
    reason = run.reasons.get(victim_call, "still up")
    if not WORKER_KILLED.search(reason):
        failed.append("reason")
    for _ in range(int(RESTART_WAIT_S / LOG_POLL_S)):  # the log is the pool's only report of a restart
        if run.worker_restarts() > restarts:
            break
        await asyncio.sleep(LOG_POLL_S)
    restart_s = time.monotonic() - killed_at
    if run.worker_restarts() == restarts:
        failed.append("restart")
    await asyncio.sleep(max(0.0, SURVIVOR_WATCH_S - (time.monotonic() - killed_at)))
    survivor = await run.call_state(run.hold_call)
    if run.hold_call in run.ended or survivor != held_state:
        failed.append("survivor")
    after_call = (await run.client.request(protocol.Command.PLACE_CALL, {"target": HOLD_NUMBER}))["call_id"]
    if not await answered(run, after_call):
        failed.append("new call")
    await hang_up(run, after_call)
    note = (
        f"pid {victim} killed: its call ended in {ended_s:.2f} s ({reason!r}), worker back in {restart_s:.2f} s; "
        f"held call {held_state} -> {survivor} {SURVIVOR_WATCH_S:.0f} s later; new call "
        + ("answered" if "new call" not in failed else "NOT answered")
    )
    return Outcome(3, note, failed=tuple(failed))


ATTACKS: dict[str, Attack] = {
    "invite_flood": invite_flood,
    "spoofed_trunk_flood": spoofed_trunk_flood,
    "method_scan": method_scan,
    "options_scan": options_scan,
    "malformed_datagrams": malformed,
    "refer_mid_call": refer_mid_call,
    "ws_fuzz": ws_fuzz,
    "ws_idle_connections": ws_idle,
    "worker_kill": worker_kill,
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
    result.collateral_calls_lost = int(run.hold_call in run.ended)
    result.calls_originated_by_attacker = len(run.trap.invites) - invites
    result.emergency_dialled = run.trap.emergency - emergency
    result.connections_wrongly_closed = int(run.client.closed) + outcome.wrongly_closed
    result.checks_failed = len(outcome.failed)
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

"""Attacks from inside: a media worker killed or frozen beside a bridged call, the sidecar killed while on hold.

``worker_kill`` / ``worker_freeze``: a call is bridged to the user's phone (a simulated company whose agent
answers, a simulated phone that answers and talks), a second call is placed (the SIPp trunk answers it) in
another media worker, and that worker gets SIGKILL (a crash) or SIGSTOP (a deadlock inside PJSIP). Checked:
the second call ends with a reason saying what happened (what Home Assistant shows), the worker is back
(restart time measured from the signal), the bridged call stays bridged and speech still crosses it both
ways after the signal (the phone hears the agent, the company hears the user), and a new call is answered.

``sidecar_kill``: SIGKILL of the sidecar while the held call is up. Checked: no media worker outlives it (each
hangs up its legs with a BYE: the trunk counts them), the sidecar started again on the same ports marks the
call interrupted with a playable recording up to the kill, Home Assistant's own client reconnects by
itself, no other history row is lost and SQLite's integrity check passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import sqlite3
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from hold_slayer_sidecar import protocol

from .chaos_stage import HOLD_NUMBER, Outcome, Stage, answered, hang_up
from .ha_client import load_client_module
from .workers import child_pids, udp_ports, worker_pids

# Ringback 1 s, the agent's greeting, the detector's verdict, the phone's ring: 10-20 s at a load of 8-20 on two
# cores; at 26 one verdict took over 60 s (speech-to-text waits its turn for a core).
BRIDGE_WAIT_S = 90.0
RESTART_WAIT_S = 10.0  # the promise is 2 s; waiting longer measures how late a restart is instead of giving up
LOG_POLL_S = 0.05  # finer than a restart takes (~0.1-0.3 s), coarse enough to cost nothing
SURVIVOR_WATCH_S = 12.0  # two of the phone's 5 s turns and the agent's answers: speech both ways, or none
ORPHAN_WAIT_S = 5.0  # a worker hangs up (BYE, ~1 s of transactions) and exits once the sidecar's socket closes
RECONNECT_WAIT_S = 60.0  # Home Assistant's client backs off 1, 2, 4, 8 s (with jitter) while the sidecar is down
HA_BACKOFF_CAP_S = 4.0  # the run caps the client's backoff (the integration's default cap is 60 s)
HOLD_WAIT_S = 60.0  # ringback 1 s, the intro, then music: the detector calls it hold within ~10-20 s loaded


def grown(before: dict[int, set[int]]) -> list[int]:
    """Worker pids whose UDP sockets grew since ``before``: PJSUA2 opens RTP/RTCP for each call it carries."""
    return [pid for pid, ports in before.items() if udp_ports(pid) - ports]


def snapshot_ports(parent: int) -> dict[int, set[int]]:
    """Each worker's UDP ports now (the spare holds none until it is adopted)."""
    return {pid: udp_ports(pid) for pid in worker_pids(parent)}


def heard_after(lines: list[dict[str, Any]], event: str, wall: float, **match: Any) -> int:
    """How many report lines of ``event`` (with fields equal to ``match``) were written after ``wall``."""
    return sum(
        1
        for line in lines
        if line.get("event") == event and float(line.get("wall") or 0) > wall
        and all(line.get(k) == v for k, v in match.items())
    )  # fmt: skip


async def bridge_call(run: Stage) -> tuple[str, str | None]:
    """Call the simulated company with the phone as transfer_to; return the call id and why it is not bridged."""
    placed = await run.client.request(
        protocol.Command.PLACE_CALL, {"target": run.company_uri, "transfer_to": run.phone_uri}
    )
    call_id = str(placed["call_id"])
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.call_bridged(call_id), BRIDGE_WAIT_S)
    if call_id in run.bridged and call_id not in run.ended:
        return call_id, None
    return call_id, f"not bridged within {BRIDGE_WAIT_S:.0f} s ({run.reasons.get(call_id, 'still up')})"


async def wait_restart(run: Stage, restarts: int) -> bool:
    """Wait (bounded) until the pool logs one more worker restart than ``restarts``."""
    for _ in range(int(RESTART_WAIT_S / LOG_POLL_S)):
        if run.worker_restarts() > restarts:
            return True
        await asyncio.sleep(LOG_POLL_S)
    return False


async def worker_kill(run: Stage) -> Outcome:
    """SIGKILL the media worker of a second call while a call in another worker is bridged to the user."""
    return await _worker_attack(run, signal.SIGKILL, "killed by signal 9, SIGKILL")


async def worker_freeze(run: Stage) -> Outcome:
    """SIGSTOP (freeze) the media worker of a second call while a call in another worker is bridged to the user."""
    return await _worker_attack(run, signal.SIGSTOP, "stopped responding")


async def _worker_attack(run: Stage, sig: signal.Signals, described: str) -> Outcome:
    parent = run.sidecar.process.pid
    before = snapshot_ports(parent)
    bridged, why = await bridge_call(run)
    if why is not None:
        await hang_up(run, bridged)
        return Outcome(1, f"the bridged call was {why}", failed=("bridge",))
    middle = snapshot_ports(parent)
    bridge_workers = grown(before)
    victim_call = (await run.client.request(protocol.Command.PLACE_CALL, {"target": HOLD_NUMBER}))["call_id"]
    try:
        return await _strike(
            run, sig, described=described, bridged=bridged, bridge_workers=bridge_workers, middle=middle,
            victim_call=victim_call,
        )  # fmt: skip
    finally:
        await hang_up(run, victim_call)
        await hang_up(run, bridged)


async def _strike(
    run: Stage,
    sig: signal.Signals,
    *,
    described: str,
    bridged: str,
    bridge_workers: list[int],
    middle: dict[int, set[int]],
    victim_call: str,
) -> Outcome:
    failed: list[str] = []
    if not await answered(run, victim_call):
        return Outcome(2, f"the second call was not answered: {run.reasons.get(victim_call)}", failed=("answer",))
    victims = grown(middle)
    if len(victims) != 1 or victims[0] in bridge_workers:
        note = f"cannot tell the second call's worker apart ({victims} grew; the bridge is in {bridge_workers})"
        return Outcome(2, note, failed=("target",))
    victim = victims[0]
    bridged_state = await run.call_state(bridged)
    restarts = run.worker_restarts()
    killed_at, killed_wall = time.monotonic(), time.time()
    os.kill(victim, sig)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.call_ended(victim_call), RESTART_WAIT_S)
    ended_s = time.monotonic() - killed_at
    reason = run.reasons.get(victim_call, "still up")
    if f"crashed ({described}); restarted" not in reason:
        failed.append("reason")
    restarted = await wait_restart(run, restarts)
    restart_s = time.monotonic() - killed_at
    if not restarted:
        failed.append("restart")
    await asyncio.sleep(max(0.0, SURVIVOR_WATCH_S - (time.monotonic() - killed_at)))
    survivor = await run.call_state(bridged)
    user_heard = heard_after(run.phone.lines(), "heard_speech_end", killed_wall)
    company_heard = heard_after(run.company.lines(), "caller_speech", killed_wall, phase="agent")
    if bridged in run.ended or survivor != bridged_state:
        failed.append("bridge kept")
    if not user_heard or not company_heard:
        failed.append("speech both ways")
    after_call = (await run.client.request(protocol.Command.PLACE_CALL, {"target": HOLD_NUMBER}))["call_id"]
    if not await answered(run, after_call):
        failed.append("new call")
    await hang_up(run, after_call)
    note = (
        f"pid {victim} got {sig.name}: its call ended in {ended_s:.2f} s ({reason!r}), worker back in "
        f"{restart_s:.2f} s; bridged call {bridged_state} -> {survivor} {SURVIVOR_WATCH_S:.0f} s later, speech "
        f"since: phone heard {user_heard} bursts, company heard {company_heard}; new call "
        + ("answered" if "new call" not in failed else "NOT answered")
    )
    figures = {"restart_s": round(restart_s, 2), "victim_ended_s": round(ended_s, 2)}
    return Outcome(3, note, failed=tuple(failed), figures=figures)


# ----- the sidecar killed -----


def trunk_byes(workdir: Path) -> int:
    """BYE requests the SIPp trunk has received so far (its -trace_msg log)."""
    count = 0
    for log in workdir.glob("trunk_*_messages.log"):
        blocks = log.read_text(errors="replace").split("UDP message received")[1:]
        # Each block: the rest of the header line ("[482] bytes :"), blank lines, then the request line.
        count += sum(1 for block in blocks if block.split(":", 1)[-1].lstrip().startswith("BYE "))
    return count


def history_rows(database: Path) -> dict[str, tuple[str, str]]:
    """Map call id -> (status, outcome) for every call row, read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT call_id, status, outcome FROM calls")
        return {str(row[0]): (str(row[1]), str(row[2])) for row in rows}


def integrity(database: Path) -> str:
    """SQLite's own verdict on the file ("ok" when intact)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def playable_seconds(blob: bytes) -> float:
    """Seconds of audio in a WAV as a player reads it (0 when the header is broken)."""
    try:
        with wave.open(io.BytesIO(blob)) as wav:
            return float(wav.getnframes()) / float(wav.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError):
        return 0.0


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still run (zombies of a dead parent are reaped by init; they count as gone)."""
    living = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            living.append(pid)
    return living


async def sidecar_kill(run: Stage) -> Outcome:
    """SIGKILL the sidecar while the held call is up; start it again; check what is left and what comes back."""
    client_module = load_client_module()
    database = run.workdir / "data" / "hold_slayer.sqlite3"
    held = run.hold_call
    connections: list[float] = []
    async with aiohttp.ClientSession() as http:
        host, port = run.ws_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        ha = client_module.HoldSlayerClient(
            host, int(port), run.token, http, backoff=client_module.Backoff(maximum=HA_BACKOFF_CAP_S)
        )
        listener = asyncio.create_task(
            ha.listen(on_connected=lambda _w: connections.append(time.monotonic()), on_disconnected=lambda _e: None)
        )
        try:
            return await _kill_sidecar(run, ha, connections, database, held)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener


async def _kill_sidecar(run: Stage, ha: Any, connections: list[float], database: Path, held: str) -> Outcome:
    for _ in range(100):  # HA's client connects within a second; 10 s at most
        if connections:
            break
        await asyncio.sleep(0.1)
    on_hold = await _on_hold(run)
    hold_state, held_state = await run.call_state(on_hold), await run.call_state(held)
    rows_before = history_rows(database)
    run.hold_call = ""  # this attack targets it: its loss is counted below, not as collateral
    connected = len(connections)  # before the kill: HA's client may be back before the restart is noticed here
    killed_at, killed_wall = time.monotonic(), time.time()
    left = await _kill(run)
    hung_up = heard_after(run.company.lines(), "hangup", killed_wall, who="caller")  # the company's own view
    restarted_at = time.monotonic()
    try:
        await run.start_sidecar()
    except Exception as err:
        return Outcome(1, f"the sidecar did not start again: {err}", failed=(*left.failed, "restart"))
    ready_s = time.monotonic() - restarted_at
    stale_edge = alive(left.edge)
    for pid in stale_edge:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    await run.open_client()
    reconnect_s = await _reconnected(connections, connected, killed_at)
    back = await _what_ha_shows(ha, [held, on_hold]) if reconnect_s is not None else None
    if hold_state != protocol.CallState.HOLD:
        left = replace(left, failed=(*left.failed, "on hold"))
    rows_after = history_rows(database)
    lost = [cid for cid, row in rows_before.items() if row[0] != "live" and rows_after.get(cid) != row]
    verdict = integrity(database)
    failed = [*left.failed, *(back.failed if back else ["HA reconnect"])]
    if hung_up < 1:
        failed.append("BYE to the company on hold")
    if stale_edge:
        failed.append("old edge left")
    if verdict != "ok":
        failed.append("integrity")
    note = (
        f"killed with a queue call ({hold_state}) and the held trunk call ({held_state}) up; workers gone "
        f"{left.gone_s:.2f} s after the kill "
        f"({left.orphans} orphaned), "
        f"trunk got {left.byes} BYE, the company on hold {hung_up}; sidecar ready again in {ready_s:.1f} s (old edge "
        f"{'STILL RUNNING' if stale_edge else 'replaced'}), HA's client back "
        f"{reconnect_s if reconnect_s is not None else float('nan'):.1f} s after the kill; "
        + (back.note if back else "")
        + f"; other rows lost {len(lost)}; integrity {verdict}"
    )
    figures = {"workers_gone_s": round(left.gone_s, 2), "reconnect_s": round(reconnect_s or -1.0, 2)}
    return Outcome(1, note, failed=tuple(failed), collateral=len(lost), figures=figures)


@dataclass(frozen=True)
class _Left:
    """What a killed sidecar left behind."""

    orphans: int
    gone_s: float
    byes: int
    failed: tuple[str, ...]
    edge: list[int]  # the killed sidecar's kamailio: the next start must end it


async def _kill(run: Stage) -> _Left:
    """SIGKILL the sidecar; wait for its workers to go and count the BYEs the trunk received meanwhile."""
    workers = worker_pids(run.sidecar.process.pid)
    edge = child_pids(run.sidecar.process.pid, "-DD")  # kamailio's main process: it stays for the BYEs
    byes = trunk_byes(run.workdir)
    killed_at = time.monotonic()
    os.kill(run.sidecar.process.pid, signal.SIGKILL)
    await run.sidecar.process.wait()
    await run.close_client()
    while alive(workers) and time.monotonic() - killed_at < ORPHAN_WAIT_S:  # noqa: ASYNC110 - other processes
        await asyncio.sleep(LOG_POLL_S)
    orphans = alive(workers)
    gone_s = time.monotonic() - killed_at
    for pid in orphans:  # leave nothing behind for the next run, whatever the verdict
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(1.0)  # the BYE's 200 OK, and a late retransmission
    bye_count = trunk_byes(run.workdir) - byes
    failed = (("orphaned workers",) if orphans else ()) + (("BYE",) if bye_count < 1 else ())
    return _Left(len(orphans), gone_s, bye_count, failed, edge)


async def _reconnected(connections: list[float], connected: int, killed_at: float) -> float | None:
    """Wait (bounded) for HA's client to connect again after ``connected`` connections; return s since the kill."""
    deadline = time.monotonic() + RECONNECT_WAIT_S
    while len(connections) == connected and time.monotonic() < deadline:  # noqa: ASYNC110 - the client's callback
        await asyncio.sleep(LOG_POLL_S)
    return connections[-1] - killed_at if len(connections) > connected else None


@dataclass(frozen=True)
class _Shown:
    """What Home Assistant's client finds about the killed call once it is back."""

    note: str
    failed: tuple[str, ...]


async def _what_ha_shows(ha: Any, calls: list[str]) -> _Shown:
    """Fetch each killed call's history entry and its recordings through HA's client."""
    notes, failed = [], []
    for call_id in calls:
        call = await ha.get_call(call_id)
        recordings = [rec for rec in call.get("recordings") or [] if isinstance(rec, dict)]
        seconds = [playable_seconds(await ha.fetch_recording(call_id, rec["name"])) for rec in recordings]
        outcome = (call.get("call") or {}).get("outcome")
        failed += (["interrupted"] if outcome != "interrupted" else []) + (["recording"] if not any(seconds) else [])
        legs = [str(rec["name"]).rsplit("-", 1)[-1] for rec in recordings]
        plays = ", ".join(f"{leg} {s:.1f} s" for leg, s in zip(legs, seconds, strict=True))
        notes.append(f"{outcome}, plays {plays or 'nothing'}, transcript {len(call.get('transcript') or [])} lines")
    return _Shown("calls: " + "; ".join(notes), tuple(failed))


async def _on_hold(run: Stage) -> str:
    """Place a call to the simulated queue and wait (bounded) until the sidecar says it is on hold."""
    call_id = str((await run.client.request(protocol.Command.PLACE_CALL, {"target": run.hold_uri}))["call_id"])
    deadline = time.monotonic() + HOLD_WAIT_S
    while time.monotonic() < deadline and await run.call_state(call_id) != protocol.CallState.HOLD:  # noqa: ASYNC110
        await asyncio.sleep(0.5)  # the state is the sidecar's: asked for, not pushed here
    return call_id

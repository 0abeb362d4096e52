"""Benchmark the SIP engines on loopback: call setup time, CPU with 2 tapped calls, worker restart time.

Run: ``python -m hold_slayer_tools.bench.sip_setup [--engine both|direct|pool] [--calls 20] [--seconds 10]
[--kills 5] [--json OUT]``. A peer engine runs in a subprocess (one Endpoint per process); it answers at once
and plays a tone. ``direct`` is a ``PjsuaEngine`` in this process; ``pool`` is the product's
``WorkerPoolEngine`` (2 workers), whose CPU is counted in this process and in its workers separately, and
whose workers are killed (``kill -9``) one at a time to time their restart and the next answered call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.engine import PjsuaEngine
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine
from hold_slayer_sidecar.sip.settings import SipSettings

type Engine = PjsuaEngine | WorkerPoolEngine
_CLK_TCK = os.sysconf("SC_CLK_TCK")

_TIMEOUT = 10.0
_DEFAULT_OUT = Path("/tmp/hold-slayer-bench/sip_setup.json")


async def _peer(ready_file: Path) -> None:
    """Answer every call at once and play a 1 kHz tone into it until it ends."""
    engine = PjsuaEngine(SipSettings())
    await engine.start()
    tone = (np.sin(2 * np.pi * 1000 * np.arange(8000 * 60) / 8000) * 8000).astype(np.int16)
    tasks: dict[str, asyncio.Task[None]] = {}

    def on_event(event: LegEvent) -> None:
        if event.kind == LegEventKind.INCOMING:
            tasks[event.leg_id] = asyncio.ensure_future(_answer_and_play(engine, event.leg_id, tone))
        elif event.kind == LegEventKind.DISCONNECTED and event.leg_id in tasks:
            tasks.pop(event.leg_id).cancel()

    engine.subscribe_events(on_event)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)  # the benchmark ends us
    await asyncio.to_thread(ready_file.write_text, engine.local_uri)
    try:
        await stop.wait()
    finally:
        for task in tasks.values():
            task.cancel()
        await engine.stop()


async def _answer_and_play(engine: PjsuaEngine, leg_id: str, tone: np.ndarray) -> None:
    await engine.answer(leg_id)
    await asyncio.sleep(0.05)
    await engine.play(leg_id, tone, 8000)


class _Events:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, LegEventKind], asyncio.Event] = {}

    def __call__(self, event: LegEvent) -> None:
        self.flag(event.leg_id, event.kind).set()

    def flag(self, leg_id: str, kind: LegEventKind) -> asyncio.Event:
        return self.seen.setdefault((leg_id, kind), asyncio.Event())

    async def wait(self, leg_id: str, kind: LegEventKind) -> None:
        await asyncio.wait_for(self.flag(leg_id, kind).wait(), _TIMEOUT)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _worker_pids(engine: Engine) -> list[int]:
    return [pid for pid in engine.worker_pids if pid is not None] if isinstance(engine, WorkerPoolEngine) else []


async def _measure_cpu(engine: Engine, seconds: float) -> tuple[float, float]:
    """Return CPU (% of one core) of this process and of the engine's worker processes over ``seconds``."""
    workers = _worker_pids(engine)
    own, theirs, wall = _cpu_s(os.getpid()), sum(map(_cpu_s, workers)), time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - wall
    return 100 * (_cpu_s(os.getpid()) - own) / elapsed, 100 * (sum(map(_cpu_s, workers)) - theirs) / elapsed


async def run(engines: list[str], calls: int, seconds: float, kills: int) -> dict[str, Any]:
    """Run the measurements for each engine against one peer subprocess; return the results."""
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "peer-uri"
        peer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __spec__.name if __spec__ else __name__, "--peer", str(ready),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            uri = await asyncio.wait_for(asyncio.to_thread(_read_when_written, ready), _TIMEOUT)
            results = {}
            for kind in engines:
                engine: Engine = (
                    WorkerPoolEngine(SipSettings(), workers=2) if kind == "pool" else PjsuaEngine(SipSettings())
                )
                results[kind] = await _bench(engine, uri, calls, seconds, kills if kind == "pool" else 0)
            return {"calls": calls, "seconds": seconds, "load_before": os.getloadavg(), "engines": results}
        finally:
            peer.terminate()
            if await asyncio.wait_for(peer.wait(), _TIMEOUT) != 0:
                print(f"warning: the peer process exited with {peer.returncode}", file=sys.stderr)


def _read_when_written(path: Path) -> str:
    while not (path.exists() and (text := path.read_text())):
        time.sleep(0.05)
    return text


async def _bench(engine: Engine, uri: str, calls: int, seconds: float, kills: int) -> dict[str, Any]:
    await engine.start()
    events = _Events()
    engine.subscribe_events(events)
    try:
        setup_ms: list[float] = []
        for _ in range(calls):
            start = time.perf_counter()
            leg = await engine.dial(uri)  # INVITE goes out on the PJSUA2 thread
            await events.wait(leg, LegEventKind.ANSWERED)  # 200 OK received, media up
            setup_ms.append((time.perf_counter() - start) * 1000)
            await engine.hang_up(leg)
            await events.wait(leg, LegEventKind.DISCONNECTED)

        idle_cpu = await _measure_cpu(engine, min(seconds, 3))
        counts = {"a": 0, "b": 0}
        legs = []
        for name in counts:
            leg = await engine.dial(uri)
            await events.wait(leg, LegEventKind.ANSWERED)

            def count(_frame: AudioFrame, name: str = name) -> None:
                counts[name] += 1

            engine.subscribe_audio(leg, count)
            legs.append(leg)
        await asyncio.sleep(0.5)
        before = dict(counts)
        two_call_cpu = await _measure_cpu(engine, seconds)
        frames_per_s = [(counts[name] - before[name]) / seconds for name in counts]
        for leg in legs:
            await engine.hang_up(leg)
        restarts = await _restarts(engine, events, uri, kills) if isinstance(engine, WorkerPoolEngine) else []
    finally:
        await engine.stop()
    return {
        "setup_ms": {
            "min": min(setup_ms),
            "median": statistics.median(setup_ms),
            "p95": sorted(setup_ms)[max(0, round(0.95 * len(setup_ms)) - 1)],
            "max": max(setup_ms),
        },
        "cpu_percent_one_core": {
            "idle_engine": {"this_process": idle_cpu[0], "workers": idle_cpu[1]},
            "two_tapped_calls": {"this_process": two_call_cpu[0], "workers": two_call_cpu[1]},
        },
        "tap_frames_per_s": frames_per_s,
        "restart_ms": restarts,
    }


async def _restarts(pool: WorkerPoolEngine, events: _Events, uri: str, kills: int) -> list[dict[str, float]]:
    """Kill a worker ``kills`` times (alternating); time until it runs again and until a new call is answered."""
    timings = []
    for number in range(kills):
        index = number % len(pool.worker_pids)
        old = pool.worker_pids[index]
        assert old is not None
        start = time.perf_counter()
        os.kill(old, signal.SIGKILL)
        while pool.worker_pids[index] in (None, old):  # noqa: ASYNC110 - 5 ms polls time the restart
            await asyncio.sleep(0.005)
        back = time.perf_counter() - start
        leg = await pool.dial(uri)
        await events.wait(leg, LegEventKind.ANSWERED)
        answered = time.perf_counter() - start
        await pool.hang_up(leg)
        await events.wait(leg, LegEventKind.DISCONNECTED)
        timings.append({"worker_back": back * 1000, "next_call_answered": answered * 1000})
        await asyncio.sleep(0.5)
    return timings


def _print_table(result: dict[str, Any]) -> None:
    names = list(result["engines"])
    rows: list[tuple[str, list[str]]] = [
        ("call setup (INVITE -> ANSWERED), median ms", []),
        ("call setup min / p95 / max ms", []),
        ("CPU idle, this process / workers (% core)", []),
        ("CPU 2 tapped calls, this process / workers", []),
        ("tap frames per second per leg", []),
        ("kill -9: worker back, median / max ms", []),
        ("kill -9: next call answered, median ms", []),
    ]
    for name in names:
        one = result["engines"][name]
        setup, cpu, restarts = one["setup_ms"], one["cpu_percent_one_core"], one["restart_ms"]
        idle, busy = cpu["idle_engine"], cpu["two_tapped_calls"]
        back = [r["worker_back"] for r in restarts]
        answered = [r["next_call_answered"] for r in restarts]
        values = [
            f"{setup['median']:.1f}",
            f"{setup['min']:.1f} / {setup['p95']:.1f} / {setup['max']:.1f}",
            f"{idle['this_process']:.1f} / {idle['workers']:.1f}",
            f"{busy['this_process']:.1f} / {busy['workers']:.1f}",
            ", ".join(f"{f:.1f}" for f in one["tap_frames_per_s"]),
            f"{statistics.median(back):.0f} / {max(back):.0f}" if back else "-",
            f"{statistics.median(answered):.0f}" if answered else "-",
        ]
        for (_, column), value in zip(rows, values, strict=True):
            column.append(value)
    width = max(len(label) for label, _ in rows)
    load = ", ".join(f"{x:.2f}" for x in result["load_before"])
    print(f"SIP engines on loopback ({result['calls']} calls, {result['seconds']:.0f} s media; load before {load})")
    print(f"  {'':<{width}}  " + "  ".join(f"{name:>22}" for name in names))
    for label, column in rows:
        print(f"  {label:<{width}}  " + "  ".join(f"{value:>22}" for value in column))


def main() -> None:
    """Parse arguments, run the benchmark (or the peer), print a table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20, help="calls for the setup-time measurement")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the CPU measurement")
    parser.add_argument("--engine", choices=["both", "direct", "pool"], default="both", help="which engine(s)")
    parser.add_argument("--kills", type=int, default=5, help="worker kills for the restart measurement (pool)")
    parser.add_argument("--json", type=Path, default=_DEFAULT_OUT, help=f"report path (default {_DEFAULT_OUT})")
    parser.add_argument("--peer", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer is not None:
        asyncio.run(_peer(args.peer))
        return
    engines = ["direct", "pool"] if args.engine == "both" else [args.engine]
    result = asyncio.run(run(engines, args.calls, args.seconds, max(0, min(args.kills, 50))))
    _print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Benchmark the SIP engine on loopback: call setup time and CPU of one process carrying 2 tapped calls.

Run: ``python -m hold_slayer_sidecar.sip.bench_setup [--calls 20] [--seconds 10] [--json OUT]``.
A peer engine runs in a subprocess (one Endpoint per process); it answers at once and plays a tone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.types import AudioFrame
from .api import LegEvent, LegEventKind
from .engine import PjsuaEngine
from .settings import SipSettings

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


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure_cpu(seconds: float) -> float:
    cpu, wall = _cpu_s(), time.perf_counter()
    await asyncio.sleep(seconds)
    return 100 * (_cpu_s() - cpu) / (time.perf_counter() - wall)


async def run(calls: int, seconds: float) -> dict[str, Any]:
    """Run both measurements against a peer subprocess; return the results."""
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "peer-uri"
        peer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __spec__.name if __spec__ else __name__, "--peer", str(ready),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            uri = await asyncio.wait_for(asyncio.to_thread(_read_when_written, ready), _TIMEOUT)
            return await _bench(uri, calls, seconds)
        finally:
            peer.terminate()
            if await asyncio.wait_for(peer.wait(), _TIMEOUT) != 0:
                print(f"warning: the peer process exited with {peer.returncode}", file=sys.stderr)


def _read_when_written(path: Path) -> str:
    while not (path.exists() and (text := path.read_text())):
        time.sleep(0.05)
    return text


async def _bench(uri: str, calls: int, seconds: float) -> dict[str, Any]:
    engine = PjsuaEngine(SipSettings())
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

        idle_cpu = await _measure_cpu(min(seconds, 3))
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
        two_call_cpu = await _measure_cpu(seconds)
        frames_per_s = [(counts[name] - before[name]) / seconds for name in counts]
        for leg in legs:
            await engine.hang_up(leg)
    finally:
        await engine.stop()
    return {
        "calls": calls,
        "setup_ms": {
            "min": min(setup_ms),
            "median": statistics.median(setup_ms),
            "p95": sorted(setup_ms)[max(0, round(0.95 * len(setup_ms)) - 1)],
            "max": max(setup_ms),
        },
        "cpu_percent_one_core": {"idle_engine": idle_cpu, "two_tapped_calls": two_call_cpu},
        "tap_frames_per_s": frames_per_s,
        "seconds": seconds,
    }


def _print_table(result: dict[str, Any]) -> None:
    setup = result["setup_ms"]
    cpu = result["cpu_percent_one_core"]
    rows = [
        ("call setup (INVITE -> ANSWERED), median ms", f"{setup['median']:.1f}"),
        ("call setup min / p95 / max ms", f"{setup['min']:.1f} / {setup['p95']:.1f} / {setup['max']:.1f}"),
        ("CPU, engine idle (% of one core)", f"{cpu['idle_engine']:.1f}"),
        ("CPU, 2 calls with audio taps (% of one core)", f"{cpu['two_tapped_calls']:.1f}"),
        ("tap frames per second per leg", ", ".join(f"{f:.1f}" for f in result["tap_frames_per_s"])),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"SIP engine on loopback ({result['calls']} calls, {result['seconds']:.0f} s media)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def main() -> None:
    """Parse arguments, run the benchmark (or the peer), print a table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20, help="calls for the setup-time measurement")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the CPU measurement")
    parser.add_argument("--json", type=Path, default=_DEFAULT_OUT, help=f"report path (default {_DEFAULT_OUT})")
    parser.add_argument("--peer", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer is not None:
        asyncio.run(_peer(args.peer))
        return
    result = asyncio.run(run(args.calls, args.seconds))
    _print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

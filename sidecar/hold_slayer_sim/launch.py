"""Start the simulated companies or the user phone as subprocesses (for the demo, e2e tests and benchmarks).

async with run_company([Path("companies/first_city_bank.yaml")], report=tmp / "co.jsonl") as co:
uri = co.ready["companies"]["first_city_bank"]      # dial this
line = await co.wait_for("agent_started")            # ground truth, with t_s and wall
async with run_phone(report=tmp / "phone.jsonl", answer_after=1.0) as phone:
phone.ready["uri"]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

_READY_TIMEOUT_S = 180.0  # the first start may render speech that is not cached yet


class SimProcessError(Exception):
    """The simulator process did not start or did not announce itself."""


class SimProcess:
    """A running simulator: its ready message and its JSON-lines report."""

    def __init__(self, proc: asyncio.subprocess.Process, ready: dict[str, Any], report: Path) -> None:
        self.proc = proc
        self.ready = ready
        self.report = report

    def lines(self) -> list[dict[str, Any]]:
        """Every report line written so far."""
        try:
            text = self.report.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(x) for x in text.splitlines() if x.strip()]

    async def wait_for(self, event: str, within: float = 30.0, **match: Any) -> dict[str, Any]:
        """Wait for the first report line of ``event`` whose fields equal ``match``; raise TimeoutError."""
        deadline = time.monotonic() + within
        while True:
            for line in self.lines():
                if line["event"] == event and all(line.get(k) == v for k, v in match.items()):
                    return line
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event!r} {match} in {self.report} within {within} s")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 15)
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@contextlib.asynccontextmanager
async def _run(module: str, args: Sequence[str], report: Path, stderr: Path | None) -> AsyncIterator[SimProcess]:
    report.parent.mkdir(parents=True, exist_ok=True)
    err_file = stderr.open("ab") if stderr is not None else None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"hold_slayer_sim.{module}",
        "--report",
        str(report),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=err_file if err_file is not None else asyncio.subprocess.DEVNULL,
    )
    sim: SimProcess | None = None
    try:
        assert proc.stdout is not None
        try:
            first = await asyncio.wait_for(proc.stdout.readline(), _READY_TIMEOUT_S)
            ready = json.loads(first)
        except (TimeoutError, ValueError) as err:
            raise SimProcessError(f"hold_slayer_sim.{module} did not report ready (exit {proc.returncode})") from err
        sim = SimProcess(proc, ready, report)
        yield sim
    finally:
        await (sim or SimProcess(proc, {}, report)).stop()
        if err_file is not None:
            err_file.close()


def run_company(
    companies: Sequence[Path],
    *,
    report: Path,
    port: int = 0,
    record_dir: Path | None = None,
    stt: bool = True,
    stderr: Path | None = None,
) -> contextlib.AbstractAsyncContextManager[SimProcess]:
    """Run ``python -m hold_slayer_sim.company`` for these company files until the block exits."""
    args = ["--port", str(port)]
    for path in companies:
        args += ["--company", str(path)]
    if record_dir is not None:
        args += ["--record-dir", str(record_dir)]
    if not stt:
        args.append("--no-stt")
    return _run("company", args, report, stderr)


def run_phone(
    *,
    report: Path,
    port: int = 0,
    answer_after: float = 2.0,
    reject: bool = False,
    hangup_after: float | None = None,
    greeting: str | None = None,
    talk_every: float | None = None,
    stderr: Path | None = None,
) -> contextlib.AbstractAsyncContextManager[SimProcess]:
    """Run ``python -m hold_slayer_sim.phone`` until the block exits."""
    args = ["--port", str(port), "--answer-after", str(answer_after)]
    if reject:
        args.append("--reject")
    if hangup_after is not None:
        args += ["--hangup-after", str(hangup_after)]
    if greeting is not None:
        args += ["--greeting", greeting]
    if talk_every is not None:
        args += ["--talk-every", str(talk_every)]
    return _run("phone", args, report, stderr)

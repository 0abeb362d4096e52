"""End-to-end demo: a real sidecar calls a simulated company and rings a simulated phone, all on loopback.

    python -m hold_slayer_tools.demo [--company FILE] [--intent TEXT] [--explore] [--json] [--all]

Starts three processes (sidecar, company, phone) on free ports with a random token, saves a call flow for
the intent (unless --explore), places the call over the websocket exactly as Home Assistant does, prints
a timeline, and with --json ends with one JSON line. Exit status 0 only when the user was connected.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.resources
import json
import os
import re
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from hold_slayer_sidecar import protocol

# The simulator ships beside the product in this repository (the demo is a developer tool).
COMPANIES_DIR = Path(str(importlib.resources.files("hold_slayer_sim") / "companies"))
DEFAULT_COMPANY = COMPANIES_DIR / "first_city_bank.yaml"
START_TIMEOUT_S = 60.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> list[tuple[int, int, float]]:
    """(pid, parent pid, CPU seconds) of every process (Linux /proc)."""
    stats = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it exited meanwhile
        stats.append((int(path.parent.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLK_TCK))
    return stats


class DemoError(Exception):
    """The demo could not run (a process did not start, bad company file, unknown intent)."""


# ---------------------------------------------------------------- the company file


@dataclass(frozen=True)
class TestIntent:
    """One intent of a company file with the department it reaches and the keys that get there."""

    __test__ = False  # not a pytest class

    intent: str
    department: str
    path: list[str]


def load_intents(path: Path) -> tuple[str, str, list[TestIntent]]:
    """Read a company file's id, name and test intents."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DemoError(f"cannot read company file {path}: {err}") from err
    intents = [
        TestIntent(str(item["intent"]), str(item["department"]), str(item.get("path", "")).split())
        for item in data.get("test_intents", [])
    ]
    if not intents:
        raise DemoError(f"{path} has no test_intents")
    return str(data["id"]), str(data.get("name", data["id"])), intents


def build_flow(company_id: str, company_name: str, intent: TestIntent, number: str) -> dict[str, Any]:
    """Build a stored call flow for the intent: its keys or spoken reason, then HOLD."""
    steps: list[dict[str, Any]] = []
    for key in intent.path:
        if key == "say":  # answer the question only once it has been asked: wait for the prompt to end
            steps += [{"kind": "wait"}, {"kind": "speak", "text": intent.intent}]
        else:  # menus accept keys while they speak (barge-in)
            steps += [{"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": key}]
    steps.append({"kind": "hold"})
    slug = re.sub(r"[^a-z0-9]+", "-", f"{company_id} {intent.department}".lower()).strip("-")[:64]
    return {
        "id": slug,
        "name": f"{company_name}: {intent.department}",
        "company": company_id,
        "number": number,
        "intent": intent.intent,
        "department": intent.department,
        "steps": steps,
    }


# ---------------------------------------------------------------- child processes


@dataclass
class Child:
    """A process the demo started (stderr goes to a log file)."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU the process and its live children (the sidecar's media workers) have used (Linux /proc)."""
        pid = self.process.pid
        return sum(cpu for proc, parent, cpu in _proc_stats() if pid in (proc, parent))

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 8 s."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 8)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


@dataclass
class Children:
    """Every process the demo started, stopped in reverse order."""

    workdir: Path
    started: list[Child] = field(default_factory=list)

    async def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Child:
        """Start ``python args...`` with stdout piped and stderr in ``<workdir>/<name>.log``."""
        log = self.workdir / f"{name}.log"
        with log.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,  # Ctrl-C reaches the demo only; it stops the children in order
            )
        child = Child(name, process, log)
        self.started.append(child)
        return child

    async def stop_all(self) -> None:
        """Stop every child (the sidecar first, so it hangs up before its peers vanish)."""
        for child in reversed(self.started):
            await child.stop()


async def quiet_cpu(child: Child, limit_s: float = 30.0) -> None:
    """Wait until the child uses less than 10 % of a core (its start-up work is done), at most ``limit_s``."""
    deadline = time.monotonic() + limit_s
    last = child.cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = child.cpu_seconds()
        if now - last < 0.05:
            return
        last = now


async def spawn_sidecar(children: Children, workdir: Path, token: str) -> tuple[Child, Path]:
    """Start a sidecar on free ports with its data under ``workdir``; return it and its ready-file path."""
    ready_path = workdir / "sidecar.ready.json"
    sidecar = await children.spawn(
        "sidecar", "-m", "hold_slayer_sidecar", "--port", "0", "--sip-port", "0",
        "--data-dir", str(workdir / "data"), "--ready-file", str(ready_path),
        env={"HOLD_SLAYER_TOKEN": token},
    )  # fmt: skip
    return sidecar, ready_path


async def phone_ready_uri(phone: Child) -> str:
    """Wait for the simulated phone's ready line and return the SIP URI that rings it."""
    info = await ready_line(phone)
    return str(info.get("uri") or f"sip:user@127.0.0.1:{info['port']}")


async def ready_line(child: Child) -> dict[str, Any]:
    """Read the child's first stdout line, a JSON object announcing its ports."""
    assert child.process.stdout is not None
    try:
        line = await asyncio.wait_for(child.process.stdout.readline(), START_TIMEOUT_S)
    except TimeoutError as err:
        raise DemoError(f"{child.name} did not start in {START_TIMEOUT_S:.0f} s (see {child.log})") from err
    if not line:
        raise DemoError(f"{child.name} exited before it was ready (see {child.log})")
    ready: dict[str, Any] = json.loads(line)
    return ready


async def ready_file(child: Child, path: Path) -> dict[str, Any]:
    """Wait for the sidecar's ready file."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not await asyncio.to_thread(path.exists):
        if child.process.returncode is not None:
            raise DemoError(f"{child.name} exited with {child.process.returncode} (see {child.log})")
        if time.monotonic() > deadline:
            raise DemoError(f"{child.name} did not start in {START_TIMEOUT_S:.0f} s (see {child.log})")
        await asyncio.sleep(0.1)
    data: dict[str, Any] = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    return data


# ---------------------------------------------------------------- the websocket client


class DemoClient:
    """The sidecar's websocket, spoken the way the Home Assistant integration speaks it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next_id = 0
        self._results: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    @property
    def closed(self) -> bool:
        """Whether the websocket has closed."""
        return self._ws.closed

    async def pump(self) -> None:
        """Route results to their requests and events to the queue."""
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            if frame["type"] == "result" and frame["id"] in self._results:
                self._results.pop(frame["id"]).set_result(frame)
            elif frame["type"] == "event":
                self.events.put_nowait(frame)

    async def request(self, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its data; raise DemoError for a failed result."""
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._results[self._next_id] = future
        await self._ws.send_str(protocol.encode(protocol.request(self._next_id, command, data)))
        result = await asyncio.wait_for(future, 30)
        if not result["success"]:
            raise DemoError(f"{command} failed: {result['error']['code']}: {result['error']['message']}")
        answer: dict[str, Any] = result["data"]
        return answer


@contextlib.asynccontextmanager
async def connect(url: str, token: str) -> AsyncIterator[tuple[DemoClient, dict[str, Any]]]:
    """Open the websocket, do the hello/welcome handshake, pump frames in the background."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_str(protocol.encode(protocol.hello(token, "hold-slayer-demo")))
        welcome = json.loads((await ws.receive(timeout=10)).data)
        if welcome.get("type") != "welcome":
            raise DemoError(f"sidecar refused the handshake: {welcome}")
        client = DemoClient(ws)
        pump = asyncio.get_running_loop().create_task(client.pump())
        try:
            yield client, welcome
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


# ---------------------------------------------------------------- the call


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@dataclass
class Timeline:
    """What the demo saw, in seconds from the call's start."""

    quiet: bool
    start: float = 0.0
    marks: dict[str, float] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    learned: str | None = None

    def say(self, at: float | None, text: str) -> None:
        """Print one timeline line (to stderr with --json, so stdout holds only the JSON line)."""
        offset = (at if at is not None else time.time()) - self.start
        print(f"[{offset:7.2f} s] {text}", file=sys.stderr if self.quiet else sys.stdout, flush=True)

    def mark(self, name: str, at: float | None) -> None:
        """Remember the first time something happened."""
        if at is not None and name not in self.marks:
            self.marks[name] = round(at - self.start, 2)


def describe(event: str, data: dict[str, Any]) -> str:
    """One readable line for an event."""
    if event == protocol.EventType.CALL_STATE:
        extra = f" ({data['reason']})" if data.get("reason") and data["state"] in ("ended", "failed") else ""
        return f"state -> {data['state']}{extra}"
    if event == protocol.EventType.DTMF_SENT:
        return f"sent DTMF {data['digits']}"
    if event == protocol.EventType.TRANSCRIPT:
        return f"heard {data['speaker']}: {data['text']!r}"
    if event == protocol.EventType.CALL_ENDED:
        return f"call ended: {data['outcome']} after {data['hold_seconds']:.1f} s on hold"
    return event.replace("_", " ")


async def follow_call(client: DemoClient, call_id: str, timeline: Timeline, *, timeout_s: float, talk_s: float) -> None:
    """Print events until the call ends; hang up a while after the bridge, or at the timeout."""
    deadline = time.monotonic() + timeout_s
    hang_up_at: float | None = None
    while True:
        limit = min(deadline, hang_up_at or deadline) - time.monotonic()
        try:
            frame = await asyncio.wait_for(client.events.get(), max(limit, 0.01))
        except TimeoutError:
            if hang_up_at is None:
                timeline.say(None, f"no result after {timeout_s:.0f} s: hanging up")
            await client.request("hang_up", {"call_id": call_id})
            hang_up_at = deadline = time.monotonic() + 10
            continue
        data = frame["data"]
        if data.get("call_id") != call_id:
            continue
        event, now = frame["event"], time.time()
        if event != protocol.EventType.CALL_STATE or data["state"] != timeline.final.get("state"):
            timeline.say(now, describe(event, data))
        if event == protocol.EventType.CALL_STATE:
            timeline.mark(data["state"], _ts(data["state_since"]))
            timeline.final = data
            if data["state"] == "bridged" and hang_up_at is None:
                hang_up_at = time.monotonic() + talk_s
        elif event == protocol.EventType.HUMAN_DETECTED:
            timeline.mark("human_detected", now)
        elif event == protocol.EventType.CALL_ENDED:
            timeline.final = {**timeline.final, "outcome": data["outcome"]}
            return


async def learned_flow(client: DemoClient, timeline: Timeline) -> str | None:
    """Wait briefly for the call flow an explored call taught the sidecar; return its id."""
    deadline = time.monotonic() + 5
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = await asyncio.wait_for(client.events.get(), left)
        except TimeoutError:
            break
        if frame["event"] == protocol.EventType.CALL_FLOW_SAVED:
            timeline.say(None, f"learned call flow {frame['data']['id']!r} for the next call")
            flow_id: str = frame["data"]["id"]
            return flow_id
    return None


# ---------------------------------------------------------------- reports from the simulators


def read_report(path: Path, call: str) -> list[dict[str, Any]]:
    """Read the JSON lines a simulator wrote about one of its calls."""
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))
    return [line for line in lines if line.get("call") == call]


def first(lines: list[dict[str, Any]], event: str) -> dict[str, Any] | None:
    """Return the first report line of a kind."""
    return next((line for line in lines if line.get("event") == event), None)


def heard_after(lines: list[dict[str, Any]], event: str, wall: float) -> bool:
    """Tell whether a report line of a kind was written after ``wall`` (Unix time)."""
    return any(line.get("event") == event and line.get("wall", 0) >= wall for line in lines)


# ---------------------------------------------------------------- main


@dataclass
class DemoResult:
    """The summary line."""

    summary: dict[str, Any]
    connected: bool


@dataclass
class Stage:
    """The running processes and how to reach them."""

    company_id: str
    company_name: str
    company_uri: str
    phone_uri: str
    sidecar: Child
    sidecar_url: str
    company_report: Path
    phone_report: Path


@dataclass
class CallRun:
    """What one call of the demo produced (summarised once the simulators have written everything)."""

    timeline: Timeline
    cpu_used: float
    duration: float


async def run_demo(args: argparse.Namespace, workdir: Path) -> DemoResult:
    """Start everything, place the call (twice with --repeat), follow it, and summarise."""
    company_id, company_name, intents = load_intents(args.company)
    intent = next((i for i in intents if args.intent is None or i.intent == args.intent), None)
    if intent is None:
        choices = "; ".join(i.intent for i in intents)
        raise DemoError(f"intent {args.intent!r} is not in {args.company.name} (choose from: {choices})")
    token = secrets.token_urlsafe(24)
    children = Children(workdir)
    runs: list[CallRun] = []
    try:
        stage = await start_stage(args, children, workdir, token, company_id=company_id, company_name=company_name)
        async with connect(stage.sidecar_url, token) as (client, welcome):
            engines = welcome["snapshot"]["sidecar"]["engines"]
            print(f"sidecar {welcome['sidecar_version']} ready; engines: {engines}", file=sys.stderr)
            call: dict[str, Any] = {"target": stage.company_uri, "company": company_id, "transfer_to": stage.phone_uri}
            call["intent"] = intent.intent
            if not args.explore:
                flow = build_flow(company_id, company_name, intent, stage.company_uri)
                await client.request("save_call_flow", {"flow": flow})
                call["call_flow"] = flow["id"]
            for _ in range(2 if args.repeat else 1):
                runs.append(await one_call(args, client, stage, call, intent))
    finally:
        await children.stop_all()
    results = [
        summarise(
            run.timeline,
            intent=intent,
            company_id=company_id,
            company_lines=read_report(stage.company_report, f"{company_id}-{n}"),
            phone_lines=read_report(stage.phone_report, f"phone-{n}"),
            cpu_used=run.cpu_used,
            duration=run.duration,
        )
        for n, run in enumerate(runs, start=1)
    ]
    last = results[-1]
    if len(results) > 1:
        last.summary["earlier_calls"] = [result.summary for result in results[:-1]]
    return DemoResult(last.summary, all(result.connected for result in results))


async def start_stage(
    args: argparse.Namespace, children: Children, workdir: Path, token: str, *, company_id: str, company_name: str
) -> Stage:
    """Start the simulated company, the simulated phone and the sidecar; wait until all three are ready."""
    company_report, phone_report = workdir / "company.jsonl", workdir / "phone.jsonl"
    company = await children.spawn(
        "company", "-m", "hold_slayer_sim.company", "--company", str(args.company), "--port", "0",
        "--report", str(company_report),
    )  # fmt: skip
    phone_args = ["--reject"] if args.user_away else ["--answer-after", str(args.answer_after)]
    phone = await children.spawn(
        "phone", "-m", "hold_slayer_sim.phone", "--port", "0", "--report", str(phone_report), *phone_args
    )
    sidecar, sidecar_ready = await spawn_sidecar(children, workdir, token)
    company_uri = (await ready_line(company))["companies"][company_id]
    phone_uri = await phone_ready_uri(phone)
    ready = await ready_file(sidecar, sidecar_ready)
    return Stage(
        company_id, company_name, company_uri, phone_uri, sidecar, ready["ws_url"], company_report, phone_report
    )


async def one_call(
    args: argparse.Namespace, client: DemoClient, stage: Stage, call: dict[str, Any], intent: TestIntent
) -> CallRun:
    """Place one call exactly as Home Assistant does and follow it to the end."""
    timeline = Timeline(quiet=args.json)
    await quiet_cpu(stage.sidecar)  # let model loading finish, so the CPU figure is the call's own
    cpu_before = stage.sidecar.cpu_seconds()
    placed = await client.request("place_call", call)
    info = placed["call"]
    timeline.start = _ts(info["started_at"]) or time.time()
    how = "stored flow" if call.get("call_flow") else "no flow given: a learned flow, else listening to the menus"
    timeline.say(timeline.start, f"calling {stage.company_name} for {intent.intent!r} ({how})")
    await follow_call(client, placed["call_id"], timeline, timeout_s=args.timeout, talk_s=args.talk)
    cpu_used = stage.sidecar.cpu_seconds() - cpu_before
    if args.explore:
        timeline.learned = await learned_flow(client, timeline)
    return CallRun(timeline, cpu_used, time.time() - timeline.start)


def summarise(
    timeline: Timeline,
    *,
    intent: TestIntent,
    company_id: str,
    company_lines: list[dict[str, Any]],
    phone_lines: list[dict[str, Any]],
    cpu_used: float,
    duration: float,
) -> DemoResult:
    """Merge what the sidecar said with the simulators' ground truth."""
    reached = first(company_lines, "department_reached")
    agent = first(company_lines, "agent_started")
    outcome = timeline.final.get("outcome") or "failed"
    marks = timeline.marks
    human_at, ringing_at = _ts(timeline.final.get("human_detected_at")), marks.get("ringing_user")
    human_s = round(human_at - timeline.start, 2) if human_at is not None else marks.get("human_detected")
    summary = {
        "outcome": outcome if outcome in ("connected", "no_human", "user_missed") else "failed",
        "company": company_id,
        "department": reached.get("department") if reached else None,
        "expected_department": intent.department,
        "department_ok": reached is not None and reached.get("department") == intent.department,
        "digits_sent": timeline.final.get("digits_sent", ""),
        "ringing_s": marks.get("ringing"),  # call setup: 180 Ringing after place_call
        "answered_s": marks.get("ivr"),  # 200 OK (includes the company's ringback time)
        "agent_started_s": round(agent["wall"] - timeline.start, 2) if agent else None,
        "human_detected_s": human_s,
        "user_ringing_s": ringing_at,
        "bridged_s": marks.get("bridged"),
        "recordings": timeline.final.get("recordings", []),
        "detail": timeline.final.get("reason"),
        # Only speech after the bridge is the user's (before it, the company may hear the call's "Hello?").
        "company_heard_user": heard_after(
            company_lines, "caller_speech", timeline.start + (marks.get("bridged") or 1e9)
        ),
        "phone_heard_audio": first(phone_lines, "heard_audio") is not None,
        "sidecar_cpu_s": round(cpu_used, 2),
        "call_duration_s": round(duration, 2),
        "learned_flow": timeline.learned,
    }
    if human_s is not None and ringing_at is not None:
        summary["human_to_user_invite_s"] = round(ringing_at - human_s, 3)
    # Ground truth: ringing the user before the simulated agent spoke means they were sent to a recording.
    agent_s = summary["agent_started_s"]
    summary["false_transfer"] = ringing_at is not None and (agent_s is None or ringing_at < agent_s)
    return DemoResult(summary, outcome == "connected" and not summary["false_transfer"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the demo's command line."""
    parser = argparse.ArgumentParser(prog="scripts/run demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--company", type=Path, default=DEFAULT_COMPANY, help="company YAML (default: the bank)")
    parser.add_argument("--intent", help="one of the company's test_intents (default: the first)")
    parser.add_argument("--all", action="store_true", help="every shipped company in turn; print a table")
    parser.add_argument("--user-away", action="store_true", help="the phone declines: expect outcome user_missed")
    parser.add_argument(
        "--repeat", action="store_true", help="call twice (with --explore: the 2nd call follows what the 1st learned)"
    )
    parser.add_argument("--explore", action="store_true", help="no stored flow: navigate the menus by listening")
    parser.add_argument("--answer-after", type=float, default=2.0, help="the user's phone rings this long (seconds)")
    parser.add_argument("--json", action="store_true", help="end with one JSON summary line on stdout")
    parser.add_argument("--timeout", type=float, default=240.0, help="give up after this many seconds")
    parser.add_argument("--talk", type=float, default=12.0, help="seconds to stay bridged before hanging up")
    parser.add_argument("--workdir", type=Path, help="keep logs, reports and recordings here (default: a new tmp dir)")
    return parser.parse_args(argv)


TABLE_COLUMNS = (
    ("company", 22),
    ("outcome", 10),
    ("department_ok", 13),
    ("false_transfer", 14),
    ("agent_started_s", 15),
    ("human_detected_s", 16),
    ("human_to_user_invite_s", 22),
    ("bridged_s", 9),
    ("sidecar_cpu_s", 13),
    ("call_duration_s", 15),
)


def print_table(summaries: list[dict[str, Any]], out: Any) -> None:
    """One row per company."""
    print(" ".join(name.ljust(width) for name, width in TABLE_COLUMNS), file=out)
    for row in summaries:
        print(" ".join(str(row.get(name)).ljust(width) for name, width in TABLE_COLUMNS), file=out)


async def run_one(args: argparse.Namespace, workdir: Path) -> list[DemoResult]:
    """Run the demo for the chosen company and intent."""
    return [await run_demo(args, workdir)]


async def run_all(args: argparse.Namespace, workdir: Path, companies: list[Path]) -> list[DemoResult]:
    """Run the demo once per company (its first test intent), one after the other."""
    results = []
    for company in companies:
        one = argparse.Namespace(**{**vars(args), "company": company, "intent": None})
        try:
            results.append(await run_demo(one, workdir / company.stem))
        except DemoError as err:
            results.append(DemoResult({"company": company.stem, "outcome": "failed", "detail": str(err)}, False))
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the demo; exit 0 only when the user was connected to a person (never to a recording)."""
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hold-slayer-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"demo files (logs, reports, recordings): {workdir}", file=sys.stderr)
    companies = sorted(COMPANIES_DIR.glob("*.yaml"))
    for company in companies if args.all else []:
        (workdir / company.stem).mkdir(exist_ok=True)
    try:
        runs = run_all(args, workdir, companies) if args.all else run_one(args, workdir)
        results = asyncio.run(runs)
    except DemoError as err:
        print(f"demo failed: {err}", file=sys.stderr)
        if args.json:
            print(json.dumps({"outcome": "failed", "detail": str(err)}))
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted: every demo process was stopped", file=sys.stderr)
        sys.exit(130)
    summaries = [result.summary for result in results]
    if args.all:
        (workdir / "summary.json").write_text(json.dumps(summaries, indent=1), encoding="utf-8")
        print_table(summaries, sys.stderr if args.json else sys.stdout)
        if args.json:
            print(json.dumps({"companies": summaries}))
    elif args.json:
        print(json.dumps(summaries[0]))
    else:
        for key, value in summaries[0].items():
            print(f"  {key}: {value}")
    sys.exit(0 if all(result.connected for result in results) else 1)


if __name__ == "__main__":
    main()

"""Why the calls of a real-mode IVR benchmark run missed their department, counted by cause.

    python -m hold_slayer_tools.bench.ivr_causes WORKDIR RUN_JSON --companies DIR [--text TEXT_JSON]

WORKDIR is ``scripts/run bench ivr --mode real --workdir WORKDIR`` (the simulator's ``company.jsonl`` and the
sidecar's ``sidecar.log``), RUN_JSON its ``--out`` file, TEXT_JSON a ``--mode text --out`` run of the same companies
(perfect transcripts: a miss there is the matcher's, not the hearing's). Each miss is put down to how it ended (a
wrong key, words said where a key was needed, or the company's own no-input timeout with no key from us) and to the
navigator's last reason to wait before that (nothing fits, weak, close call; and whether it was still waiting for a
replay). The navigator logs without a call id, so each of its lines goes to the call of that moment whose company's
prompts share the most words with it (the benchmark runs one call per company at a time).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_NAV_LINE = re.compile(r"^(\S+ \S+) INFO hold_slayer_sidecar\.nav\.navigator: (.*?) after (['\"])(.*)\3$")
_WHY = re.compile(r"\((nothing fits|unsure \((weak|close call))")
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True, slots=True)
class NavLine:
    """One logged navigator decision: when, what and why, and the end of the prompt it answered."""

    wall: float
    decision: str
    heard: str


def parse_nav_lines(log: str) -> list[NavLine]:
    """Return the navigator's decisions in a sidecar log (timestamps are the log's UTC wall clock)."""
    out = []
    for line in log.splitlines():
        found = _NAV_LINE.match(line)
        if found:
            stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
            out.append(NavLine(stamp.timestamp(), found.group(2), found.group(4)))
    return out


def words(text: str) -> set[str]:
    """Lower-case words of ``text``."""
    return set(_WORD.findall(text.lower()))


def owner(line: NavLine, spans: dict[str, tuple[float, float, set[str]]]) -> str | None:
    """Return the call (of those up at the line's time) whose company's prompts share the most words with the line."""
    up = [call for call, (start, end, _w) in spans.items() if start - 1.0 <= line.wall <= end + 1.0]
    heard = words(line.heard)
    return max(up, key=lambda call: len(heard & spans[call][2]), default=None)


def wait_cause(decision: str) -> str:
    """Return the unsure kind of a logged wait ("nothing fits", "weak", "close call") and if it awaited a replay."""
    found = _WHY.search(decision)
    kind = (found.group(2) or found.group(1)) if found else "no unsure wait"
    if "waiting for the menu to be replayed" in decision:
        return f"{kind}, still waiting for a replay"
    if "staying on the line" in decision:
        return f"{kind}, stayed on the line"
    return kind


def ending(events: list[dict[str, Any]], path: list[str]) -> str:
    """How a missed call ended: its first move off the intent's path, or the company's timeout."""
    moves = ["say" if e["event"] == "caller_said" else str(e["digit"]) for e in events if e["event"] in _MOVES]
    for done, want in zip(moves, path, strict=False):
        if done != want:
            return "spoke instead of a key" if done == "say" else "wrong key"
    if any(e["event"] == "menu_gave_up" for e in events):
        return "company timeout, no key from us"
    return "other"


_MOVES = ("dtmf", "caller_said")


def causes(
    workdir: Path, runs: list[dict[str, Any]], companies: dict[str, Any], text_ok: dict[tuple[str, str], bool]
) -> tuple[Counter[str], list[str]]:
    """Count the misses of ``runs`` by cause; also one line per miss."""
    lines = [json.loads(x) for x in (workdir / "company.jsonl").read_text(encoding="utf-8").splitlines() if x]
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in lines:
        if event.get("call"):
            calls[str(event["call"])].append(event)
    prompts = {cid: words(" ".join(str(m.prompt) for m in c.menus.values())) for cid, c in companies.items()}
    spans = {k: (ev[0]["wall"], ev[-1]["wall"], prompts.get(ev[0]["company"], set())) for k, ev in calls.items()}
    by_call: dict[str, list[NavLine]] = defaultdict(list)
    for nav in parse_nav_lines((workdir / "sidecar.log").read_text(encoding="utf-8", errors="replace")):
        if (call := owner(nav, spans)) is not None:
            by_call[call].append(nav)
    counts: Counter[str] = Counter()
    rows: list[str] = []
    claimed: set[str] = set()
    for run in runs:
        if run["ok"]:
            counts["right"] += 1
            continue
        reached = [
            k
            for k, ev in calls.items()
            if k not in claimed
            and ev[0]["company"] == run["company"]
            and any(e["event"] == "department_reached" and e.get("department") == run["reached"] for e in ev)
        ]
        call = reached[0] if reached else ""
        claimed.add(call)
        intent = next(t for t in companies[run["company"]].test_intents if t.intent == run["intent"])
        how = ending(calls.get(call, []), [p for p in intent.path.split() if p != "wait"])
        waits = [
            n.decision
            for n in by_call.get(call, [])
            if n.decision.startswith("wait (") and "may continue" not in n.decision
        ]
        in_text = text_ok.get((run["company"], run["intent"]))
        text = "" if in_text is None else "text mode right" if in_text else "text mode wrong"
        cause = f"{how} | {wait_cause(waits[-1]) if waits else 'no unsure wait'} | {text}"
        counts[cause] += 1
        rows.append(f"{run['company']:24} {run['intent'][:40]:40} -> {run['reached'] or run['error']:18} {cause}")
    return counts, rows


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    from hold_slayer_sim.model import load_company

    parser = argparse.ArgumentParser(prog="python -m hold_slayer_tools.bench.ivr_causes", description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("run_json", type=Path)
    parser.add_argument("--companies", type=Path, required=True)
    parser.add_argument("--text", type=Path, help="a --mode text --out file of the same companies")
    args = parser.parse_args(argv)
    runs = json.loads(args.run_json.read_text(encoding="utf-8"))["runs"]
    companies = {p.stem: load_company(p) for p in sorted(args.companies.glob("*.yaml"))}
    text_ok: dict[tuple[str, str], bool] = {}
    if args.text:
        text_ok = {(r["company"], r["intent"]): bool(r["ok"]) for r in json.loads(args.text.read_text())["runs"]}
    counts, rows = causes(args.workdir, runs, companies, text_ok)
    print("\n".join(rows), end="\n\n")
    for cause, n in counts.most_common():
        print(f"{n:4d}  {cause}")


if __name__ == "__main__":
    main()

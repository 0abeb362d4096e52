"""Benchmark the AI receptionist on simulated callers: outcome accuracy, robocall false positives, time to decision.

    scripts/run bench receptionist [--json] [--set dev|heldout|all] [--only NAME] [--speed X]

Each caller script (callers.py: people of several voices and wordings, robocalls of several kinds) plays on a
``SimulatedLine`` in real time against the product's receptionist with the real engines (embedded whisper, piper
with the espeak-ng fallback, Silero VAD). One receptionist serves a whole set in order, so a robocall campaign
heard before can be recognised when it calls again. With --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from hold_slayer_sidecar.inbound.ports import Screening, ScreeningContext, ScreeningOutcome
from hold_slayer_sidecar.inbound.receptionist.dialogue import Receptionist
from hold_slayer_sidecar.inbound.receptionist.robocall import RobocallMemory
from hold_slayer_sidecar.voice.factory import VoiceSettings, build_tts
from hold_slayer_sidecar.voice.stt import EmbeddedWhisperStt

from .callers import DEV, HELD_OUT, CallerScript
from .sim_line import SimulatedLine

DEVICES = {"kitchen": "Kitchen", "office": "Office phone"}
CALL_LIMIT_S = 120.0  # one screening may not take longer than this (bounded loop)


@dataclass(frozen=True, slots=True)
class Result:
    """One caller's screening, scored."""

    script: CallerScript
    split: str
    screening: Screening
    seconds: float
    decided_s: float  # from the answer to the decision, in the caller's stream time (the closing line not counted)
    after_words_s: float | None  # from the end of the caller's last words to the decision

    @property
    def correct(self) -> bool:
        """The expected outcome."""
        return self.screening.outcome.value == self.script.expect

    @property
    def name_ok(self) -> bool | None:
        """The expected word in the caller's name (None when none is expected)."""
        want = self.script.expect_name
        return None if want is None else want.lower() in (self.screening.caller_name or "").lower()

    @property
    def purpose_ok(self) -> bool | None:
        """The expected word in the purpose (None when none is expected)."""
        want = self.script.expect_purpose
        return None if want is None else want.lower() in (self.screening.purpose or "").lower()


async def screen_one(receptionist: Receptionist, line: SimulatedLine, split: str) -> Result:
    """Play one caller and screen them."""
    script = line.script
    context = ScreeningContext("bench", line.leg_id, "+15550100", None, None, "Alex", DEVICES)
    started = time.monotonic()
    line.start()
    try:
        screening = await asyncio.wait_for(receptionist.screen(context), CALL_LIMIT_S)
        ended_s = line.t_s
    finally:
        await line.stop()
    closing = screening.outcome in (ScreeningOutcome.RING, ScreeningOutcome.TAKE_MESSAGE, ScreeningOutcome.END)
    decided = line.started[-1] if closing and line.started else ended_s
    words = line.words_until(decided)
    after = decided - words if words is not None and script.kind == "person" else None
    return Result(script, split, screening, time.monotonic() - started, decided, after)


def _rate(hits: list[bool]) -> str:
    return f"{sum(hits)}/{len(hits)}" if hits else "-"


def _median(values: list[float]) -> float | None:
    return round(values[len(values) // 2], 1) if values else None


def summarise(results: list[Result]) -> dict[str, Any]:
    """Scores of one split."""
    people = [r for r in results if r.script.kind == "person"]
    robocalls = [r for r in results if r.script.kind == "robocall"]
    names = [ok for r in results if (ok := r.name_ok) is not None]
    purposes = [ok for r in results if (ok := r.purpose_ok) is not None]
    timed = [r for r in results if r.screening.outcome is not ScreeningOutcome.CALLER_GONE]
    times = sorted(r.decided_s for r in timed)
    robo_times = sorted(r.decided_s for r in timed if r.script.kind == "robocall")
    after = sorted(a for r in timed if (a := r.after_words_s) is not None)
    return {
        "calls": len(results),
        "outcome_correct": sum(r.correct for r in results),
        "people_correct": sum(r.correct for r in people),
        "people": len(people),
        "robocalls_caught": sum(r.screening.outcome is ScreeningOutcome.ROBOCALL for r in robocalls),
        "robocalls": len(robocalls),
        "robocall_false_positives": sum(r.screening.outcome is ScreeningOutcome.ROBOCALL for r in people),
        "names": f"{_rate(names)}",
        "purposes": f"{_rate(purposes)}",
        "decision_median_s": _median(times),
        "decision_max_s": round(times[-1], 1) if times else None,
        "robocall_decision_median_s": _median(robo_times),
        "after_last_words_median_s": _median(after),
        "after_last_words_max_s": round(after[-1], 1) if after else None,
    }


def print_table(results: list[Result], out: Any) -> None:
    """One row per caller."""
    print(f"{'split':<8}{'caller':<22}{'want':<14}{'got':<14}{'dec s':>6}{'after':>6}  reason", file=out)
    for r in results:
        mark = " " if r.correct else "!"
        got = r.screening.outcome.value
        after = f"{r.after_words_s:6.1f}" if r.after_words_s is not None else f"{'-':>6}"
        row = f"{r.split:<8}{r.script.name:<22}{r.script.expect:<14}{got:<13}{mark}{r.decided_s:>6.1f}{after}  "
        print(row, end="", file=out)
        print(f"{r.screening.reason[:90]} | heard: {r.screening.heard[:70]!r}", file=out)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen sets and print the tables."""
    sets = {"dev": DEV, "heldout": HELD_OUT}
    chosen = list(sets) if args.set == "all" else [args.set]
    stt = EmbeddedWhisperStt()
    tts = build_tts(VoiceSettings())
    out = sys.stderr if args.json else sys.stdout
    report: dict[str, Any] = {}
    all_results: list[Result] = []
    for split in chosen:
        memory = RobocallMemory()  # one sidecar's memory of robocalls, across the calls of a set
        results = []
        for script in sets[split]:
            if args.only and script.name not in args.only:
                continue
            line = SimulatedLine(script, speed=args.speed)
            receptionist = Receptionist(sip=line, tts=tts, stt=stt, memory=memory)
            results.append(await screen_one(receptionist, line, split))
        all_results += results
        report[split] = summarise(results)
    print_table(all_results, out)
    print(file=out)
    for split, scores in report.items():
        print(f"{split}: {json.dumps(scores)}", file=out)
    return report


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="scripts/run bench receptionist", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--set", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--only", nargs="*", help="caller script names")
    parser.add_argument("--speed", type=float, default=1.0, help="line speed (1 = real time)")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    main()

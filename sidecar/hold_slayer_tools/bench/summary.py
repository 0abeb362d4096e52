"""Benchmark the call summary: references, dates, amounts, commitments (and agent names) against labels.

    scripts/run bench summary [--json] [--set FILE] [--llm-url URL --llm-model NAME]

Reads the labelled conversations in ``summary_set.yaml`` (dev and held-out parts), runs the embedded
extractor (and the LLM path when a URL is given or HOLD_SLAYER_VOICE__LLM_URL is set), prints precision and
recall per field and split; with --json the last line is one object:
``{"embedded": {"reference": {"precision": P, "recall": R}, "date": ..., "amount": ..., "commitment": ...},
"llm": {...} or null}`` over the whole set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from hold_slayer_sidecar.summary.extract import extract
from hold_slayer_sidecar.summary.llm import llm_extract
from hold_slayer_sidecar.summary.model import CallSummary, Said
from hold_slayer_sidecar.voice.llm import OpenAiChat

DEFAULT_SET = Path(__file__).with_name("summary_set.yaml")
FIELDS = ("reference", "date", "amount", "commitment", "agent")


@dataclass(frozen=True, slots=True)
class Conversation:
    """One labelled conversation."""

    id: str
    split: str
    company: str
    day: date
    lines: list[Said]
    references: set[str]
    amounts: set[tuple[float, str]]
    dates: set[date]
    commitments: list[str]
    agent: str | None


def load(path: Path) -> list[Conversation]:
    """Read the labelled set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Conversation(
            id=str(item["id"]),
            split=str(item["split"]),
            company=str(item["company"]),
            day=item["date"] if isinstance(item["date"], date) else date.fromisoformat(str(item["date"])),
            lines=[Said(str(speaker), str(text)) for speaker, text in item["lines"]],
            references={str(ref) for ref in item.get("reference") or []},
            amounts={(round(float(v), 2), str(c)) for v, c in item.get("amounts") or []},
            dates={d if isinstance(d, date) else date.fromisoformat(str(d)) for d in item.get("dates") or []},
            commitments=[str(phrase).casefold() for phrase in item.get("commitments") or []],
            agent=item.get("agent"),
        )
        for item in data["conversations"]
    ]


@dataclass(slots=True)
class Tally:
    """True positives, predictions and labels of one field."""

    tp: int = 0
    predicted: int = 0
    labelled: int = 0

    def add(self, tp: int, predicted: int, labelled: int) -> None:
        """Count one conversation."""
        self.tp += tp
        self.predicted += predicted
        self.labelled += labelled

    @property
    def precision(self) -> float:
        """TP / predictions (1.0 when nothing was predicted: nothing wrong was said)."""
        return self.tp / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """TP / labels (1.0 when there was nothing to find)."""
        return self.tp / self.labelled if self.labelled else 1.0

    def as_dict(self) -> dict[str, float]:
        """JSON-ready view."""
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3)}


@dataclass(slots=True)
class Score:
    """Tallies per field, and the misses for the report."""

    fields: dict[str, Tally] = field(default_factory=lambda: {name: Tally() for name in FIELDS})
    errors: list[str] = field(default_factory=list)

    def add(self, conv: Conversation, summary: CallSummary) -> None:
        """Score one conversation."""
        refs = set(summary.references)
        self._set("reference", conv, refs, conv.references)
        self._set("amount", conv, {(round(a.value, 2), a.currency) for a in summary.amounts}, conv.amounts)
        self._set("date", conv, {d.day for d in summary.dates}, conv.dates)
        said = [c.text.casefold() for c in summary.commitments]
        matched = _match(said, conv.commitments)
        self.fields["commitment"].add(matched, len(said), len(conv.commitments))
        if matched < max(len(said), len(conv.commitments)):
            self.errors.append(f"{conv.id} commitment: said {said} labels {conv.commitments}")
        got = summary.agent_name
        self.fields["agent"].add(
            int(got is not None and got == conv.agent), int(got is not None), int(conv.agent is not None)
        )

    def _set(self, name: str, conv: Conversation, predicted: set[Any], labelled: set[Any]) -> None:
        self.fields[name].add(len(predicted & labelled), len(predicted), len(labelled))
        if predicted != labelled:
            self.errors.append(f"{conv.id} {name}: got {sorted(map(str, predicted))} want {sorted(map(str, labelled))}")

    def as_dict(self) -> dict[str, dict[str, float]]:
        """Return the required JSON shape (agent names are printed in the table only)."""
        return {name: self.fields[name].as_dict() for name in ("reference", "date", "amount", "commitment")}


def _match(said: Sequence[str], phrases: Sequence[str]) -> int:
    """Greedy one-to-one matching of predicted sentences to labelled key phrases."""
    free = list(phrases)
    hits = 0
    for sentence in said:
        for phrase in free:
            if phrase in sentence:
                free.remove(phrase)
                hits += 1
                break
    return hits


type Method = Callable[[Conversation], CallSummary]


async def run(conversations: list[Conversation], method: Callable[[Conversation], Any]) -> dict[str, Score]:
    """Score a method on each split and on the whole set."""
    scores = {split: Score() for split in _splits(conversations)} | {"all": Score()}
    for conv in conversations:
        summary = method(conv)
        if asyncio.iscoroutine(summary):
            summary = await summary
        scores[conv.split].add(conv, summary)
        scores["all"].add(conv, summary)
    return scores


def _splits(conversations: Sequence[Conversation]) -> list[str]:
    """Return the set's splits in the order they first appear (dev, heldout, heldout2 ...)."""
    return list(dict.fromkeys(conv.split for conv in conversations))


def print_table(title: str, scores: dict[str, Score], counts: dict[str, int], out: Any) -> None:
    """One table: field x split, precision and recall."""
    print(f"\n{title}", file=out)
    header = f"{'field':<11}" + "".join(f"{f'{split} ({counts[split]})':>22}" for split in scores)
    print(header, file=out)
    print(f"{'':<11}" + "".join(f"{'precision':>12}{'recall':>10}" for _ in scores), file=out)
    for name in FIELDS:
        row = f"{name:<11}"
        for score in scores.values():
            tally = score.fields[name]
            row += f"{tally.precision:>12.3f}{tally.recall:>10.3f}"
        print(row, file=out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="scripts/run bench summary", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled conversations (YAML)")
    parser.add_argument("--llm-url", default=os.environ.get("HOLD_SLAYER_VOICE__LLM_URL"))
    parser.add_argument("--llm-model", default=os.environ.get("HOLD_SLAYER_VOICE__LLM_MODEL", "llama3.2"))
    parser.add_argument("--errors", action="store_true", help="list every miss (d = dev, h = held-out)")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; return the JSON result."""
    conversations = load(args.set)
    counts = {split: 0 for split in _splits(conversations)} | {"all": len(conversations)}
    for conv in conversations:
        counts[conv.split] += 1
    out = sys.stdout
    embedded = await run(conversations, lambda c: extract(c.lines, c.day, c.company))
    print_table("embedded extractor", embedded, counts, out)
    if args.errors:
        for line in embedded["all"].errors:
            print("  " + line, file=out)
    result: dict[str, Any] = {"embedded": embedded["all"].as_dict(), "llm": None}
    if args.llm_url:
        chat = OpenAiChat(args.llm_url, model=args.llm_model, timeout_s=60.0, retries=1)
        llm = await run(conversations, lambda c: llm_extract(chat, c.lines, c.day, c.company))
        print_table(f"LLM ({args.llm_model} at {args.llm_url})", llm, counts, out)
        result["llm"] = llm["all"].as_dict()
    return result


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()

"""Benchmark: DTMF receiver vectors and talk-off through the live detector.

usage: python -m hold_slayer_tools.bench.dtmf [CORPUS_DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
from pathlib import Path
from typing import Any

from .corpus import DEFAULT_OUT_ROOT, Item, predict_file, resolve_corpus


def align(expected: str, heard: str) -> tuple[int, int, int]:
    """Levenshtein alignment as the corpus scorer does it: (correct, missed, false); a substitution is one of each."""
    n, m = len(expected), len(heard)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (expected[i - 1] != heard[j - 1]))
    i, j, correct, sub, missed, false = n, m, 0, 0, 0, 0
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + (expected[i - 1] != heard[j - 1]):
            correct += expected[i - 1] == heard[j - 1]
            sub += expected[i - 1] != heard[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            missed, i = missed + 1, i - 1
        else:
            false, j = false + 1, j - 1
    return correct, missed + sub, false + sub


def main(argv: list[str] | None = None) -> int:
    """Run every DTMF vector and talk-off file, print the table, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", help="corpus split directory (default ../shared/corpus/dev)")
    ap.add_argument("--json", help="report path (default /tmp/hold-slayer-bench/dtmf-<split>.json)")
    a = ap.parse_args(argv)
    corpus = resolve_corpus(a.corpus)
    index = json.loads((corpus / "dtmf" / "index.json").read_text())["items"]
    todo = [Item(it["id"], (corpus / "dtmf" / it["file"]).resolve(), "dtmf") for it in index]
    with mp.get_context("spawn").Pool(2) as pool:
        heard = {i: (p["dtmf"], s) for i, p, s in pool.imap_unordered(predict_file, todo)}
    rows: list[dict[str, Any]] = []
    tot = {"correct": 0, "missed": 0, "false": 0, "expected": 0, "pass": 0, "n": 0}
    talk = {"false": 0, "seconds": 0.0}
    print(f"{'id':40s} {'verdict':13s} {'expected':>17s} {'heard':>17s}  result")
    for it in index:
        got, secs = heard[it["id"]]
        exp = it["expected"]
        if it["verdict"] == "talkoff":
            talk["false"] += len(got)
            talk["seconds"] += secs
            rows.append({"id": it["id"], "verdict": "talkoff", "heard": got, "seconds": secs})
            if got:
                print(f"{it['id']:40s} {'talkoff':13s} {'':>17s} {got[:17]:>17s}  {len(got)} false")
            continue
        c, miss, false = align(exp, got)
        ok = got == exp
        if it["verdict"] != "informational":
            tot["correct"] += c
            tot["missed"] += miss
            tot["false"] += false
            tot["expected"] += len(exp)
            tot["n"] += 1
            tot["pass"] += ok
        result = ("PASS" if ok else "FAIL") if it["verdict"] != "informational" else ("ok" if ok else "differs")
        print(f"{it['id']:40s} {it['verdict']:13s} {exp[:17]:>17s} {got[:17]:>17s}  {result} (c{c} m{miss} f{false})")
        rows.append({"id": it["id"], "verdict": it["verdict"], "expected": exp, "heard": got, "pass": ok})
    hours = talk["seconds"] / 3600
    per_hour = talk["false"] / hours if hours else float("nan")
    print(
        f"\nvectors: {tot['pass']}/{tot['n']} pass; digits correct {tot['correct']}/{tot['expected']}, "
        f"missed {tot['missed']}, false {tot['false']}"
    )
    print(
        f"talk-off: {talk['false']} false digits in {talk['seconds'] / 60:.1f} min = {per_hour:.2f} per hour "
        f"(target <= 0.1 per hour, i.e. 1 per 10 h)"
    )
    out = Path(a.json) if a.json else DEFAULT_OUT_ROOT / f"dtmf-{corpus.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"totals": tot, "talkoff": {**talk, "false_per_hour": per_hour}, "items": rows}, indent=1)
    )
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

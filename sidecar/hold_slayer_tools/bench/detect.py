"""Benchmark: every corpus item through the live detector, then the corpus scorer.

usage: python -m hold_slayer_tools.bench.detect [CORPUS_DIR] [OUT_DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from .corpus import DEFAULT_OUT_ROOT, FRAME, RATE, Item, items, predict_file, resolve_corpus


def run_items(todo: list[Item], out_dir: Path, workers: int = 2) -> tuple[float, float, float]:
    """Predict every item on `workers` spawned processes, write <id>.json files.

    Return (audio seconds, seconds of scenarios transcribed, speech-to-text CPU seconds on them).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds = stt_audio_s = stt_cpu_s = 0.0
    ctx = mp.get_context("spawn")  # fork is unsafe next to onnxruntime threads
    with ctx.Pool(workers) as pool:
        # Longest files first keeps both cores busy to the end.
        order = sorted(todo, key=lambda it: -it.wav.stat().st_size)
        for item_id, pred, secs in pool.imap_unordered(predict_file, order):
            (out_dir / f"{item_id}.json").write_text(json.dumps(pred, indent=1))
            seconds += secs
            if "stt_cpu_s" in pred:
                stt_audio_s += secs
                stt_cpu_s += float(pred["stt_cpu_s"])
    return seconds, stt_audio_s, stt_cpu_s


def score(corpus: Path, pred_dir: Path, report: Path) -> int:
    """Run the corpus' own score.py (next to the split directory) and print its table."""
    scorer = corpus.parent / "score.py"
    if not scorer.is_file():
        print(f"no score.py next to {corpus}; predictions are in {pred_dir}", file=sys.stderr)
        return 1
    cmd = [sys.executable, str(scorer), str(corpus), str(pred_dir), "--json", str(report)]
    return subprocess.run(cmd, check=False).returncode


GRACE_S, WINDOW_S = 0.1, 3.0  # the scorer's hit window around the labelled human onset


def _first(events: list[dict[str, Any]], kind: str) -> list[float]:
    return sorted(float(e["t_s"]) for e in events if e.get("type") == kind)


def probe_coverage(corpus: Path, pred_dir: Path) -> dict[str, Any]:
    """How often a live call would have probed ("Hello?") in the scorer's window for a human the audio missed.

    The scorer counts HUMAN_DETECTED only; in a live call HUMAN_UNCERTAIN makes the call probe, and an answer then
    confirms the person. A recorded corpus cannot answer a probe, so this is reported, never scored as a hit.
    """
    missed, probed, early_probes = [], [], 0
    for label_file in sorted((corpus / "scenarios").glob("*.json")):
        labels = json.loads(label_file.read_text())
        pred_file = pred_dir / f"{label_file.stem}.json"
        events = json.loads(pred_file.read_text())["events"] if pred_file.is_file() else []
        onset = labels.get("human_onset_s")
        uncertain = _first(events, "human_uncertain")
        if onset is None:
            early_probes += len(uncertain)
            continue
        early_probes += sum(t < onset - GRACE_S for t in uncertain)
        detected = _first(events, "human_detected")
        if detected and onset - GRACE_S <= detected[0] <= onset + WINDOW_S:
            continue
        missed.append(label_file.stem)
        if any(onset - GRACE_S <= t <= onset + WINDOW_S for t in uncertain):
            probed.append(label_file.stem)
    return {"missed": missed, "probed_in_window": probed, "probes_before_any_human": early_probes}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, predict, score."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", help="corpus split directory (default ../shared/corpus/dev)")
    ap.add_argument("out", nargs="?", help="predictions directory (default /tmp/hold-slayer-bench/detect-<split>)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gain-db", type=float, default=0.0, help="robustness: change every file's level")
    ap.add_argument("--noise-dbfs", type=float, help="robustness: add white noise at this RMS level (e.g. -50)")
    ap.add_argument(
        "--shift-ms",
        type=float,
        default=0.0,
        help="robustness: start the call's 20 ms frames this far into each file (0-20; event times stay on the file's)",
    )
    ap.add_argument(
        "--no-stt", action="store_true", help="acoustics only: no speech-to-text of speech in the queue (content cues)"
    )
    ap.add_argument(
        "--channel",
        help='robustness: scenarios through a telephone channel, e.g. \'{"codecs": ["pcma"], "band_hz": [300, 3400], '
        '"noise_snr_db": 20, "loss": 0.07}\' (hold_slayer_sim/FORMAT.md, channel)',
    )
    a = ap.parse_args(argv)
    shift = round(a.shift_ms * RATE / 1000)
    if not 0 <= shift < FRAME:
        ap.error(f"--shift-ms must be from 0 to under 20 (one frame), not {a.shift_ms}")
    corpus = resolve_corpus(a.corpus)
    out = Path(a.out).resolve() if a.out else DEFAULT_OUT_ROOT / f"detect-{corpus.name}"
    todo = [
        replace(it, gain_db=a.gain_db, noise_dbfs=a.noise_dbfs, shift=shift, stt=not a.no_stt, channel_json=a.channel)
        for it in items(corpus)
    ]
    t0 = time.monotonic()
    seconds, stt_audio_s, stt_cpu_s = run_items(todo, out, a.workers)
    wall = time.monotonic() - t0
    print(
        f"predicted {len(todo)} items ({seconds / 60:.1f} min of audio) in {wall:.1f} s wall on {a.workers} "
        f"processes -> {out}"
    )
    if stt_audio_s:
        print(
            f"speech-to-text of every speech segment (content cues): {stt_cpu_s:.1f} CPU s for "
            f"{stt_audio_s / 60:.1f} min of calls = {stt_cpu_s / stt_audio_s:.4f} core per call"
        )
    report = out.parent / f"{out.name}-report.json"
    rc = score(corpus, out, report)
    if (corpus / "scenarios").is_dir():
        cov = probe_coverage(corpus, out)
        print(
            f"PROBE (not scored): {len(cov['probed_in_window'])}/{len(cov['missed'])} missed humans got HUMAN_UNCERTAIN"
            f" within the hit window; {cov['probes_before_any_human']} probes fired on recordings/IVR"
        )
        (out.parent / f"{out.name}-probes.json").write_text(json.dumps(cov, indent=1))
    print(f"report: {report}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())

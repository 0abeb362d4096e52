"""Benchmark: CPU seconds per second of audio for each detector stage on one core, and calls per core.

usage: python -m hold_slayer_tools.bench.perf [CORPUS_DIR] [--seconds N] [--repeat N] [--json OUT]

Each stage runs --repeat times from a fresh state. A shared machine's speed drifts by a third from one minute to the
next (the same code measured 0.0098-0.0139 core per call in one sitting), so the table gives the median and the
best run; the verdict is on the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.background import MusicActivity, NoiseFloor
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.dtmf import DtmfDetector
from hold_slayer_sidecar.audio.spectrum import SpectrumAnalyser
from hold_slayer_sidecar.audio.tones import ToneTracker
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.audio.vad import SileroVad

from .corpus import DEFAULT_OUT_ROOT, FRAME, RATE, CorpusError, read_wav, resolve_corpus

TARGET_CORE_PER_CALL = 0.01


def test_audio(corpus_arg: str | None, seconds: float) -> tuple[npt.NDArray[np.int16], str]:
    """Real call audio (scenarios concatenated) when a corpus is there, else a synthetic tone/noise mix."""
    try:
        corpus = resolve_corpus(corpus_arg)
        parts = [read_wav(p) for p in sorted((corpus / "scenarios").glob("*.wav"))[:6]]
        pcm = np.concatenate(parts)[: int(seconds * RATE)]
        return pcm, f"{len(parts)} scenarios of {corpus}"
    except (CorpusError, ValueError):
        rng = np.random.default_rng(1)
        t = np.arange(int(seconds * RATE)) / RATE
        x = 3000 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0) + rng.normal(0, 800, t.size)
        return np.clip(x, -32768, 32767).astype(np.int16), "synthetic tone + noise (no corpus found)"


def cpu_per_audio_second(run: Callable[[npt.NDArray[np.int16], float], object], pcm: npt.NDArray[np.int16]) -> float:
    """Process CPU time spent per second of audio when `run` is fed every 20 ms frame."""
    frames = [pcm[k * FRAME : (k + 1) * FRAME] for k in range(pcm.size // FRAME)]
    t0 = time.process_time()
    for k, f in enumerate(frames):
        run(f, (k + 1) * FRAME / RATE)
    return (time.process_time() - t0) / (len(frames) * FRAME / RATE)


def stages() -> dict[str, Callable[[npt.NDArray[np.int16], float], object]]:
    """Each stage as a per-frame callable with its own fresh state."""
    vad = SileroVad()
    spectrum = SpectrumAnalyser()
    spectrum_for_tones = SpectrumAnalyser()
    tones = ToneTracker()
    dtmf = DtmfDetector()
    floor = NoiseFloor()
    music = MusicActivity()
    whole = HoldDetector(RATE)

    def tone_stage(f: npt.NDArray[np.int16], t: float) -> object:
        spec = spectrum_for_tones.analyse(f.astype(np.float64))
        return tones.process(spec, floor.update(spec.level_db, 0.02), t)

    def music_stage(f: npt.NDArray[np.int16], t: float) -> object:
        spec = spectrum.analyse(f.astype(np.float64))
        return music.update(spec.level_db > floor.update(spec.level_db, 0.02) + 12)

    return {
        "VAD (Silero ONNX)": lambda f, t: vad.push((f / 32768.0).astype(np.float32)),
        "spectrum + music activity": music_stage,
        "spectrum + call-progress tones": tone_stage,
        "DTMF receiver": dtmf.process,
        "whole pipeline (HoldDetector)": lambda f, t: whole.process(AudioFrame(f, RATE, t)),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure each stage, print the table, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", help="corpus split directory (default ../shared/corpus/dev)")
    ap.add_argument("--seconds", type=float, default=300.0, help="seconds of audio per stage")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each stage (median and best are reported)")
    ap.add_argument("--json", help="report path (default /tmp/hold-slayer-bench/perf.json)")
    a = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as a busy sidecar would see it
    pcm, source = test_audio(a.corpus, a.seconds)
    print(f"audio: {pcm.size / RATE:.0f} s from {source}; one core, 20 ms frames at 8 kHz")
    repeat = max(a.repeat, 1)
    print(f"{'stage':34s} {'CPU s per audio s':>18s} {'best of ' + str(repeat):>12s} {'calls per core':>15s}")
    results: dict[str, float] = {}
    best: dict[str, float] = {}
    runs: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, run in stages().items():  # fresh state for every run
            runs.setdefault(name, []).append(cpu_per_audio_second(run, pcm))
    for name, measured in runs.items():
        rtf, best[name] = statistics.median(measured), min(measured)
        results[name] = rtf
        print(f"{name:34s} {rtf:18.5f} {best[name]:12.5f} {1 / rtf if rtf else float('inf'):15.0f}")
    whole = results["whole pipeline (HoldDetector)"]
    verdict = "meets" if whole <= TARGET_CORE_PER_CALL else "MISSES"
    print(
        f"\nwhole pipeline: {whole:.4f} core per call ({verdict} the {TARGET_CORE_PER_CALL} target); "
        f"one core carries about {int(1 / whole)} calls"
    )
    out = Path(a.json) if a.json else DEFAULT_OUT_ROOT / "perf.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "audio_s": pcm.size / RATE,
                "source": source,
                "cpu_per_audio_s": results,
                "cpu_per_audio_s_best": best,
                "runs": runs,
                "calls_per_core": int(1 / whole),
            },
            indent=1,
        )
    )
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

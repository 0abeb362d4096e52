"""Benchmark: how far a person's voice stands from the company's voices on the same call (voice_stats.py).

For every scenario of a corpus split, from its labels: each company utterance (IVR prompt, announcement) is compared
with the voice model of everything the company said before it in that voice's own earlier sentences of other text
("same voice"), and the first words of the person (up to 1, 2 or 3 s) with every company voice heard before them
("person"), and a company utterance in a voice the call has not used before with every voice heard before it ("new
recorded voice": a second announcer, a real voice used for announcements). A rule may only ring on a new voice
above the highest "same voice" figure; the table says how many people, and how many new recorded voices, clear
it. Labels are used only here, to measure; the detector never sees them.

usage: python -m hold_slayer_tools.bench.voices [CORPUS_DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.spectrum import SpectrumAnalyser

from .corpus import RATE, read_wav, resolve_corpus
from .voice_stats import divergence, voiced_cepstra

FRAME = 160
WINDOWS_S = (1.0, 2.0, 3.0)
SPEECH = ("ivr_prompt", "announcement", "human")


def cepstra(pcm: npt.NDArray[np.int16], start_s: float, seconds: float) -> npt.NDArray[np.float64]:
    """Voiced cepstra of `seconds` of audio from `start_s`, with the detector's own band analysis."""
    analyser = SpectrumAnalyser()
    first = round(start_s * RATE) // FRAME * FRAME
    bands, levels = [], []
    for k in range(-3, round(seconds * RATE) // FRAME):  # three frames to fill the analyser's history
        at = first + k * FRAME
        if at < 0 or at + FRAME > pcm.size:
            continue
        spec = analyser.analyse(pcm[at : at + FRAME].astype(np.float64))
        if k >= 0:
            bands.append(spec.bands)
            levels.append(spec.level_db)
    return voiced_cepstra(np.array(bands), levels)


Series = dict[float, list[float]]


def voice_of(source: str) -> str:
    """Return the voice a segment's source names: a recorded speaker ("... (speaker WEDGE, ...)") or a TTS voice."""
    found = re.search(r"\(speaker (\w+)", source)
    return f"speaker {found.group(1)}" if found else source.split(" ", maxsplit=1)[0]


def _company_models(voices: dict[str, list[tuple[npt.NDArray[np.float64], str]]]) -> list[npt.NDArray[np.float64]]:
    """One pooled model per company voice heard so far."""
    return [np.concatenate([c for c, _ in v]) for v in voices.values()]


def _nearest(
    pcm: npt.NDArray[np.int16], start_s: float, length: float, models: list[npt.NDArray[np.float64]]
) -> Series:
    """Divergence of each window of speech from `start_s` to the nearest model."""
    out: Series = defaultdict(list)
    for w in WINDOWS_S:
        cep = cepstra(pcm, start_s, min(w, length))
        if cep.shape[0] >= 2 and models:
            out[w].append(min(divergence(cep, m) for m in models))
    return out


def _scenario(scenario: dict[str, Any], pcm: npt.NDArray[np.int16], same: Series, person: Series, new: Series) -> None:
    """Add one scenario's same-voice, person and new-recorded-voice divergences."""
    voices: dict[str, list[tuple[npt.NDArray[np.float64], str]]] = defaultdict(list)
    for seg in (s for s in scenario["segments"] if s["label"] in SPEECH):
        start, length = float(seg["start_s"]), float(seg["end_s"]) - float(seg["start_s"])
        if seg["label"] == "human":
            for w, v in _nearest(pcm, start, length, _company_models(voices)).items():
                person[w] += v
            return  # the person's first words only
        voice = voice_of(str(seg.get("source", "")))
        if voices and voice not in voices:
            for w, v in _nearest(pcm, start, length, _company_models(voices)).items():
                new[w] += v
        others = [c for c, text in voices[voice] if text != seg.get("text")]
        if others:
            for w, v in _nearest(pcm, start, length, [np.concatenate(others)]).items():
                same[w] += v
        voices[voice].append((cepstra(pcm, start, min(10.0, length)), str(seg.get("text"))))


def measure(corpus: Path) -> dict[str, Any]:
    """Same-voice, person and new-recorded-voice divergences over every scenario of the split (module docstring)."""
    same: Series = defaultdict(list)
    person: Series = defaultdict(list)
    new_recorded: Series = defaultdict(list)  # a company utterance in a voice new to the call
    for label_file in sorted((corpus / "scenarios").glob("*.json")):
        _scenario(
            json.loads(label_file.read_text()), read_wav(label_file.with_suffix(".wav")), same, person, new_recorded
        )
    rows = []
    for w in WINDOWS_S:
        ceiling = max(same[w]) if same[w] else float("nan")
        scores = person[w]
        rows.append(
            {
                "window_s": w,
                "same_voice_pairs": len(same[w]),
                "same_voice_p50": float(np.percentile(same[w], 50)) if same[w] else None,
                "same_voice_p99": float(np.percentile(same[w], 99)) if same[w] else None,
                "same_voice_max": ceiling,
                "people": len(scores),
                "person_p50": float(np.percentile(scores, 50)) if scores else None,
                "person_min": min(scores) if scores else None,
                "people_below_same_p50": sum(s < float(np.percentile(same[w], 50)) for s in scores) if same[w] else 0,
                "people_above_same_max": sum(s > ceiling for s in scores),
                "new_recorded_voices": len(new_recorded[w]),
                "new_recorded_above_same_max": sum(s > ceiling for s in new_recorded[w]),
            }
        )
    return {"corpus": str(corpus), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    """Print the table; write JSON with --json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", help="corpus split directory (default ../shared/corpus/dev)")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args(argv)
    result = measure(resolve_corpus(a.corpus))
    print("window  same-voice pairs  p50   p99   max   | people  person p50  above max | new recorded voices  above")
    for r in result["rows"]:
        print(
            f"{r['window_s']:4.1f} s  {r['same_voice_pairs']:16d}  {r['same_voice_p50']:.2f}  {r['same_voice_p99']:.2f}"
            f"  {r['same_voice_max']:.2f}  | {r['people']:6d}  {r['person_p50']:10.2f}  {r['people_above_same_max']:9d}"
            f" | {r['new_recorded_voices']:19d}  {r['new_recorded_above_same_max']:9d}"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

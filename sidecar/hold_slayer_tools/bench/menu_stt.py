"""Menu speech-to-text decoding choices, measured: word and key error rates of each menu prompt of the companies.

Every greeting and menu prompt of the given company sets is rendered in its company's voice, cut at pauses as the
call's speech detector does, and each segment decoded in several ways:
  fixed    the fixed IVR prompt (the product's default, voice/stt.py IVR_PROMPT)
  menu     the fixed prompt followed by what this menu said so far (its own vocabulary, as decoded)
  none     no prompt at all
  beam5    the fixed prompt, beam search of 5
  keys     the fixed prompt's decode with its keys checked against the audio (nav/keyslot.py), as a call does
  NAME     another fixed prompt given as --prompt NAME=TEXT
Keys matter most to navigation: a lost or changed "press N" loses the option, so the key error rate (edit distance
between the keys said and the keys heard, per key said) is reported beside the word error rate.
Usage: python -m hold_slayer_tools.bench.menu_stt [--companies DIR ...] [--variants fixed,menu] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from hold_slayer_sidecar.nav.keyslot import correct_keys
from hold_slayer_sidecar.voice.api import Transcript
from hold_slayer_sidecar.voice.stt import IVR_PROMPT, EmbeddedWhisperStt

from .ivr import RATE, edit_distance, split_segments, wer_words

_KEY = re.compile(r"\b(?:press|dial|push|select)\s+(\d|zero|one|two|three|four|five|six|seven|eight|nine|star|pound)\b")
_NUMBER = {
    w: str(i) for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
}
_CONTEXT_WORDS = 40  # whisper's prompt takes up to 223 tokens; a menu's last few options are the vocabulary near


def keys_of(text: str) -> list[str]:
    """Keys offered in ``text``, in order ("press 1", "press one" -> "1")."""
    return [_NUMBER.get(k, k) for k in _KEY.findall(text.lower())]


def menu_prompt(heard: list[str]) -> str:
    """Return the fixed prompt followed by the last words this menu said (as decoded so far)."""
    words = " ".join(heard).split()[-_CONTEXT_WORDS:]
    return f"{IVR_PROMPT} {' '.join(words)}".strip()


def _clips(dirs: list[str]) -> list[tuple[str, str, Any]]:
    from hold_slayer_sim.model import load_company

    out = []
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.yaml")):
            company = load_company(path)
            texts = [company.greeting.text] if company.greeting and company.greeting.text else []
            texts += [m.prompt.text for m in company.menus.values() if m.prompt is not None and m.prompt.text]
            out += [(company.id, t, company.voice) for t in texts]
    return out


def measure(dirs: list[str], variants: list[str], prompts: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """Word and key error rates and CPU seconds per second of audio, per variant."""
    from hold_slayer_sim.speech import synthesize

    fixed = EmbeddedWhisperStt(encoder_cache=1)
    beam = EmbeddedWhisperStt(beam_size=5, encoder_cache=1)
    totals = {v: {"words": 0, "word_errors": 0, "keys": 0, "key_errors": 0, "cpu_s": 0.0} for v in variants}
    audio_s = 0.0
    for _company, text, voice in _clips(dirs):
        pieces = split_segments(synthesize(text, voice))
        audio_s += sum(p.size for p, _ in pieces) / RATE
        ref, ref_keys = wer_words(text), keys_of(text)
        for variant in variants:
            heard: list[str] = []
            started = time.process_time()
            for segment, _end in pieces:
                if variant in (prompts or {}):
                    said = fixed._transcribe(segment, RATE, (prompts or {})[variant])
                elif variant == "menu":
                    said = fixed._transcribe(segment, RATE, menu_prompt(heard))
                elif variant == "none":
                    said = fixed._transcribe(segment, RATE, None)
                elif variant == "beam5":
                    said = beam.transcribe_blocking(segment, RATE)
                elif variant == "keys":
                    said = fixed.transcribe_blocking(segment, RATE)
                    score = functools.partial(fixed.score_texts_blocking, segment, RATE, budget_s=30, fit=True)
                    said = Transcript(correct_keys(said.text, score, confidence=said.confidence)[0], said.confidence)
                else:
                    said = fixed.transcribe_blocking(segment, RATE)
                heard.append(said.text)
            t = totals[variant]
            t["cpu_s"] += time.process_time() - started
            hyp = " ".join(heard)
            t["words"] += len(ref)
            t["word_errors"] += edit_distance(ref, wer_words(hyp))
            t["keys"] += len(ref_keys)
            t["key_errors"] += edit_distance(ref_keys, keys_of(hyp))
    return {
        v: {
            "wer": round(t["word_errors"] / max(1, t["words"]), 4),
            "key_error_rate": round(t["key_errors"] / max(1, t["keys"]), 4),
            "keys": t["keys"],
            "cpu_per_audio_s": round(t["cpu_s"] / max(1e-9, audio_s), 3),
        }
        for v, t in totals.items()
    }


def main(argv: list[str] | None = None) -> None:
    """Print a table per variant; with --json the summary as the last line."""
    parser = argparse.ArgumentParser(prog="python -m hold_slayer_tools.bench.menu_stt", description=__doc__)
    parser.add_argument("--companies", action="append", required=True, help="company files from DIR (repeatable)")
    parser.add_argument("--variants", default="fixed,keys,menu,none,beam5")
    parser.add_argument("--prompt", action="append", default=[], help="NAME=TEXT: another variant, this fixed prompt")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    prompts = dict(p.split("=", 1) for p in args.prompt)
    load = round(os.getloadavg()[0], 2)
    results = measure(args.companies, [*args.variants.split(","), *prompts], prompts)
    print(f"{'variant':<8} {'WER':>6} {'key err':>8} {'keys':>5} {'cpu/s':>6}")
    for name, r in results.items():
        print(f"{name:<8} {r['wer']:>6.1%} {r['key_error_rate']:>8.1%} {r['keys']:>5} {r['cpu_per_audio_s']:>6.3f}")
    if args.json:
        print(json.dumps({"variants": results, "companies": args.companies, "load_avg_1m": load}))


if __name__ == "__main__":
    main()

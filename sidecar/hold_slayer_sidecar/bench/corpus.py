"""Shared bench helpers: find a corpus, read its WAVs, and stream them through the live detector."""

from __future__ import annotations

import json
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.types import AudioFrame, ObservationKind

FRAME = 160
RATE = 8000
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dev"
DEFAULT_OUT_ROOT = Path("/tmp/hold-slayer-bench")

# The corpus' event names for what the detector reports; HOLD_STARTED is the scored "hold_detected".
EVENT_TYPES = {ObservationKind.HOLD_STARTED: "hold_detected"}


class CorpusError(RuntimeError):
    """The corpus directory is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Item:
    """One WAV to predict and the id its prediction file is named after."""

    item_id: str
    wav: Path
    kind: str  # "scenario" or "dtmf"
    gain_db: float = 0.0  # robustness runs: change the level ...
    noise_dbfs: float | None = None  # ... and add white noise at this RMS level


def perturb(pcm: npt.NDArray[np.int16], item: Item) -> npt.NDArray[np.int16]:
    """Apply a robustness run's level change and added noise (deterministic per item)."""
    if item.gain_db == 0.0 and item.noise_dbfs is None:
        return pcm
    x = pcm.astype(np.float64) * 10 ** (item.gain_db / 20)
    if item.noise_dbfs is not None:
        rng = np.random.default_rng(zlib.crc32(item.item_id.encode()))
        x += rng.normal(0.0, 32768 * 10 ** (item.noise_dbfs / 20), x.size)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def resolve_corpus(arg: str | None) -> Path:
    """Return the corpus split directory from an argument or the default, checked for scenarios/ or dtmf/."""
    path = Path(arg).expanduser().resolve() if arg else DEFAULT_CORPUS
    if not ((path / "scenarios").is_dir() or (path / "dtmf").is_dir()):
        raise CorpusError(f"{path} is not a corpus split (no scenarios/ or dtmf/ inside)")
    return path


def items(corpus: Path, *, scenarios: bool = True, dtmf: bool = True) -> list[Item]:
    """Every item the scorer expects a prediction for (talkoff_scenario items reuse their scenario)."""
    out: list[Item] = []
    if scenarios and (corpus / "scenarios").is_dir():
        out += [Item(p.stem, p, "scenario") for p in sorted((corpus / "scenarios").glob("*.wav"))]
    index = corpus / "dtmf" / "index.json"
    if dtmf and index.is_file():
        for it in json.loads(index.read_text())["items"]:
            if it.get("kind") in ("vector", "talkoff"):
                out.append(Item(it["id"], corpus / "dtmf" / it["file"], "dtmf"))
    return out


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    """Mono 16-bit 8 kHz PCM samples of a WAV file."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != RATE:
            raise CorpusError(f"{path}: expected mono 16-bit {RATE} Hz WAV")
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def predict(pcm: npt.NDArray[np.int16]) -> dict[str, Any]:
    """Stream PCM through a fresh HoldDetector exactly as a live call does; return the prediction JSON."""
    det = HoldDetector(RATE)
    events: list[dict[str, Any]] = []
    digits: list[str] = []
    for k in range(pcm.size // FRAME):
        t = round((k + 1) * FRAME / RATE, 3)
        for obs in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
            if obs.kind == ObservationKind.DTMF:
                digits.append(str(obs.data["digit"]))
            if obs.kind == ObservationKind.SPEECH_SEGMENT:
                continue
            event: dict[str, Any] = {"t_s": t, "type": EVENT_TYPES.get(obs.kind, obs.kind.value)}
            if obs.t_s != t:
                event["at_s"] = round(obs.t_s, 3)  # when the thing started (decided at t_s)
            event["confidence"] = round(obs.confidence, 2)
            events.append(event)
    return {"events": events, "dtmf": "".join(digits)}


def predict_file(item: Item) -> tuple[str, dict[str, Any], float]:
    """Worker entry point: (id, prediction, audio seconds)."""
    pcm = perturb(read_wav(item.wav), item)
    return item.item_id, predict(pcm), pcm.size / RATE

"""Load the committed audio fixtures and stream them through a detector frame by frame."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.types import AudioFrame, Observation, ObservationKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
RATE = 8000
FRAME = 160


def clip(name: str) -> npt.NDArray[np.int16]:
    """Samples of a fixture WAV."""
    with wave.open(str(FIXTURES / name), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def silence(seconds: float, level: float = 20.0, seed: int = 0) -> npt.NDArray[np.int16]:
    """Line noise only."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, level, int(seconds * RATE)).astype(np.int16)


def join(*parts: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Concatenate pieces of audio."""
    return np.concatenate(parts)


def stream(pcm: npt.NDArray[np.int16], detector: HoldDetector | None = None, start_s: float = 0.0) -> list[Observation]:
    """Every observation a live detector makes over the audio, with stream times counted from start_s."""
    det = detector or HoldDetector(RATE)
    out: list[Observation] = []
    for k in range(pcm.size // FRAME):
        t = start_s + (k + 1) * FRAME / RATE
        out.extend(det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)))
    return out


def stream_answering(
    pcm: npt.NDArray[np.int16], detector: HoldDetector, answer: Callable[[Observation], list[Observation]]
) -> list[Observation]:
    """Stream audio; after each observation, what ``answer`` gives back (a transcript's cues) follows it."""
    out: list[Observation] = []
    for k in range(pcm.size // FRAME):
        t = (k + 1) * FRAME / RATE
        for o in detector.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
            out.append(o)
            out.extend(answer(o))
    return out


def kinds(obs: list[Observation]) -> list[ObservationKind]:
    """The kinds, in order."""
    return [o.kind for o in obs]


def first(obs: list[Observation], kind: ObservationKind) -> Observation | None:
    """The first observation of a kind."""
    return next((o for o in obs if o.kind == kind), None)

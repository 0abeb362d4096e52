"""Streaming Silero VAD run from its bundled ONNX file with onnxruntime (no torch)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

SAMPLE_RATE = 8000
CHUNK = 256  # Silero's fixed window at 8 kHz (32 ms)
CONTEXT = 32  # samples of the previous chunk the v5 model expects in front of each chunk
# The recurrent state drifts during long stretches without speech (minutes of hold music): measured on the dev
# corpus, speech recall after hold music fell from ~0.87 to ~0.6. Resetting it after ~1 s without any speech
# evidence restores recall and costs nothing (a fresh state is the state at the start of a call).
IDLE_RESET_CHUNKS = 31
IDLE_PROB = 0.1


class VadError(RuntimeError):
    """The VAD model could not be found or loaded."""


def model_path() -> Path:
    """Locate silero_vad.onnx inside the installed package without importing it (its __init__ needs torch)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise VadError("silero-vad is not installed (pip install --no-deps silero-vad)")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "silero_vad.onnx"
        if candidate.is_file():
            return candidate
    raise VadError("silero_vad.onnx not found in the silero-vad package")


_SESSION: ort.InferenceSession | None = None


def _session() -> ort.InferenceSession:
    """One shared session per process: the model is stateless, the recurrent state lives in each SileroVad."""
    global _SESSION  # noqa: PLW0603 - process-wide cache of an immutable model
    if _SESSION is None:
        options = ort.SessionOptions()
        # One thread: a sidecar carries many calls; per-call parallelism would only add contention.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-wait between chunks
        try:
            _SESSION = ort.InferenceSession(str(model_path()), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own untyped errors
            raise VadError(f"cannot load Silero VAD: {err}") from err
    return _SESSION


class SileroVad:
    """Speech probability of each 32 ms chunk of 8 kHz audio, fed in arbitrary pieces."""

    def __init__(self) -> None:
        self._session = _session()
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self._idle = 0
        self.probability = 0.0

    def push(self, samples: npt.NDArray[np.float32], *, silent: bool = False) -> list[float]:
        """Add samples scaled to [-1, 1]; return the probability of every chunk completed by them.

        ``silent`` says the caller knows these samples are line noise: the model is skipped (probability 0),
        which saves most of the VAD's CPU on quiet stretches of a call.
        """
        self._pending = np.concatenate((self._pending, samples))
        probs: list[float] = []
        while self._pending.size >= CHUNK:
            chunk = self._pending[:CHUNK]
            self._pending = self._pending[CHUNK:]
            if silent:
                self._context = chunk[-CONTEXT:]
                self.probability = 0.0
                probs.append(0.0)
                self._idle += 1
                continue
            x = np.concatenate((self._context, chunk))[np.newaxis, :]
            out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
            self._context = chunk[-CONTEXT:]
            self.probability = float(out[0][0])
            probs.append(self.probability)
            self._idle = self._idle + 1 if self.probability < IDLE_PROB else 0
            if self._idle >= IDLE_RESET_CHUNKS:
                self._state = np.zeros_like(self._state)
                self._idle = 0
        return probs

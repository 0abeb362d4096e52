"""Speech for the simulator: the product's TTS engines behind one function, cached on disk."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sidecar.voice.tts import synthesize_blocking
from hold_slayer_sidecar.voice.wav import read_wav, write_wav

from .model import Voice
from .voices import render_festival, render_flite

SAMPLE_RATE = 8000
_ONSET_DBFS = -40.0
_FRAME = SAMPLE_RATE // 50  # 20 ms
_EDGE_S = 0.05  # silence kept before and after the words, like a trimmed studio recording


def synthesize(text: str, voice: Voice) -> Pcm:
    """Call the TTS engine: the one place; the product's engines, or Debian's flite/festival for other voices."""
    if voice.engine == "flite":
        return render_flite(text, voice.id, voice.speed, SAMPLE_RATE)
    if voice.engine == "festival":
        return render_festival(text, voice.id, voice.speed, SAMPLE_RATE)
    return synthesize_blocking(
        text, SAMPLE_RATE, engine=voice.engine, voice=None if voice.engine == "piper" else voice.id, speed=voice.speed
    )


def _frame_dbfs(pcm: Pcm) -> np.ndarray:
    n = pcm.size // _FRAME
    frames = pcm[: n * _FRAME].astype(np.float64).reshape(n, _FRAME)
    return np.asarray(20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) / 32768.0 + 1e-9))


def speech_onset_s(pcm: Pcm) -> float:
    """Seconds from the clip's start to its first 20 ms frame louder than -40 dBFS (0 if never)."""
    loud = np.flatnonzero(_frame_dbfs(pcm) > _ONSET_DBFS)
    return float(loud[0] * _FRAME / SAMPLE_RATE) if loud.size else 0.0


def trim_silence(pcm: Pcm) -> Pcm:
    """Cut leading and trailing silence down to 50 ms each."""
    loud = np.flatnonzero(_frame_dbfs(pcm) > _ONSET_DBFS - 10)
    if not loud.size:
        return pcm
    edge = round(_EDGE_S * SAMPLE_RATE)
    start = max(0, int(loud[0]) * _FRAME - edge)
    end = min(pcm.size, (int(loud[-1]) + 1) * _FRAME + edge)
    return pcm[start:end].copy()


def write_wav_atomic(path: Path, pcm: Pcm) -> None:
    """Write an 8 kHz WAV so that a concurrent reader (another process) never sees half a file."""
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    write_wav(tmp, pcm, SAMPLE_RATE)
    tmp.replace(path)


class SpeechCache:
    """Renders text with a voice once; later calls read the WAV from ``cache_dir`` (thread-safe)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._memory: dict[str, Pcm] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str, voice: Voice) -> str:
        """Cache key of (text, voice, speed)."""
        return hashlib.sha1(f"{voice.key}\n{text}".encode()).hexdigest()[:20]

    def path(self, text: str, voice: Voice) -> Path:
        """Where the render of ``text`` in ``voice`` lives."""
        return self.cache_dir / f"{self.key(text, voice)}.wav"

    def has(self, text: str, voice: Voice) -> bool:
        """Tell whether the render is already on disk."""
        return self.path(text, voice).is_file()

    def render(self, text: str, voice: Voice) -> Pcm:
        """8 kHz PCM of ``text`` spoken by ``voice``."""
        key = self.key(text, voice)
        with self._lock:
            cached = self._memory.get(key)
        if cached is not None:
            return cached
        path = self.path(text, voice)
        if path.is_file():
            pcm, _rate = read_wav(path)
        else:
            pcm = trim_silence(synthesize(text, voice))
            write_wav_atomic(path, pcm)
        with self._lock:
            self._memory[key] = pcm
        return pcm

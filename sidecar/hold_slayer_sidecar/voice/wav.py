"""WAV encoding and decoding for mono 16-bit PCM (the only format the voice engines exchange)."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from ..audio.types import Pcm
from .api import VoiceEngineError


def wav_bytes(pcm: Pcm, sample_rate: int) -> bytes:
    """Encode mono int16 PCM as a WAV file in memory."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buf.getvalue()


def read_wav_bytes(data: bytes) -> tuple[Pcm, int]:
    """Decode a 16-bit PCM WAV (channels are averaged to mono); raise VoiceEngineError if it is not one."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2:
                raise VoiceEngineError(f"expected 16-bit WAV, got {8 * w.getsampwidth()}-bit")
            channels, rate = w.getnchannels(), w.getframerate()
            # espeak-ng --stdout writes 0x7fffffff as the frame count: read what is really there.
            raw = w.readframes(2**31 - 1)
    except (wave.Error, EOFError) as err:
        raise VoiceEngineError(f"not a WAV file: {err}") from err
    pcm = np.frombuffer(raw[: len(raw) - len(raw) % (2 * channels)], dtype="<i2").astype(np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return pcm, rate


def write_wav(path: Path, pcm: Pcm, sample_rate: int) -> None:
    """Write mono int16 PCM to ``path`` (parent folders are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(pcm, sample_rate))


def read_wav(path: Path) -> tuple[Pcm, int]:
    """Read a mono (or downmixed) 16-bit WAV file."""
    return read_wav_bytes(path.read_bytes())

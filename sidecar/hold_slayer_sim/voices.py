"""Debian's flite and festival voices for simulated companies: more synthetic voices than the product speaks with.

The product itself speaks with piper and espeak-ng (``hold_slayer_sidecar.voice.tts``); a company that sounds
like neither tells whether navigation generalises to voices it was not tuned on. Each render is one bounded
subprocess writing a WAV file, read back and resampled to the simulator's rate.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sidecar.voice.api import VoiceEngineError
from hold_slayer_sidecar.voice.resample import resample_pcm
from hold_slayer_sidecar.voice.wav import read_wav

FLITE_VOICES = frozenset({"kal", "kal16", "awb"})
FESTIVAL_VOICES = frozenset({"kal_diphone", "ked_diphone"})
# Voices, accents and sources reserved for held-out evaluations elsewhere in the project: a company built from
# them would leak that material into what navigation and detection are tuned on.
RESERVED_VOICES = frozenset({"rms", "slt", "cmu_us_slt_arctic_hts", "en-gb-scotland", "en-gb-x-gbcwmd", "en-029"})
_TIMEOUT_S = 60.0


class VoiceRenderError(Exception):
    """A flite or festival render failed."""


def reserved(voice_id: str) -> bool:
    """Tell whether a voice id is reserved for held-out material (``en-us-nyc`` only with a ``+`` variant)."""
    base = voice_id.split("+", 1)[0]
    return base in RESERVED_VOICES or (base == "en-us-nyc" and "+" in voice_id)


def render_flite(text: str, voice: str, speed: float, rate: int) -> Pcm:
    """``text`` spoken by a flite voice at ``speed`` (1 = normal), resampled to ``rate``."""
    # duration_stretch > 1 speaks more slowly: the inverse of a speed factor.
    return _render(["flite", "-voice", voice, "--setf", f"duration_stretch={1.0 / speed:.3f}", "-t", text], rate)


def render_festival(text: str, voice: str, speed: float, rate: int) -> Pcm:
    """``text`` spoken by a festival voice at ``speed`` via ``text2wave`` (text on stdin), resampled to ``rate``."""
    setup = f"(begin (voice_{voice}) (Parameter.set 'Duration_Stretch {1.0 / speed:.3f}))"
    return _render(["text2wave", "-eval", setup], rate, stdin=text)


def _render(argv: list[str], rate: int, stdin: str | None = None) -> Pcm:
    with tempfile.TemporaryDirectory(prefix="hs-voice-") as tmp:
        out = Path(tmp) / "speech.wav"
        try:
            subprocess.run(
                [*argv, "-o", str(out)], input=stdin, text=True, capture_output=True, timeout=_TIMEOUT_S, check=True
            )
            pcm, src_rate = read_wav(out)
        except (OSError, subprocess.SubprocessError, VoiceEngineError) as err:
            raise VoiceRenderError(f"{argv[0]} failed: {err}") from err
    return resample_pcm(pcm, src_rate, rate)

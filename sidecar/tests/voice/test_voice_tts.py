"""TTS engines render real audio at the call's rate."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hold_slayer_sidecar.voice.api import VoiceEngineError
from hold_slayer_sidecar.voice.resample import resample_float
from hold_slayer_sidecar.voice.tts import EspeakTts, FallbackTts, PiperTts, WyomingTts, render_wav
from hold_slayer_sidecar.voice.wav import read_wav

PROMPT = "For billing, press 1. For claims, press 2."


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


async def test_piper_renders_8khz_speech_of_sensible_length() -> None:
    tts = PiperTts()
    assert await tts.health() == "ok"
    audio = await tts.synthesize(PROMPT, 8000)
    assert audio.sample_rate == 8000
    assert audio.pcm.dtype == np.int16
    # Ten words of IVR speech last a few seconds, not milliseconds and not a minute.
    assert 1.5 < audio.pcm.size / 8000 < 8.0
    assert _rms(audio.pcm) > 1000


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_espeak_renders_8khz_speech_of_sensible_length() -> None:
    tts = EspeakTts("en-us+f3")
    assert await tts.health() == "ok"
    audio = await tts.synthesize(PROMPT, 8000)
    assert audio.sample_rate == 8000
    assert 1.5 < audio.pcm.size / 8000 < 8.0
    assert _rms(audio.pcm) > 500


def test_render_wav_writes_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "prompt.wav"
    pcm = render_wav(PROMPT, path, engine="espeak", rate=8000)
    back, rate = read_wav(path)
    assert rate == 8000
    assert np.array_equal(back, pcm)


async def test_empty_text_gives_empty_audio() -> None:
    assert (await EspeakTts().synthesize("  ", 8000)).pcm.size == 0


async def test_missing_binary_is_a_voice_error_and_fallback_covers_it() -> None:
    broken = EspeakTts(binary="/nonexistent/espeak-ng")
    assert await broken.health() != "ok"
    with pytest.raises(VoiceEngineError):
        await broken.synthesize(PROMPT, 8000)
    tts = FallbackTts(broken, EspeakTts())
    assert (await tts.synthesize(PROMPT, 8000)).pcm.size > 8000
    assert (await tts.health()).startswith("ok (fallback")


async def test_dead_wyoming_tts_raises_voice_error(unused_tcp_port: int) -> None:
    tts = WyomingTts(f"tcp://127.0.0.1:{unused_tcp_port}", timeout_s=2)
    with pytest.raises(VoiceEngineError):
        await tts.synthesize(PROMPT, 8000)
    assert await tts.health() != "ok"


def test_resampler_keeps_the_passband_and_removes_aliases() -> None:
    sr = 22050
    t = np.arange(sr) / sr
    tone = resample_float(np.sin(2 * np.pi * 1000 * t).astype(np.float32), sr, 8000)
    alias = resample_float(np.sin(2 * np.pi * 5000 * t).astype(np.float32), sr, 8000)
    assert tone.size == 8000
    assert _rms(tone[500:-500]) == pytest.approx(1 / np.sqrt(2), rel=0.02)
    # A 5 kHz tone cannot exist at 8 kHz: it must be filtered, not folded to 3 kHz.
    assert _rms(alias[500:-500]) < 0.01

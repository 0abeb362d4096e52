"""Voice settings and the factory that builds STT/TTS/LLM engines from them (called once from ``__main__``).

Embed ``VoiceSettings`` in the sidecar's settings (e.g. ``voice: VoiceSettings = VoiceSettings()``) and call
``build_voice_engines(settings.voice)``. Defaults are fully offline: embedded whisper, embedded piper with an
espeak-ng fallback, and no LLM (the embedded menu matcher decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from .api import ChatModel, SpeechToText, TextToSpeech
from .llm import OpenAiChat
from .stt import EmbeddedWhisperStt, OpenAiStt, WyomingStt
from .tts import EspeakTts, FallbackTts, OpenAiTts, PiperTts, WyomingTts


class VoiceSettings(BaseModel):
    """Which speech and language engines the sidecar uses."""

    model_config = ConfigDict(extra="forbid")

    stt: Literal["embedded", "wyoming", "openai", "none"] = "embedded"
    stt_url: str | None = None  # tcp://host:10300 (wyoming) or http://host:8000 (openai)
    stt_model: str = "whisper-1"  # model name sent to an OpenAI-compatible endpoint
    stt_timeout_s: float = Field(default=15.0, gt=0, le=120)
    # Rescore misheard menu labels against their audio (nav/relabel.py) when the STT engine can score texts (the
    # embedded whisper can): about 1 s of one core per rescored menu segment, only while navigating.
    relabel_menus: bool = True

    tts: Literal["piper", "espeak", "wyoming", "openai"] = "piper"
    tts_url: str | None = None
    tts_voice: str | None = None  # espeak voice ("en-us+f3"), piper .onnx path, or the remote voice name
    tts_model: str = "tts-1"
    tts_speed: float = Field(default=1.0, gt=0.3, le=3.0)
    tts_timeout_s: float = Field(default=30.0, gt=0, le=120)

    llm_url: str | None = None  # OpenAI-compatible base URL, e.g. http://localhost:11434 (Ollama)
    llm_model: str = "llama3.2"
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=8.0, gt=0, le=120)
    llm_retries: int = Field(default=1, ge=0, le=5)

    api_key: SecretStr | None = None  # bearer token for the OpenAI-compatible STT/TTS endpoints

    @model_validator(mode="after")
    def _check_urls(self) -> VoiceSettings:
        if self.stt in ("wyoming", "openai") and not self.stt_url:
            raise ValueError(f"stt={self.stt!r} needs stt_url")
        if self.tts in ("wyoming", "openai") and not self.tts_url:
            raise ValueError(f"tts={self.tts!r} needs tts_url")
        return self


@dataclass(frozen=True, slots=True)
class VoiceEngines:
    """The engines one sidecar process shares between its calls."""

    stt: SpeechToText | None
    tts: TextToSpeech
    llm: ChatModel | None


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None


def build_stt(settings: VoiceSettings) -> SpeechToText | None:
    """Build the configured speech-to-text engine, or None when disabled."""
    if settings.stt == "embedded":
        return EmbeddedWhisperStt()
    if settings.stt == "wyoming":
        return WyomingStt(str(settings.stt_url), timeout_s=settings.stt_timeout_s)
    if settings.stt == "openai":
        return OpenAiStt(
            str(settings.stt_url),
            model=settings.stt_model,
            api_key=_secret(settings.api_key),
            timeout_s=settings.stt_timeout_s,
        )
    return None


def build_tts(settings: VoiceSettings) -> TextToSpeech:
    """Build the configured text-to-speech engine; everything but espeak falls back to espeak-ng on failure."""
    espeak = EspeakTts(
        settings.tts_voice if settings.tts == "espeak" and settings.tts_voice else "en-us", speed=settings.tts_speed
    )
    if settings.tts == "espeak":
        return espeak
    primary: TextToSpeech
    if settings.tts == "piper":
        primary = PiperTts(Path(settings.tts_voice) if settings.tts_voice else None, speed=settings.tts_speed)
    elif settings.tts == "wyoming":
        primary = WyomingTts(str(settings.tts_url), voice=settings.tts_voice, timeout_s=settings.tts_timeout_s)
    else:
        primary = OpenAiTts(
            str(settings.tts_url),
            model=settings.tts_model,
            voice=settings.tts_voice or "alloy",
            api_key=_secret(settings.api_key),
            timeout_s=settings.tts_timeout_s,
        )
    return FallbackTts(primary, espeak)


def build_llm(settings: VoiceSettings) -> ChatModel | None:
    """Build the configured chat model, or None when no URL is set (navigation stays embedded)."""
    if not settings.llm_url:
        return None
    return OpenAiChat(
        settings.llm_url,
        model=settings.llm_model,
        api_key=_secret(settings.llm_api_key),
        timeout_s=settings.llm_timeout_s,
        retries=settings.llm_retries,
    )


def build_voice_engines(settings: VoiceSettings) -> VoiceEngines:
    """Build every voice engine (nothing loads yet: models load lazily on first use)."""
    return VoiceEngines(stt=build_stt(settings), tts=build_tts(settings), llm=build_llm(settings))

"""Voice settings build the right engines; bad settings are clear errors."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.voice.factory import VoiceSettings, build_voice_engines
from hold_slayer_sidecar.voice.llm import OpenAiChat
from hold_slayer_sidecar.voice.stt import EmbeddedWhisperStt, OpenAiStt, WyomingStt
from hold_slayer_sidecar.voice.tts import EspeakTts, FallbackTts
from pydantic import ValidationError


def test_defaults_are_offline() -> None:
    engines = build_voice_engines(VoiceSettings())
    assert isinstance(engines.stt, EmbeddedWhisperStt)
    assert isinstance(engines.tts, FallbackTts)  # piper, falling back to espeak-ng
    assert engines.llm is None


def test_remote_engines() -> None:
    settings = VoiceSettings.model_validate(
        {
            "stt": "wyoming",
            "stt_url": "tcp://127.0.0.1:10300",
            "tts": "espeak",
            "tts_voice": "en-gb",
            "llm_url": "http://127.0.0.1:11434",
            "llm_api_key": "sekret",
        }
    )
    engines = build_voice_engines(settings)
    assert isinstance(engines.stt, WyomingStt)
    assert isinstance(engines.tts, EspeakTts)
    assert isinstance(engines.llm, OpenAiChat)
    assert "sekret" not in repr(settings)
    openai = build_voice_engines(VoiceSettings(stt="openai", stt_url="http://127.0.0.1:8000"))
    assert isinstance(openai.stt, OpenAiStt)
    assert build_voice_engines(VoiceSettings(stt="none")).stt is None


@pytest.mark.parametrize(
    "bad",
    [{"stt": "wyoming"}, {"tts": "openai"}, {"stt": "vosk"}, {"llm_timeout_s": 0}, {"unknown": 1}],
)
def test_bad_settings_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        VoiceSettings.model_validate(bad)

"""The engines that parts built at start (history, voicemail, receptionist, summaries) use follow ``configure``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sidecar.configure.rewiring import Rewiring
from hold_slayer_sidecar.inbound.receptionist.llm import understand_caller
from hold_slayer_sidecar.settings import SidecarSettings
from hold_slayer_sidecar.summary.llm import summarize
from hold_slayer_sidecar.summary.model import Said
from hold_slayer_sidecar.voice.api import EngineOffError, SpeechAudio, Transcript
from hold_slayer_sidecar.voice.current import CurrentVoice
from hold_slayer_sidecar.voice.factory import VoiceEngines


class Stt:
    def __init__(self, text: str) -> None:
        self.text = text

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        return Transcript(self.text)

    async def health(self) -> str:
        return "ok"


class Tts:
    def __init__(self, rate: int) -> None:
        self.rate = rate

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        return SpeechAudio(np.zeros(self.rate, dtype=np.float32), self.rate)

    async def health(self) -> str:
        return "ok"


class Chat:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.asked = 0

    async def complete_json(self, system: str, user: str) -> dict[str, Any]:
        self.asked += 1
        return self.answer

    async def health(self) -> str:
        return "ok"


SILENCE = np.zeros(1600, dtype=np.float32)


async def test_a_standin_uses_whatever_engine_is_current_at_each_call() -> None:
    current = CurrentVoice(VoiceEngines(stt=Stt("first"), tts=Tts(8000), llm=None))
    stt, tts = current.stt(), current.tts()
    assert (await stt.transcribe(SILENCE, 16000)).text == "first"
    assert (await tts.synthesize("hi", 8000)).sample_rate == 8000
    current.engines = VoiceEngines(stt=Stt("second"), tts=Tts(16000), llm=None)
    assert (await stt.transcribe(SILENCE, 16000)).text == "second"
    assert (await tts.synthesize("hi", 8000)).sample_rate == 16000


async def test_a_role_with_no_engine_says_so_with_its_own_error() -> None:
    current = CurrentVoice(VoiceEngines(stt=None, tts=Tts(8000), llm=None))
    with pytest.raises(EngineOffError, match="switched off"):
        await current.stt().transcribe(SILENCE, 16000)
    with pytest.raises(EngineOffError, match="no language model"):
        await current.llm().complete_json("system", "user")
    assert await current.stt().health() == "off"
    assert await current.llm().health() == "not configured"


async def test_no_model_means_the_embedded_methods_quietly_and_a_model_added_later_is_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    current = CurrentVoice(VoiceEngines(stt=None, tts=Tts(8000), llm=None))
    chat = current.llm()
    lines = [Said("agent", "Hi, this is Dana. Your ticket number is 48219.", 3.0)]
    with caplog.at_level(logging.WARNING):
        summary = await summarize(lines, date(2026, 12, 7), "Northwind", chat)
        heard = await understand_caller("It's Sam from the school about Mia", {}, chat, budget_s=1.0)
    assert summary.method == "embedded" and summary.references == ("48219",)
    assert heard.caller_name is not None
    assert not caplog.records  # no model configured is a choice, not a failure to warn about

    model = Chat({"agent_name": "Dana", "references": ["48219"], "amounts": [], "dates": [], "commitments": []})
    current.engines = VoiceEngines(stt=None, tts=Tts(8000), llm=model)
    await summarize(lines, date(2026, 12, 7), "Northwind", chat)
    assert model.asked == 1


@dataclass
class Engines:
    stt: Any = None
    tts: Any = None
    navigator_factory: Any = None


class Manager:
    def __init__(self) -> None:
        self.configs: list[object] = []

    def reconfigure(self, config: object, engines: object) -> None:
        self.configs.append(config)

    async def refresh_health(self) -> None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {"sidecar": {"engines": {"stt": "ok", "tts": "ok"}}}


async def test_a_voice_change_from_home_assistant_reaches_the_current_engines() -> None:
    settings = SidecarSettings()
    voice = VoiceEngines(stt=Stt("embedded"), tts=Tts(8000), llm=None)
    current = CurrentVoice(voice)
    rewiring = Rewiring(
        Manager(),  # type: ignore[arg-type]
        Engines(),  # type: ignore[arg-type]
        voice,
        settings,
        manager_config=lambda s: object(),  # type: ignore[arg-type,return-value]
        navigator_factory=lambda llm, country: object(),
        current=current,
    )
    new = settings.model_copy(
        update={"voice": settings.voice.model_copy(update={"stt": "none", "llm_url": "http://127.0.0.1:9/v1"})}
    )
    await rewiring(new, True)
    assert current.engines.stt is None  # speech-to-text switched off reaches voicemail and the history
    assert current.engines.llm is not None  # the model added in HA reaches the summaries and the receptionist
    await rewiring(settings, False)  # a change of something else keeps the engines
    assert current.engines.llm is not None

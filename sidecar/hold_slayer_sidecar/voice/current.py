"""The voice engines in use now, for the parts of the sidecar that are built once at start.

The call history, voicemail, the receptionist and the summaries are wired when the sidecar starts, but Home
Assistant may change the voice later (``configure``: embedded to Wyoming, an LLM added). They hold these stand-ins,
which ask ``CurrentVoice`` for the engine at each use, so a new voice reaches them on their next sentence without a
restart, while a decode already running finishes on the engine it started with.
"""

from __future__ import annotations

from typing import Any

from ..audio.types import Pcm
from .api import ChatModel, EngineOffError, SpeechAudio, SpeechToText, TextToSpeech, Transcript
from .factory import VoiceEngines


class CurrentVoice:
    """Holds the engines in use; ``configure`` replaces them."""

    def __init__(self, engines: VoiceEngines) -> None:
        self.engines = engines

    def stt(self) -> SpeechToText:
        """Return a speech-to-text that is always the current one."""
        return _CurrentStt(self)

    def tts(self) -> TextToSpeech:
        """Return a text-to-speech that is always the current one."""
        return _CurrentTts(self)

    def llm(self) -> ChatModel:
        """Return a chat model that is always the current one (EngineOffError while none is configured)."""
        return _CurrentChat(self)


class _CurrentStt:
    def __init__(self, current: CurrentVoice) -> None:
        self._current = current

    def _engine(self) -> SpeechToText:
        engine = self._current.engines.stt
        if engine is None:
            raise EngineOffError("speech-to-text is switched off")
        return engine

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        return await self._engine().transcribe(pcm, sample_rate)

    async def health(self) -> str:
        engine = self._current.engines.stt
        return "off" if engine is None else await engine.health()


class _CurrentTts:
    def __init__(self, current: CurrentVoice) -> None:
        self._current = current

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        return await self._current.engines.tts.synthesize(text, sample_rate)

    async def health(self) -> str:
        return await self._current.engines.tts.health()


class _CurrentChat:
    def __init__(self, current: CurrentVoice) -> None:
        self._current = current

    def _engine(self) -> ChatModel:
        engine = self._current.engines.llm
        if engine is None:
            raise EngineOffError("no language model is configured")
        return engine

    async def complete_json(self, system: str, user: str) -> dict[str, Any]:
        return await self._engine().complete_json(system, user)

    async def health(self) -> str:
        engine = self._current.engines.llm
        return "not configured" if engine is None else await engine.health()

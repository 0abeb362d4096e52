"""The call manager rebuilt around new settings: new voice engines only where their settings changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

from ..calls.manager import CallManager
from ..calls.ports import Engines, ManagerConfig
from ..settings import SidecarSettings
from ..voice.api import ChatModel
from ..voice.current import CurrentVoice
from ..voice.factory import VoiceEngines, VoiceSettings, build_llm, build_stt, build_tts

LLM_HEALTH_TIMEOUT_S: Final = 3.0  # like the manager's own health checks: a slow helper is reported, not waited on

_STT: Final = ("stt", "stt_url", "stt_model", "stt_timeout_s", "api_key")
_TTS: Final = ("tts", "tts_url", "tts_voice", "tts_model", "tts_speed", "tts_timeout_s", "api_key")
_LLM: Final = ("llm_url", "llm_model", "llm_api_key", "llm_timeout_s", "llm_retries")


def _changed(old: VoiceSettings, new: VoiceSettings, fields: tuple[str, ...]) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in fields)


class Rewiring:
    """Gives the manager its config and engines for new settings; returns the engines' health."""

    def __init__(
        self,
        manager: CallManager,
        engines: Engines,
        voice: VoiceEngines,
        settings: SidecarSettings,
        *,
        manager_config: Callable[[SidecarSettings], ManagerConfig],
        navigator_factory: Callable[[ChatModel | None, str], object],
        current: CurrentVoice | None = None,
        appliers: Sequence[Callable[[SidecarSettings], None]] = (),
    ) -> None:
        self._manager = manager
        self._engines = engines
        self._voice = voice
        self._voice_settings = settings.voice
        self._manager_config = manager_config
        self._navigator_factory = navigator_factory
        self._current = current  # the history, voicemail and the receptionist use the engines it holds
        self._appliers = tuple(appliers)  # parts outside the call manager that read settings per call (reception)

    async def __call__(self, settings: SidecarSettings, voice_changed: bool) -> dict[str, str]:
        """Rewire for ``settings``; models load lazily, so building an engine costs nothing until it is used."""
        if voice_changed:
            self._rebuild_voice(settings)
        self._manager.reconfigure(self._manager_config(settings), self._engines)
        for apply in self._appliers:
            apply(settings)
        return await self.health()

    def _rebuild_voice(self, settings: SidecarSettings) -> None:
        old, new = self._voice_settings, settings.voice
        voice = self._voice
        if _changed(old, new, _STT):
            voice = replace(voice, stt=build_stt(new))
        if _changed(old, new, _TTS):
            voice = replace(voice, tts=build_tts(new))
        engines = replace(self._engines, stt=voice.stt, tts=voice.tts)
        if _changed(old, new, _LLM):
            voice = replace(voice, llm=build_llm(new))
            factory = self._navigator_factory(voice.llm, settings.home_country)
            engines = replace(engines, navigator_factory=factory)  # type: ignore[arg-type]
        self._voice, self._voice_settings, self._engines = voice, new, engines
        if self._current is not None:
            self._current.engines = voice

    async def health(self) -> dict[str, str]:
        """Return the manager's view of each engine, and the LLM's own answer."""
        await self._manager.refresh_health()
        health = dict(self._manager.snapshot()["sidecar"]["engines"])
        llm = self._voice.llm
        if llm is None:
            health["llm"] = "not configured"
        else:
            try:
                health["llm"] = await asyncio.wait_for(llm.health(), LLM_HEALTH_TIMEOUT_S)
            except Exception as err:  # a broken or slow helper is reported, never fatal
                health["llm"] = f"unavailable: {err or type(err).__name__}"
        return health

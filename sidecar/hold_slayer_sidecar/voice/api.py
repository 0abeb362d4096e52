"""Voice engines behind Protocols: speech-to-text, text-to-speech and a chat LLM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..audio.types import Pcm


class VoiceEngineError(Exception):
    """A voice backend failed or is unreachable; callers fall back and keep the call alive."""


class EngineOffError(VoiceEngineError):
    """No engine is configured for this role right now (no LLM, speech-to-text off): fall back without a warning."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """Text recognised in one audio segment."""

    text: str
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    """Synthesised speech."""

    pcm: Pcm
    sample_rate: int


class SpeechToText(Protocol):
    """Transcribes telephone speech segments."""

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Return the text of one segment; raise VoiceEngineError on failure."""
        ...

    async def health(self) -> str:
        """'ok' or a short reason why not."""
        ...


@runtime_checkable
class TextScorer(Protocol):
    """Optional STT capability: how well given texts fit one audio segment (forced decoding, no search)."""

    async def score_texts(
        self, pcm: Pcm, sample_rate: int, texts: Sequence[str], *, budget_s: float = 1.5, fit: bool = False
    ) -> list[float | None]:
        """Log-probability of each text given the audio (higher fits better), None where ``budget_s`` ran out.

        ``fit``: the clip is short and its words were decoded on a short window; the engine may score it so (cheaper).
        """
        ...


@runtime_checkable
class QuickTranscriber(Protocol):
    """Optional STT capability: a cheaper decode of a short clip, for queue speech whose words only feed the detector.

    A person's "Yes?" is told from a recording by its words, so the time they take is part of the time to ring the
    user; such clips need not be transcribed with the care a menu prompt gets.
    """

    async def transcribe_quick(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Return the text of one short clip sooner than ``transcribe`` would; raise VoiceEngineError on failure."""
        ...


class TextToSpeech(Protocol):
    """Synthesises prompts and probes."""

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        """Speech for ``text`` already resampled to ``sample_rate``; raise VoiceEngineError on failure."""
        ...

    async def health(self) -> str:
        """'ok' or a short reason why not."""
        ...


class ChatModel(Protocol):
    """An LLM that answers with a JSON object."""

    async def complete_json(self, system: str, user: str) -> dict[str, Any]:
        """Return the JSON object the model produced; raise VoiceEngineError on failure or timeout."""
        ...

    async def health(self) -> str:
        """'ok' or a short reason why not."""
        ...

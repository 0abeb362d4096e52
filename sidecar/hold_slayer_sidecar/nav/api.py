"""Menu navigation contract: given what the company just said, decide what the call does next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class NavAction(StrEnum):
    """What to do after a prompt."""

    DTMF = "dtmf"
    SPEAK = "speak"
    WAIT = "wait"  # keep listening (prompt incomplete, or nothing to choose)


class NavSource(StrEnum):
    """Which layer made the decision (for transcripts, stats and the learner)."""

    FLOW = "flow"
    EMBEDDED = "embedded"
    LLM = "llm"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class MenuOption:
    """One option parsed from a prompt."""

    digit: str
    label: str


@dataclass(frozen=True, slots=True)
class NavDecision:
    """The navigator's answer."""

    action: NavAction
    digits: str = ""
    text: str = ""
    confidence: float = 0.0
    source: NavSource = NavSource.EMBEDDED
    options: tuple[MenuOption, ...] = field(default_factory=tuple)
    reason: str = ""


class Navigator(Protocol):
    """Decides the next move in an IVR; never raises for backend failures (falls back instead)."""

    async def decide(
        self,
        prompt: str,
        intent: str,
        *,
        history: list[str],
        behind_s: float = 0.0,
        earlier: Sequence[str] = (),
    ) -> NavDecision:
        """``prompt``: transcript of the latest prompt; ``history``: earlier prompts of this call.

        ``behind_s``: seconds of the company's speech after ``prompt`` whose words have not arrived yet.
        ``earlier``: the company's earlier turns since the last key or words we sent, oldest first (each ended with a
        pause and no move of ours): when ``prompt`` replays one of them, both are hearings of one menu.
        """
        ...

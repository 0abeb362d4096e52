"""Transcript wording cues."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.audio.content import classify_text


@pytest.mark.parametrize(
    "text",
    [
        "Please continue to hold.",
        "Your estimated wait time is 5 minutes.",
        "Press 1 for a callback.",
        "You are caller number 4 in the queue.",
        "Thanks for holding, this is the automated assistant.",
        "Hello, and thanks for waiting. An agent will be with you in just a moment.",
    ],
)
def test_hold_messages(text: str) -> None:
    assert classify_text(text) == "recording"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for holding, how can I help you?",
        "Hello?",
        "This is Dana speaking.",
        "Hi, thanks for holding.",
        "Good morning, thank you for waiting.",
    ],
)
def test_agent_greetings(text: str) -> None:
    assert classify_text(text) == "agent"


@pytest.mark.parametrize("text", ["The weather is nice", "Thank you for holding."])
def test_unknown(text: str) -> None:
    """Thanks alone opens many hold messages: not evidence either way."""
    assert classify_text(text) == "unknown"

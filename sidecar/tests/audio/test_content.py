"""Transcript wording cues."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.audio.content import classify_text, queueing_text


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
        "Hello, Joe.",
        "Yes?",
        "Hi there!",
        "Can I help you?",
        "Maybe I can help you.",
        "Hello, this is Cameron. Sorry for the wait.",
        "Howdy, Joe. I'm Marilyn Cook.",
        "Good morning, Acme Bank, Dana speaking.",
        "Can I have your account number, please?",
        "Dang, this nail file is annoying me!",
    ],
)
def test_agent_greetings(text: str) -> None:
    assert classify_text(text) == "agent"


@pytest.mark.parametrize(
    "text",
    [
        "The weather is nice",
        "Thank you for holding.",
        # A hold message's first sentence on its own (the VAD ends a segment at a sentence pause).
        "Hi, thanks for holding.",
        "Good morning, thank you for waiting.",
        "Hello and thanks for waiting.",
        "Hello, and welcome to Acme.",
        "This is where we keep the files.",
        "I'm sorry, we could not find that account.",
        "Can I have your attention, please.",
        # Whisper writes these for hold audio too.
        "Oh.",
        "Um...",
    ],
)
def test_unknown(text: str) -> None:
    """Thanks alone opens many hold messages, and a greeting can open one: not evidence either way."""
    assert classify_text(text) == "unknown"


@pytest.mark.parametrize(
    ("text", "queued"),
    [
        ("Please hold while we connect you to the next available representative.", True),
        ("One moment while I transfer your call.", True),
        ("Thank you. Please hold.", True),
        ("For billing, press 1.", False),
        ("Please enter your account number followed by the pound key.", False),
    ],
)
def test_queueing(text: str, queued: bool) -> None:
    """The IVR's hand-over to the queue: what follows may be a person even without hold music."""
    assert queueing_text(text) is queued


@pytest.mark.parametrize("text", ["Dang!", "Ugh, where was I", "Oops, hang on"])
def test_exclamation_while_speaking(text: str) -> None:
    """A person muttering as they pick up: a recorded message never swears or exclaims, even in its first words."""
    assert classify_text(text, partial=True) == "agent"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Service desk, Priya here.", "agent"),  # "<Name> here." closes a person's opening
        ("Parts counter. Dana here", "agent"),
        ("Right here.", "unknown"),  # an adverb of place, not a name
        ("Please hold, help is here.", "unknown"),
        ("Click here.", "unknown"),
        ("We are here to help.", "unknown"),
    ],
)
def test_a_name_followed_by_here_is_a_self_introduction(text: str, verdict: str) -> None:
    assert classify_text(text) == verdict

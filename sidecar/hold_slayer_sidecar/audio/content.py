"""Wording cues from a transcript: hold messages versus a live agent's greeting."""

from __future__ import annotations

import re
from typing import Literal

# Phrases that hold systems use and people picking up a call do not.
_RECORDING = (
    r"\b(please )?(continue to |remain on the line|stay on the line|do not hang up|don't hang up)",
    r"\b(estimated|expected|approximate) (wait|hold) time",
    r"\byou are (caller )?(number )?\w+ in (the )?(queue|line)",
    r"\bcaller number\b",
    r"\bpress \w+ (for|to)\b",
    r"\bcall (is|may be) (important|recorded|monitored)",
    r"\b(all|our) (of our )?(representatives|agents|associates) are\b",
    r"\bhigher than (normal|usual) call volume",
    r"\bwill be with you\b|\bbe answered (shortly|in the order|as soon)|\ban? (agent|representative) will\b",
    r"\bvisit (us at|our website)|\bmobile app\b|\bonline at\b",
    r"\bcallback\b|\bcall you back\b",
    r"\bautomated\b|\bvirtual (assistant|agent)\b|\brecorded (message|announcement)\b",
    r"\bthank you for your patience\b",
    r"\byour call (will be|is being) (answered|transferred|connected)",
)
# A person answering a queued call introduces themselves or offers help.
_AGENT = (
    r"\b(how|what) can i (help|do for)",
    r"\bhow may i (help|assist)",
    r"\b(this is|my name is|you're speaking (to|with)|you are speaking (to|with)) \w+",
    r"\bthanks? (you )?for (holding|waiting)[,.]? (this is|my name)",
    # A person opens with a greeting word; hold messages open with the thanks itself ("Thank you for holding").
    r"^\s*(hi|hey|hello|good (morning|afternoon|evening))\b[\w ]{0,20}[,.!]?"
    r"\s*(and )?thanks? (you )?for (holding|waiting)",
    r"^\s*(hello|hi|yes|yeah)[?.!]*\s*$",
    r"\bare you (there|still there)\b",
    r"\bcan i (have|get) your\b",
)


def classify_text(text: str) -> Literal["recording", "agent", "unknown"]:
    """Classify one segment's transcript; recording wording wins over agent wording (the safe side)."""
    low = text.lower().strip()
    if any(re.search(p, low) for p in _RECORDING):
        return "recording"
    if any(re.search(p, low) for p in _AGENT):
        return "agent"
    return "unknown"

"""The embedded understanding of a caller's answer (no LLM): who, why, how urgent, what they asked for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ...summary.spoken import DIGIT_WORDS, REPEATS, tokens
from . import wording

Urgency = Literal["low", "normal", "high"]
# What kind of call it is, beyond who and why: the handler-facing outcome follows from it (decide.py).
CallKind = Literal["unknown", "sales", "survey", "wrong_number", "message"]
MIN_NUMBER_DIGITS = 3  # "911", "999", "112" and every real number have at least three
NUMBER_LOOKAHEAD_WORDS = 5  # "transfer me to my lawyer at 555 ...": a number a few words after the request
# Words read: over a minute of speech (about 900 characters a minute). A recording that talks on is judged by its
# first minute; nothing a caller says makes the rules read without end.
MAX_TEXT_CHARS = 4000
NUMBER_WINDOW_CHARS = 200  # where a number asked for is read: a few words and up to 15 digits with separators


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the receptionist made of the caller's words."""

    caller_name: str | None = None
    purpose: str | None = None
    urgency: Urgency = "normal"
    kind: CallKind = "unknown"
    device_id: str | None = None  # a device the caller asked for by name
    refused_requests: tuple[str, ...] = field(default_factory=tuple)  # outside numbers asked for: never dialled
    cue: str = ""  # the words that set the urgency or the kind (for the reason shown in HA)
    method: Literal["embedded", "llm"] = "embedded"


def urgency(text: str) -> tuple[Urgency, str]:
    """Rate urgency: high for emergencies and a school about a child, low for sales and surveys; with the cue."""
    if (not_urgent := wording.NOT_URGENT.search(text)) is not None:
        return "normal", not_urgent.group(0)
    if (high := wording.HIGH_URGENCY.search(text)) is not None:
        return "high", high.group(0)
    school, child = wording.SCHOOL.search(text), wording.CHILD.search(text)
    if school is not None and child is not None:
        return "high", f"{school.group(0)} ... {child.group(0)}"
    if (low := wording.SURVEY.search(text) or wording.SALES.search(text)) is not None:
        return "low", low.group(0)
    return "normal", ""


def call_kind(text: str) -> tuple[CallKind, str]:
    """Classify the call: sales, survey, a wrong number or a message, with the words that say so."""
    for kind, pattern in (
        ("wrong_number", wording.WRONG_NUMBER),
        ("survey", wording.SURVEY),
        ("sales", wording.SALES),
        ("message", wording.WANTS_MESSAGE),
    ):
        if (match := pattern.search(text)) is not None:
            return kind, match.group(0)  # type: ignore[return-value]  # the literal kinds above
    return "unknown", ""


def _device_key(name: str) -> str:
    """Return the words a caller uses for a device: "Alex's phone" -> "alex", "Kitchen phone" -> "kitchen"."""
    key = re.sub(r"('s)?\s+(phone|line|handset|extension|desk phone|mobile|cell)$", "", name.strip(), flags=re.I)
    return re.sub(r"'s$", "", key).lower()


def requested_device(text: str, device_names: Mapping[str, str]) -> str | None:
    """Return the device a caller asked for by name, in a sentence with a request ("put me through to")."""
    for sentence in wording.sentences(wording.normalised(text)):
        if not wording.PUT_THROUGH.search(sentence) and not re.search(
            r"\bis \w+ (there|in|available|home)\b", sentence
        ):
            continue
        low = sentence.lower()
        for device_id, name in device_names.items():
            key = _device_key(name)
            if key and re.search(rf"\b{re.escape(key)}\b", low):
                return device_id
    return None


def read_number(words: list[tuple[str, bool]], start: int) -> tuple[str, int]:
    """Read digits said from ``words[start]`` ("555-0100", "five five oh one hundred"); return (digits, words used).

    Only digits and digit words count (not "for" or "to" as summary/spoken.py reads codes): "dial 911 for me" is 911.
    """
    out, i, repeat = "", start, 1
    while i < len(words):
        word, ends = words[i]
        low = word.lower()
        if low in REPEATS:
            repeat = REPEATS[low]
        elif re.fullmatch(r"\+?\d[\d\-]*", word):
            out += re.sub(r"\D", "", word)
        elif low in DIGIT_WORDS:
            out += DIGIT_WORDS[low] * repeat
            repeat = 1
        elif low in ("hundred", "thousand") and out:
            out += "00" if low == "hundred" else "000"
        else:
            break
        i += 1
        if ends:
            break
    return out, i - start


def _numbers_after(text: str, start: int) -> list[str]:
    """Return phone numbers said within a few words after ``start`` (digits or digit words)."""
    words = tokens(text[start : start + NUMBER_WINDOW_CHARS])
    found: list[str] = []
    i = 0
    while i < min(len(words), NUMBER_LOOKAHEAD_WORDS + 8):
        digits, used = read_number(words, i)
        if len(digits) >= MIN_NUMBER_DIGITS:
            found.append(digits)
            i += used
            continue
        if words[i][1] or (i >= NUMBER_LOOKAHEAD_WORDS and not found):
            break  # the sentence ended, or the request named no number
        i += max(used, 1)
    return found


def refused_requests(text: str) -> tuple[str, ...]:
    """Return outside numbers (or an outside line) the caller asked to be put through to: never dialled."""
    text = wording.normalised(text)
    refused: list[str] = []
    for pattern in (wording.PUT_THROUGH, wording.DIAL_OUT):
        for match in pattern.finditer(text):
            refused += [n for n in _numbers_after(text, match.end()) if n not in refused]
    if (line := wording.OUTSIDE_LINE.search(text)) is not None and not refused:
        refused.append(line.group(0).lower())
    return tuple(refused)


def understand(text: str, device_names: Mapping[str, str]) -> Understanding:
    """Read one caller's words (all their turns joined) with the embedded rules."""
    refused = refused_requests(text)  # all of it: a request for an outside number is never let through unrecorded
    text = text[:MAX_TEXT_CHARS]
    level, level_cue = urgency(text)
    kind, kind_cue = call_kind(text)
    device = requested_device(text, device_names)
    return Understanding(
        caller_name=wording.caller_name(text),
        purpose=wording.purpose(text),
        urgency=level,
        kind=kind,
        device_id=device,
        refused_requests=refused,
        cue=level_cue if level != "normal" else kind_cue,
    )

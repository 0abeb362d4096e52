"""From what was heard and understood to the receptionist's conclusion (pure; the dialogue speaks the lines)."""

from __future__ import annotations

from ..ports import Screening, ScreeningOutcome
from .robocall import RobocallEvidence
from .understanding import Understanding

FOLLOW_UP_BOTH = "Sorry, I didn't catch that. Who's calling, and what's it about?"
FOLLOW_UP_NAME = "And who's calling, please?"
FOLLOW_UP_PURPOSE = "And what's it about?"
CLOSING = {
    ScreeningOutcome.RING: "Thanks, putting you through.",
    ScreeningOutcome.TAKE_MESSAGE: "I'll take a message.",
    ScreeningOutcome.END: "Thanks for calling. Goodbye.",
}
CLOSING_REFUSED = "I can't connect calls to other numbers, but I'll take a message."
# What is kept of the caller's words in the result (shown in HA, sent over the websocket): a minute of speech is
# about 900 characters; a recording that ran on longer is cut.
MAX_HEARD_CHARS = 2000


def follow_up(understanding: Understanding, heard: str) -> str | None:
    """Return the one question worth asking again, or None when the answer is enough (or asking cannot help)."""
    if understanding.kind != "unknown" or understanding.urgency == "high" or understanding.refused_requests:
        return None
    if not heard.strip():
        return FOLLOW_UP_BOTH
    if understanding.caller_name is None and understanding.purpose is None:
        return FOLLOW_UP_BOTH
    if understanding.caller_name is None:
        return FOLLOW_UP_NAME
    if understanding.purpose is None and understanding.device_id is None:
        return FOLLOW_UP_PURPOSE
    return None


def _with(u: Understanding, heard: str, outcome: ScreeningOutcome, reason: str) -> Screening:
    return Screening(
        outcome=outcome,
        reason=reason,
        caller_name=u.caller_name,
        purpose=u.purpose,
        urgency=u.urgency,
        heard=heard[:MAX_HEARD_CHARS],
        device_id=u.device_id if outcome is ScreeningOutcome.RING else None,
        refused_requests=u.refused_requests,
    )


def _who(u: Understanding) -> str:
    said = " ".join(part for part in (u.caller_name, u.purpose) if part)
    return f"{said} ({u.method})" if said else f"({u.method})"


def decide(u: Understanding, evidence: RobocallEvidence, heard: str) -> Screening:  # noqa: PLR0911 - a ladder
    """Conclude: a recording, sales or a wrong number end; urgency rings; a request for a message is honoured."""
    if evidence.robocall:
        return _with(u, heard, ScreeningOutcome.ROBOCALL, evidence.reason())
    if u.refused_requests:
        # Never put through: not to the number asked for, and not onwards either (a caller probing for a way out).
        # (the handler appends the numbers themselves to the reason it shows)
        return _with(u, heard, ScreeningOutcome.TAKE_MESSAGE, "asked for an outside number: taking a message")
    if u.kind in ("sales", "survey"):
        return _with(u, heard, ScreeningOutcome.END, f"{u.kind}: {u.cue!r}")
    if u.kind == "wrong_number":
        return _with(u, heard, ScreeningOutcome.END, f"a wrong number: {u.cue!r}")
    if u.urgency == "high":
        return _with(u, heard, ScreeningOutcome.RING, f"urgent ({u.cue!r}): {_who(u)}")
    if u.kind == "message":
        return _with(u, heard, ScreeningOutcome.TAKE_MESSAGE, f"wants to leave a message ({u.cue!r}): {_who(u)}")
    if u.device_id is not None:
        return _with(u, heard, ScreeningOutcome.RING, f"asked for a device by name: {_who(u)}")
    if u.caller_name is not None or u.purpose is not None:
        return _with(u, heard, ScreeningOutcome.RING, f"said who and why: {_who(u)}")
    if not heard.strip():
        return _with(u, heard, ScreeningOutcome.TAKE_MESSAGE, "the caller said nothing the receptionist understood")
    return _with(u, heard, ScreeningOutcome.TAKE_MESSAGE, "the caller gave no name and no reason")


def closing(screening: Screening) -> str:
    """Return the last line said to the caller ('' for a recording: nobody listens)."""
    if screening.outcome is ScreeningOutcome.TAKE_MESSAGE and screening.refused_requests:
        return CLOSING_REFUSED
    return CLOSING.get(screening.outcome, "")

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
    r"\bpress \w+ (for|to)\b|\bpress (\d|one|two|three|four|five|six|seven|eight|nine|zero|star|pound)\b",
    r"\bcall (is|may be) (important|recorded|monitored)",
    r"\b(all|our) (of our )?(representatives|agents|associates) are\b",
    r"\bhigher than (normal|usual) call volume",
    r"\bwill be with you\b|\bbe answered (shortly|in the order|as soon)|\ban? (agent|representative) will\b",
    r"\bvisit (us at|our website)|\bmobile app\b|\bonline at\b",
    r"\bcallback\b|\bcall you back\b",
    r"\bautomated\b|\bvirtual (assistant|agent)\b|\brecorded (message|announcement)\b",
    r"\bthank you for your patience\b",
    r"\blisten carefully\b|\b(menu )?options have changed\b|\b(office|opening|business) hours\b",
    r"\bimportant to us\b|\bapologi[sz]e for (the|any) (wait|delay|inconvenience)",
    r"\b(call|hold) volumes?\b|\bwait times?\b|\bin (a |the )?queue\b|\bon hold\b",
    r"\bnext available\b",
    r"\bdid you know\b|\bwebsite\b|\bwww\b|\bdot com\b|\bonline\b|\bapp\b",
    r"\byour call (will be|is being) (answered|transferred|connected)",
)
# A person answering a queued call offers help, introduces themselves, or greets and waits.
_AGENT = (
    r"\b(how|what) can i (help|do for)",
    r"\bhow may i (help|assist)",
    r"\b(can|may) i (help|assist) you\b|\bi can help you\b",
    r"\byou're speaking (to|with) \w+|\byou are speaking (to|with) \w+",
    r"\bare you (there|still there)\b",
    # What a person asks when the line seems dead, or whom they are talking to: a recording has no one to ask.
    r"\bcan you hear me\b|\bwho (am i|is this) (speaking|talking) (to|with)\b|\bwho('s| is) (this|calling)\b",
    # Asking for the caller's details; not "can I have your attention", which opens an announcement.
    r"\b(can|could|may) i (have|get|take) your (full )?(name|account|number|phone|card|policy|member|date|zip|"
    r"postal|email|address|last|first|reference|confirmation|booking|order)",
    # Exclamations and mild swearing: a person picking up mid-task mutters ("Dang, this ..."); a hold message is
    # scripted and recorded, and never does. Not "oh", "um" or "uh": whisper writes those for hold audio too (dev
    # corpus: "Oh." cut from an announcement).
    r"\b(dang|damn|dammit|darn|drat|ugh|argh|oops|whoops|gosh|geez|jeez|yikes|ouch|shucks|crap)\b",
)
# A bare greeting, perhaps with a name ("Hello?", "Yes, Joe?", "Hi there."), then the person waits. Not a greeting
# that goes on into a message ("Hello, and welcome ...", "Hi, thank you for calling"). It needs the whole turn: the
# start of a message ("Hello, this is") reads the same until its next words are in.
_BARE_GREETING = (
    r"^\s*(hello|hi|hey|howdy|yes|yeah|yep|good (morning|afternoon|evening))\b[,.!?]*"
    r"(?!.*\b(and|welcome|thanks?|please|to|for|you've|you have)\b)(\s+[\w'-]+[,.!?]*){0,2}\s*$"
)
# Self-introductions need the original case: a capitalised name after "this is" / "I'm" ("This is Dana"), not
# "this is where ..." or "I'm sorry".
# "<Name> here." closes a person's opening ("Service desk, Priya here."); as the whole of a short sentence only, and
# not an adverb of place that starts one ("Right here.", "Over here.").
_INTRO = re.compile(
    r"\b([Tt]his is|[Mm]y name is|I'm|I am) (?!(The|A|An|Not|Sorry|Afraid|Going|Here|Just|Calling)\b)[A-Z][a-z]+"
    r"|\b[A-Z][a-z]+ speaking\b"
    r"|(^|[,.!?]\s+)(?!(Right|Over|Up|Down|In|Out|Back|Click|Press|Not|Nobody|Someone|Somebody|Everyone)\b)"
    r"[A-Z][a-z]+ here[.!?]?\s*$"
)

# While a turn goes on, a name must stand alone ("This is Dana.", "this is Dana from billing"): a message may start
# with its company's name ("This is Northwind Bank ...") and only its later words would show it is a recording.
_PARTIAL_INTRO = re.compile(
    r"\b([Tt]his is|[Mm]y name is|I'm|I am) (?!(The|A|An|Not|Sorry|Afraid|Going|Here|Just|Calling)\b)[A-Z][a-z]+"
    r"(?=\s*([,.!?]|$)|\s+(from|with|speaking|here|at|and|how)\b)"
)

# An IVR handing the call to the queue: speech after this is the queue's (hold content or a person).
_QUEUEING = (
    # Whole phrases only: whisper makes "Hold on." out of line noise.
    r"\bplease hold\b|\bhold (for|while)\b",
    r"\b(connect|transfer)(ing)? (you|your call)\b",
    r"\bone moment (please|while)\b",
    r"\bnext available (agent|representative|associate|operator)\b",
)


Verdict = Literal["recording", "agent", "unknown"]


def _plain(text: str) -> str:
    """Lower case, punctuation inside the words dropped ("transfer, your call" -> "transfer your call")."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'?.!]|(?<=\w)[.!?](?=\s+\w)", " ", text.lower())).strip()


def queueing_text(text: str) -> bool:
    """Whether an IVR prompt's transcript hands the call over to the queue ("Please hold while we connect you")."""
    low = _plain(text)
    return any(re.search(p, low) for p in _QUEUEING)


def menu_text(text: str) -> bool:
    """Whether a transcript asks for input, as a menu does ("press 2", "enter your account number", "say ...")."""
    return re.search(r"\b(press|enter|say)\b", _plain(text)) is not None


def bare_greeting(text: str) -> bool:
    """Whether the words are only a bare greeting ("Hello?", "Hi there!"): a person's only if they then wait."""
    low = _plain(text)
    if any(re.search(p, low) for p in (*_RECORDING, *_AGENT)) or _INTRO.search(text):
        return False
    return re.search(_BARE_GREETING, low) is not None


def classify_text(text: str, *, partial: bool = False) -> Verdict:
    """Classify one segment's transcript; recording wording wins over agent wording (the safe side).

    ``partial``: the words of speech still going on. Only an offer of help or a self-introduction then counts
    as a person; a bare greeting needs the pause after it.
    """
    low = _plain(text)
    if any(re.search(p, low) for p in _RECORDING):
        return "recording"
    if any(re.search(p, low) for p in _AGENT) or (_PARTIAL_INTRO if partial else _INTRO).search(text):
        return "agent"
    if not partial and re.search(_BARE_GREETING, low):
        return "agent"
    return "unknown"

"""What callers' words mean: who (a name or where from), why, how urgent, and requests the receptionist must refuse.

Transcripts come from speech-to-text, so names keep the case it wrote ("this is Dana from Dr. Patel's office") and
numbers may come as digits or words ("five five five oh one hundred"); summary/spoken.py reads the latter.
"""

from __future__ import annotations

import re

# Titles whose period is not a sentence end ("Dr. Patel's office").
ABBREVIATION = re.compile(r"\b(Dr|Mr|Mrs|Ms|St|Prof)\.", re.IGNORECASE)
# Where a name phrase ends: the sentence, or the words that start what the call is about.
_NAME_END = (
    r"(?=\s*(?:[,.!?;]|$)|\s+(?:calling|about|regarding|concerning|and|here|i|i'm|i've|we|we're|just|who|"
    r"returning|to|with\s+a|for\s+\w+'s|on\s+behalf|speaking|again)\b)"
)
# "This is Dana", "it's the dentist", "it's your neighbour", "my name is Sam Lee": not "this is about", "it's urgent",
# "this is a reminder", "it's me" (nobody by name; the follow-up asks).
_INTRO = re.compile(
    r"\b(?:this is|it's|it is|my name is|name's)\s+"
    r"(?!(?:about|regarding|concerning|urgent|important|an?|not|just|really|so|very|to|for|in|me|i|that|what|"
    r"because|nothing|no|quite|kind|sort|only|also|still|calling)\b)"
    r"((?:[\w'.-]+\s+){0,6}?[\w'.-]+)" + _NAME_END,
    re.IGNORECASE,
)
# "I'm Dana", "I am Dr Patel": a capitalised name only ("I'm calling", "I'm sorry" are no names).
_I_AM = re.compile(r"\b(?:I'm|I am)\s+((?:Dr |Mr |Mrs |Ms )?[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)\b(?!\s+to\b)")
_NOT_NAMES = frozenset(
    {"sorry", "calling", "trying", "looking", "wondering", "afraid", "just", "here", "not", "so", "really", "glad",
     "happy", "fine", "good", "okay", "ok", "well", "hoping", "going", "with", "from", "i'm", "we're", "hi",
     "hello", "hey", "yes", "yeah", "um", "uh", "oh", "please", "thanks", "can", "could", "is"}
)  # fmt: skip
# "Dana here", "Dana calling from the clinic": a capitalised word that is no greeting.
_HERE = re.compile(r"(?:^|[,.!?]\s+)([A-Z][a-z'-]+)\s+(?:here|speaking|calling)\b")
# "calling from the school", "I'm with Acme Dental": who, when no person gives a name.
_FROM = re.compile(
    r"\b(?:calling|ringing|phoning|i'm|i am|we're|we are)\s+(?:from|with)\s+((?:[\w'.-]+\s+){0,5}?[\w'.-]+)"
    + _NAME_END.replace("|to|", "|").replace("|with\\s+a|", "|"),
    re.IGNORECASE,
)

_PURPOSE = (
    # "about tomorrow's appointment", "calling regarding your invoice"
    re.compile(r"\b((?:about|regarding|concerning)\s+[^.!?]+)", re.IGNORECASE),
    # "I'm calling to confirm ...", "calling because ...", "calling for Alex about ..."
    re.compile(r"\bcalling\s+((?:to|because|since)\s+[^.!?]+)", re.IGNORECASE),
    # "I wanted to ask ...", "we need to reschedule ..."
    re.compile(
        r"\b(?:i|we)\s+(?:just\s+)?(?:wanted|want|need|needed|would like|'d like|was hoping|were hoping)\s+"
        r"(to\s+[^.!?]+)",
        re.IGNORECASE,
    ),
    # "I have a delivery for you", "there's a problem with ..."
    re.compile(
        r"\b((?:i have|i've got|we have|there's|there is)\s+(?:a|an|your|some)\s+[^.!?]+)",
        re.IGNORECASE,
    ),
)
# A purpose that is no more than this says nothing ("about", "about it", "about something").
_EMPTY_PURPOSE = re.compile(r"^(about|regarding|concerning|to)(\s+(it|that|this|something|stuff|things))?$", re.I)

HIGH_URGENCY = re.compile(
    r"\b(urgent(ly)?|emergency|hospital|accident|ambulance|police|paramedics?|injured|hurt|bleeding|unconscious|"
    r"passed away|died|fire department|right away|immediately|as soon as possible|asap|"
    r"er\b|emergency room|intensive care|icu)\b",
    re.IGNORECASE,
)
# A school (or nursery, daycare, camp) about a child: parents want that call whatever it is.
SCHOOL = re.compile(r"\b(school|nursery|daycare|day care|kindergarten|preschool|camp|the nurse)\b", re.I)
CHILD = re.compile(r"\b(son|daughter|child|kid|kids|children|boy|girl|student|pupil)\b", re.I)
NOT_URGENT = re.compile(
    r"\b(not|nothing|no|isn't|is not)\s+(very\s+|that\s+|too\s+)?(urgent|an emergency|emergency|important|pressing)\b"
    r"|\bno rush\b|\bno hurry\b|\bwhenever\b",
    re.IGNORECASE,
)

SURVEY = re.compile(
    r"\b(survey|questionnaire|poll|polling|opinion research|market research|a (few|couple of) (quick |short )?"
    r"questions|rate your (experience|satisfaction))\b",
    re.IGNORECASE,
)
SALES = re.compile(
    r"\b(special offer|promotion(al)?|limited[- ]time|(extended|car|vehicle|auto) warranty|warranty (on|for) your|"
    r"lower (your )?(interest )?rates?|credit card (debt|interest|rates?|balance)|debt relief|solar( panels?)?|"
    r"you('ve| have)? (been selected|won|qualified|been pre-?approved)|pre-?approved|congratulations|"
    r"free (cruise|vacation|trip|gift|quote|estimate|consultation|installation)|discount|save (money|on your)|"
    r"home (security|improvement|warranty)|energy (bill|savings)|medicare (benefits?|plans?)|student loans?|"
    r"business loan|merchant services|your (business|google) listing|we('re| are) offering|exclusive offer|"
    r"donation|donate|campaign|fundraising|timeshare|insurance quote)\b",
    re.IGNORECASE,
)
WRONG_NUMBER = re.compile(
    r"\b(wrong number|must have (dialed|dialled|called) (the )?wrong|sorry,? wrong|(is|isn't) this (not )?the \w+ "
    r"(pharmacy|restaurant|store|shop|office)\?)",
    re.IGNORECASE,
)
WANTS_MESSAGE = re.compile(
    r"\b(leave (a|him a|her a|them a) message|take a message|pass (on|along) (a|the|my) message|"
    r"(tell|let) (him|her|them|\w+) know|call me back|give me a call back|ring me back|get back to me|"
    r"no rush|no hurry|not urgent|whenever (he|she|they|you) (can|get|has|have)|just (letting|wanted to let))\b",
    re.IGNORECASE,
)

# Asking to be put through somewhere: to a device by name, or (refused) to an outside number.
PUT_THROUGH = re.compile(
    r"\b((?:put|patch|pass)\s+me\s+through(?:\s+to)?|transfer\s+(?:me|this call|my call|the call)(?:\s+to)?|"
    r"connect\s+me(?:\s+(?:to|with))?|forward\s+(?:me|this call|my call|the call)(?:\s+to)?|"
    r"(?:talk|speak)\s+(?:to|with)|get\s+me|reach|ring)\b",
    re.IGNORECASE,
)
# Dialling out: "dial 555 ...", "call 911 for me", "can you call ..." (not "call me back").
DIAL_OUT = re.compile(r"\b(dial|call)\b(?!\s+(?:me|us|back|you|him|her|them|again|later)\b)", re.IGNORECASE)
OUTSIDE_LINE = re.compile(r"\b(an? outside line|outside number|dial out|dial-out|long distance line)\b", re.I)


def normalised(text: str) -> str:
    """Drop title periods and collapse spaces (periods then end sentences only)."""
    return re.sub(r"\s+", " ", ABBREVIATION.sub(r"\1", text)).strip()


def sentences(text: str) -> list[str]:
    """Cut a transcript at sentence ends."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def tidy_phrase(phrase: str) -> str:
    """Strip a phrase of trailing punctuation and leading fillers."""
    phrase = re.sub(r"[\s,;:.!?]+$", "", phrase.strip())
    return re.sub(r"^(um|uh|er|so|well|yeah|yes|oh),?\s+", "", phrase, flags=re.IGNORECASE)


def caller_name(text: str) -> str | None:
    """Return who is calling, as they said it ("Dana from Dr Patel's office", "the dentist"), or None."""
    text = normalised(text)
    candidates: list[tuple[int, str]] = []
    for pattern in (_INTRO, _I_AM, _HERE):
        candidates += [(m.start(1), tidy_phrase(m.group(1))) for m in pattern.finditer(text)]
    names = [(at, c) for at, c in candidates if c and c.split()[0].lower() not in _NOT_NAMES]
    where = _FROM.search(text)
    org = tidy_phrase(where.group(1)) if where else None
    if names:
        name = min(names)[1]
        if org and "from" not in name.lower() and "with" not in name.lower() and org.lower() not in name.lower():
            return f"{name} from {org}"
        return name
    return org or None


def purpose(text: str) -> str | None:
    """Return what the call is about, as said ("about tomorrow's appointment"), or None."""
    text = normalised(text)
    found: list[tuple[int, str]] = []
    for pattern in _PURPOSE:
        for match in pattern.finditer(text):
            phrase = tidy_phrase(match.group(1))
            if phrase and not _EMPTY_PURPOSE.match(phrase):
                found.append((match.start(1), phrase))
    if not found:
        return None
    return min(found)[1][:200]

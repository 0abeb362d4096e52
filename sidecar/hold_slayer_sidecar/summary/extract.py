"""The embedded extractor: references, amounts, dates, the agent's name and commitments, without a model.

It reads only what the person at the company said (the agent's lines, or company lines after a person
answered): the user's own words are context, not promises. A reference number is taken only after a word
that announces one ("ticket", "reference", "confirmation" ...), because a wrong reference is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from .dates import find_dates
from .model import Amount, CallSummary, Commitment, Said, SaidDate
from .spoken import code_symbols, tokens, words_to_number

# Words that announce a reference and the filler that may sit between them and the code.
_REF_CUES = {
    "reference", "ref", "ticket", "case", "confirmation", "claim", "tracking", "incident", "booking",
    "request", "order", "complaint", "dispute", "locator", "authorization", "authorisation", "rma", "job",
    "appeal", "dispatch",
}  # fmt: skip
_REF_FILLER = {
    "number", "numbers", "no", "id", "code", "is", "was", "will", "be", "it's", "its", "it", "for", "this",
    "that", "call", "your", "records", "the", "reference", "#", "as", "follows", "of", "you", "can", "use",
    "note", "down", "write", "here's", "here", "now", "so", "and", "just", "ready", "a", "new",
}  # fmt: skip
_REF_MAX_GAP = 7  # filler words between the cue and the code
# Other words allowed between the cue and the code ("confirmation code stays the same, H G 2 K 9 L"): a
# clause, not a paragraph; a code further away belongs to something else.
_REF_MAX_OTHER = 4
_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP",
    "pounds": "GBP", "quid": "GBP",
}  # fmt: skip
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}
_SIGN_AMOUNT = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d{1,2})?)")
_NAME = re.compile(
    r"(?i:\b(?:this is|my name is|my name's|name is|you're speaking with|you are speaking with|speaking with"
    r"|i'm|i am))\s+([A-Za-z][a-z]+)\b|\b([A-Z][a-z]+)\s+(?:speaking|here)\b"
)
# After these a lower-case word is still a name (a recogniser that writes no capitals).
_STRONG_NAME_CUE = re.compile(r"\b(?:my name is|my name's)\s+\w+$|\bthis is\s+\w+\s+(?:with|from|at|in)\b", re.I)
_NOT_NAMES = {
    "Sorry", "Happy", "Glad", "Going", "Here", "Just", "Able", "Not", "Still", "Calling", "Looking", "Afraid",
    "So", "Very", "Really", "Checking", "Pulling", "Seeing", "Sure", "Unable", "The", "Your", "A", "An",
    "Agent", "Billing", "Support", "Department",
}  # fmt: skip
_COMMIT = re.compile(
    r"\b(will|'ll|you should|should (?:be|arrive|see|receive|get|reach|show|post|appear)|on (?:the|its|his|her) way"
    r"|(?:is|are|has been|have been|was) "
    r"(?:scheduled|booked|issued|processed|escalated|submitted|credited|waived|refunded|approved|reversed"
    r"|set up|arranged|cancelled|canceled)"
    r"|i(?:'ve| have) (?:scheduled|booked|issued|processed|escalated|submitted|credited|waived|refunded|sent"
    r"|set up|arranged|put in|opened|filed|ordered|applied|reversed|cancelled|canceled|added|requested|blocked"
    r"|removed|adjusted|moved|changed|reset|resubmitted|placed|created|booked)\b)",
    re.I,
)
_CONDITIONAL_CALLBACK = re.compile(
    r"\bif\b.{0,60}\b(?:call|contact|reach)\s+(?:us|back|again)|\b(?:call|contact)\s+(?:us\s+)?back\s+if\b", re.I
)
_OUTCOME = re.compile(
    r"\b(receiv\w*|get|see|arrive|refund\w*|credit\w*|send|sent|email\w*|call\w*|contact|text|visit|come|"
    r"technician|process\w*|reflect\w*|appear|post\w*|ship\w*|deliver\w*|waiv\w*|replac\w*|fix\w*|restor\w*|"
    r"escalat\w*|review\w*|follow|reach|back|schedul\w*|mail\w*|issu\w*|revers\w*|cancel\w*|activat\w*|"
    r"remov\w*|adjust\w*|hear|book\w*|approv\w*|arrang\w*|open\w*|fil\w*|order\w*|appl\w*|add\w*|request\w*|"
    r"submit\w*|install\w*|repair\w*|updat\w*|resolv\w*|investigat\w*|clos\w*|deliver|pick\w*|expect|"
    r"confirm\w*|due|disconnect\w*|reconnect\w*|transfer\w*|between|on the way|be there|be with you|be ready|"
    r"be back|be active|be restored|be finished|be done|be fixed)\b",
    re.I,
)
# Politeness and stalling that share the grammar of a promise.
_NOT_COMMITMENTS = re.compile(
    r"\b(let me|one moment|bear with me|put you on (?:a brief )?hold|happy to help|be happy to|help you with|"
    r"anything else|have a (?:great|good|nice|wonderful)|i'll need|i will need|i'll just|i'll check|i'll have a look|"
    r"i'll take a look|i'll look|i'll pull|i'll see what|i'll ask|you'll need|you will need|i'll be right back|"
    r"i'll transfer you now|i'll connect you|you'll hear a (?:short )?survey|i'll go ahead and verify|"
    r"disconnect now|will you|that'll be all|will that be)\b",
    re.I,
)


def sentences(text: str) -> list[str]:
    """Split a line into sentences (recognisers punctuate; a line without punctuation is one sentence)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", text.strip())
    return [part.strip() for part in parts if part.strip()]


_CLAUSE = re.compile(r",?\s+and\s+(?=(?:a|an|the|we|i|you|they|it|he|she|someone|our|your)\b)", re.I)


def clauses(sentence: str) -> list[str]:
    """Split "I'll email you today, and a loan officer will call you Friday" into its two promises."""
    parts = [part.strip() for part in _CLAUSE.split(sentence) if part.strip()]
    return parts if len(parts) > 1 and all(is_commitment(part) for part in parts) else [sentence]


def company_side(lines: Sequence[Said]) -> list[str]:
    """Return the sentences the person at the company said."""
    agent = [line for line in lines if line.speaker == "agent"]
    return [sentence for line in agent for sentence in sentences(line.text)]


def find_references(sentence: str) -> list[str]:
    """Codes announced by a reference word in the sentence."""
    words = tokens(sentence)
    found: list[str] = []
    i = 0
    while i < len(words):
        if words[i][0].lower().rstrip("#:") not in _REF_CUES or words[i][1]:
            i += 1
            continue
        code = _code_after(words, i + 1)
        if code is None:
            i += 1
            continue
        found.append(code[0])
        i = code[1]
    return found


def _code_after(words: list[tuple[str, bool]], start: int) -> tuple[str, int] | None:
    """Return the code that follows a cue after at most _REF_MAX_GAP filler words: (code, index after it)."""
    other = 0
    for j in range(start, min(len(words), start + _REF_MAX_GAP + 1)):
        code, used = code_symbols(words, j)
        if used and _looks_like_code(code):
            return code, j + used
        if words[j][1] or words[j][0].lower().rstrip("#:") in _REF_CUES:
            return None  # the sentence ended, or another reference begins
        if words[j][0].lower() not in _REF_FILLER:
            other += 1
            if other > _REF_MAX_OTHER:
                return None
    return None


def _looks_like_code(code: str) -> bool:
    """At least 4 symbols with 3 digits, or 2 letters and 2 digits; at most 20 (longer is a phone number run)."""
    digits = sum(ch.isdigit() for ch in code)
    letters = sum(ch.isalpha() for ch in code)
    return 4 <= len(code) <= 20 and (digits >= 3 or (letters >= 2 and digits >= 2))


def find_amounts(sentence: str) -> list[Amount]:
    """Find sums of money: "$45.20", "45 dollars and 20 cents", "one hundred twenty euros"."""
    found: list[Amount] = []
    for m in _SIGN_AMOUNT.finditer(sentence):
        found.append(Amount(float(m.group(2).replace(",", "")), _CURRENCY_SIGNS[m.group(1)], m.group(0)))
    words = [word for word, _ in tokens(_SIGN_AMOUNT.sub(" ", sentence))]
    i = 0
    while i < len(words):
        parsed = words_to_number(words[i:])
        if parsed is None:
            i += 1
            continue
        value, used = parsed
        unit = words[i + used].lower() if i + used < len(words) else ""
        if unit in _CURRENCY_WORDS:
            end = i + used + 1
            cents = _cents(words[end:])
            if cents is not None:
                value += cents[0] / 100
                end += cents[1]
            elif end < len(words):
                tail = words_to_number(words[end:])  # "forty five dollars twenty": the cents without the word
                if (
                    tail is not None
                    and tail[0] < 100
                    and (end + tail[1] >= len(words) or words[end + tail[1]].lower() in ("cents", "cent"))
                ):
                    value += tail[0] / 100
                    end += tail[1] + (1 if end + tail[1] < len(words) else 0)
            found.append(Amount(value, _CURRENCY_WORDS[unit], " ".join(words[i:end])))
            i = end
            continue
        i += used
    return found


def _cents(words: Sequence[str]) -> tuple[float, int] | None:
    start = 1 if words and words[0].lower() == "and" else 0
    parsed = words_to_number(words[start:])
    if parsed is None:
        return None
    value, used = parsed
    after = words[start + used].lower() if start + used < len(words) else ""
    if after in ("cents", "cent", "pence", "p") and value < 100:
        return value, start + used + 1
    return None


def find_agent_name(lines: Sequence[Said]) -> str | None:
    """Return the name the agent introduced themselves with."""
    for line in lines:
        if line.speaker != "agent":
            continue
        for m in _NAME.finditer(line.text):
            name = m.group(1) or m.group(2)
            if name.title() in _NOT_NAMES or (name.title() != name and not _lower_name_ok(line.text, m)):
                continue
            return name.title()
    return None


def _lower_name_ok(text: str, m: re.Match[str]) -> bool:
    """Accept a lower-case name only after a strong cue ("my name is pete", "this is kevin with")."""
    return bool(_STRONG_NAME_CUE.search(text[: m.end()]) or _STRONG_NAME_CUE.match(text[m.start() : m.end() + 12]))


def is_commitment(sentence: str) -> bool:
    """Tell a promise about what will happen (or what to do by when) from politeness."""
    if sentence.rstrip().endswith("?") or _NOT_COMMITMENTS.search(sentence):
        return False
    if _CONDITIONAL_CALLBACK.search(sentence):
        return True
    return bool(_COMMIT.search(sentence) and _OUTCOME.search(sentence))


def _unique[T](items: list[T]) -> tuple[T, ...]:
    seen: list[T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


def extract(lines: Sequence[Said], call_day: date, company: str | None = None) -> CallSummary:
    """Summarise a call from its transcript (embedded method)."""
    said = company_side(lines)
    references = _unique([code for sentence in said for code in find_references(sentence)])
    amounts = _unique([amount for sentence in said for amount in find_amounts(sentence)])
    amounts = tuple({(a.value, a.currency): a for a in amounts}.values())
    dates: list[SaidDate] = []
    commitments: list[Commitment] = []
    for sentence in said:
        mentions = find_dates(sentence, call_day)
        dates += [SaidDate(m.day, m.text) for m in mentions]
        if is_commitment(sentence):
            for clause in clauses(sentence):
                due = find_dates(clause, call_day) if clause != sentence else mentions
                commitments.append(Commitment(clause, due[-1].day if due else None))
    unique_dates = tuple({d.day: d for d in dates}.values())
    agent = find_agent_name(lines)
    summary = CallSummary(
        text="",
        agent_name=agent,
        references=references,
        amounts=amounts,
        dates=unique_dates,
        commitments=_unique(commitments),
    )
    return CallSummary(
        text=headline(summary, company),
        agent_name=agent,
        references=summary.references,
        amounts=summary.amounts,
        dates=summary.dates,
        commitments=summary.commitments,
    )


def headline(summary: CallSummary, company: str | None) -> str:
    """Write a short summary a phone notification can show."""
    who = f"{summary.agent_name} at {company}" if summary.agent_name and company else summary.agent_name or company
    parts = [f"Spoke with {who}" if who else "Call summary"]
    if summary.references:
        parts.append(f"reference {summary.references[0]}")
    if summary.commitments:
        first = summary.commitments[0]
        parts.append(f"promised: {first.text}" + (f" (by {first.due.isoformat()})" if first.due else ""))
    elif summary.amounts:
        parts.append(f"amount {summary.amounts[0].value:.2f} {summary.amounts[0].currency}")
    if len(summary.commitments) > 1:
        parts.append(f"+{len(summary.commitments) - 1} more commitments")
    return "; ".join(parts)

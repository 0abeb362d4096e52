"""The embedded extractor: references, amounts, dates, the agent's name and commitments, without a model.

It reads only what the person at the company said (the agent's lines, or company lines after a person
answered): the user's own words are context, not promises. A reference number is taken only after a word
that announces one ("ticket", "reference", "confirmation" ...), because a wrong reference is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from .contractions import restore
from .dates import find_dates
from .model import Amount, CallSummary, Commitment, Said, SaidDate
from .spoken import code_symbols, tokens, words_to_number

# Words that announce a reference and the filler that may sit between them and the code.
_REF_CUES = {
    "reference", "ref", "ticket", "case", "confirmation", "claim", "tracking", "incident", "booking",
    "request", "order", "complaint", "dispute", "locator", "authorization", "authorisation", "rma", "job",
    "appeal", "dispatch", "transaction", "report", "agreement", "trace", "permit", "voucher", "referral",
    "application", "receipt", "folio", "docket", "inquiry", "enquiry",
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
# Nouns a number counts ("10 times", "15 minutes"): a number before one is not the cents of a price.
_COUNTED_UNITS = {
    "times", "minutes", "minute", "hours", "hour", "days", "day", "weeks", "week", "months", "month", "years",
    "year", "percent", "miles", "mile", "people", "items", "payments", "installments", "calls", "each", "per",
}  # fmt: skip
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}
_SIGN_AMOUNT = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d{1,2})?)")
_TITLES = r"(?:(?:mr|mrs|ms|miss|dr|doctor|officer|agent|nurse|sergeant|sgt|detective|captain|mx)\.?\s+)?"
_NAME = re.compile(
    r"(?i:\b(?:this is|my name is|my name's|name is|you're speaking with|you are speaking with|speaking with"
    r"|i'm|i am))\s+" + "(?i:" + _TITLES + r")([A-Za-z][a-z]+)\b|\b([A-Z][a-z]+)\s+(?:speaking|here)\b"
)
# Words after a name that make it a company or department ("this is Streamly support").
_ORGANISATION = re.compile(
    r"\s+(?:support|service|services|billing|customer|care|team|bank|airlines?|insurance|office|desk|department"
    r"|pharmacy|clinic|dental|help|helpdesk|sales|accounts|line|center|centre)\b",
    re.I,
)
# After these a lower-case word is still a name (a recogniser that writes no capitals).
_STRONG_NAME_CUE = re.compile(r"\b(?:my name is|my name's)\s+\w+$|\bthis is\s+\w+\s+(?:with|from|at|in)\b", re.I)
# A greeting goes "<company> this is ben how can i help": the word after "this is" ends the line or is followed
# by the rest of a greeting.
_GREETING_NAME = re.compile(r"this is\s+\w+(?:\s*$|\s+(?:how|what|can|may|speaking|here)\b)", re.I)
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
    r"\b(?:re-?)?(receiv\w*|get|see|arrive|refund\w*|credit\w*|send|sent|email\w*|call\w*|contact|text|visit|come|"
    r"technician|process\w*|reflect\w*|appear|post\w*|ship\w*|deliver\w*|waiv\w*|replac\w*|fix\w*|restor\w*|"
    r"escalat\w*|review\w*|follow|reach|back|schedul\w*|mail\w*|issu\w*|revers\w*|cancel\w*|activat\w*|"
    r"remov\w*|adjust\w*|hear|book\w*|approv\w*|arrang\w*|open\w*|fil\w*|order\w*|appl\w*|add\w*|request\w*|"
    r"submit\w*|install\w*|repair\w*|updat\w*|resolv\w*|investigat\w*|clos\w*|deliver|pick\w*|expect|"
    r"confirm\w*|due|disconnect\w*|reconnect\w*|transfer\w*|between|on the way|be there|be with you|be ready|"
    r"be back|be active|be restored|be finished|be done|be fixed|meet|fill\w*|notif\w*|inspect\w*|handl\w*|"
    r"ring|return\w*|prorat\w*|void\w*|ready)\b",
    re.I,
)
# "I've <done something>": an action the company took for the caller is an outcome by itself. Past
# participles of looking and talking describe the agent's investigation, not something done for the caller.
_PERFECT = re.compile(
    r"\b(?:i|we)(?:'ve| have|'ve now| have now)\s+(?:just\s+|now\s+|already\s+|also\s+|gone ahead and\s+)?"
    r"([a-z]+ed|sent|put|set|made|given|written|paid|left|kept|brought|bought|shown|taken|done)\b",
    re.I,
)
_INVESTIGATION = {
    "looked", "checked", "noticed", "pulled", "verified", "found", "seen", "heard", "listened", "searched",
    "tried", "asked", "talked", "reviewed", "received", "located", "confirmed", "needed", "wanted", "called",
    "accessed", "opened up", "noted", "gathered", "learned", "figured",
}  # fmt: skip
# "Your membership is cancelled", "the driver has been notified", "it's confirmed for pickup": a state the
# caller's account or order is now in. A past simple ("was charged", "were denied") tells the problem, so
# only the present and the present perfect count, and participles that describe a problem do not.
_STATE = re.compile(
    r"\b(?:(?:is|are|has been|have been)|(?:it|that|everything|this|he|she|there)'s|(?:you|they|we)'re)"
    r"\s+(?:now\s+|all\s+|been\s+)?([a-z]+ed|set up|sent|paid|done)\b",
    re.I,
)
_PROBLEM_STATES = {
    "charged", "denied", "declined", "billed", "delayed", "flagged", "locked", "located", "based", "required",
    "needed", "supposed", "allowed", "involved", "concerned", "interested", "called", "named", "listed",
    "closed", "used", "used up", "expired", "overdue", "returned", "suspended", "disconnected", "missed",
    "affected", "experienced", "reported", "owed", "unrelated", "related", "connected", "pleased", "sorry",
    "tired", "worried", "surprised", "confused", "married", "limited", "restricted", "blocked up", "booked up",
    "scared", "covered", "included", "insured", "registered", "attached", "assigned",
}  # fmt: skip
# A deadline set for the caller: "the first payment is due on April 1st", "the due date is October 20th".
_DUE = re.compile(r"\b(?:is|are|will be|'s|be)\s+due\b|\bdue date\b|\bdue (?:on|by|at|upon)\b", re.I)
_DUE_AT = re.compile(r"\bdue (?:at|on|by|upon)\b", re.I)
# The labelling rule, and what a caller needs on a to-do list: an instruction is an item when it has a deadline.
_DEADLINE = re.compile(r"\b(?:within|by|before|until|no later than|early|in the next)\b", re.I)
# Something the caller must do: "Please return the old one within 14 days", "Allow ten business days".
# Requests for the call's own sake (hold, wait, spell, confirm a detail) are not action items.
_IMPERATIVE = re.compile(
    r"(?:^|[,;:]\s*|\band\s+)(?:make sure (?:to|you)|remember to|be sure to|don't forget to|allow\s+\w+\s+\w*\s*"
    r"(?:business |working )?(?:days|weeks|hours)|please\s+(?!hold|wait|stay|bear|note|listen|repeat|spell|say|"
    r"tell|give me|confirm|verify|hang|let|feel|don't hesitate|be patient|be advised|accept|enjoy|go ahead|"
    r"press|select|choose|enter|speak|state)[a-z]+)",
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


# Recognisers run clauses together ("i've blocked the card a replacement is on its way it should arrive in 5
# days"): a subject pronoun with an auxiliary starts a new clause, and so does ", the"/"; your" ...
_RUN_ON = re.compile(
    r"\s+(?=(?:i|we|you|it|they|she|he|there)(?:'ll|'ve|'re|'s|'m|'d|\s+will|\s+have|\s+should|\s+can)\b)"
    r"|\s*[,;]\s+(?=(?:the|a|an|your|our|my|i|we|you|it|they|she|he|there|this|that|someone)\b)",
    re.I,
)


# A pronoun after one of these starts a subordinate clause ("until it's processed"), not a new sentence.
_SUBORDINATORS = {
    "until", "when", "once", "if", "because", "so", "that", "and", "but", "after", "before", "as", "while",
    "unless", "where", "since", "though", "although", "whether", "than", "or", "till", "which", "who",
}  # fmt: skip


def _run_on_parts(sentence: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for m in _RUN_ON.finditer(sentence):
        before = sentence[start : m.start()].split()
        if not before or before[-1].lower().strip(",;") in _SUBORDINATORS:
            continue
        parts.append(sentence[start : m.start()])
        start = m.end()
    parts.append(sentence[start:])
    return [part.strip(" ,;") for part in parts if part.strip(" ,;")]


def clauses(sentence: str) -> list[str]:
    """Split a sentence into its promises: "I've blocked the card, a replacement will arrive Friday" gives two.

    Only the clauses that are promises are kept; when no single clause is one (a condition and its
    consequence, "if it isn't fixed by Friday, call us back"), the sentence stays whole.
    """
    parts = _run_on_parts(sentence)
    parts = [clause for part in parts for clause in _and_clauses(part)]
    promises = [part for part in parts if is_commitment(part)]
    return promises if len(parts) > 1 and promises else [sentence]


# A clause about "it"/"they" right after a promise gives that promise's details (when, how), not a new one.
_CONTINUES = re.compile(
    r"^(?:(?:and|so)\s+)?(?:(?:it|they|that|this)(?:'ll|'s|\s+will|\s+should|\s+can|\s+may)\b"
    r"|you(?:'ll|\s+will|\s+should)\s+(?:\w+\s+)?(?:it|them)\b)",
    re.I,
)


def _and_clauses(part: str) -> list[str]:
    """Split "I'll email you today and a loan officer will call you Friday" at the "and"."""
    pieces = [piece.strip() for piece in _CLAUSE.split(part) if piece.strip()]
    return pieces if len(pieces) > 1 and all(is_commitment(piece) for piece in pieces) else [part]


def company_side(lines: Sequence[Said]) -> list[str]:
    """Return the sentences the person at the company said."""
    agent = [line for line in lines if line.speaker == "agent"]
    return [sentence for line in agent for sentence in sentences(restore(line.text))]


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
            if j + used < len(words) and words[j + used][0].lower() in _CURRENCY_WORDS:
                return None  # "a request to raise it to 5000 dollars": a sum of money, not a code
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
                after = words[end + tail[1]].lower() if tail is not None and end + tail[1] < len(words) else ""
                # Prices are read "29 dollars 99": two digits straight after the currency word are its cents,
                # unless a unit follows them ("50 dollars 10 times", "20 dollars 15 minutes").
                if (
                    tail is not None
                    and tail[0] < 100
                    and (
                        end + tail[1] >= len(words)
                        or after in ("cents", "cent")
                        or (tail[0] >= 10 and after not in _COUNTED_UNITS and after not in _CURRENCY_WORDS)
                    )
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
            if _ORGANISATION.match(line.text, m.end()):
                continue
            return name.title()
    return None


def _lower_name_ok(text: str, m: re.Match[str]) -> bool:
    """Accept a lower-case name only after a strong cue ("my name is pete", "this is kevin with")."""
    return bool(
        _STRONG_NAME_CUE.search(text[: m.end()])
        or _STRONG_NAME_CUE.match(text[m.start() : m.end() + 12])
        or _GREETING_NAME.match(text, m.start())
    )


def is_commitment(sentence: str) -> bool:
    """Tell a promise about what will happen (or what to do by when) from politeness."""
    sentence = restore(sentence)
    if sentence.rstrip().endswith("?") or _NOT_COMMITMENTS.search(sentence):
        return False
    return (
        bool(_CONDITIONAL_CALLBACK.search(sentence))
        or bool(_IMPERATIVE.search(sentence) and (_has_date(sentence) or _DEADLINE.search(sentence)))
        or any(m.group(1).lower() not in _INVESTIGATION for m in _PERFECT.finditer(sentence))
        or any(_outcome_state(sentence, m) for m in _STATE.finditer(sentence))
        or bool(_DUE.search(sentence) and (_has_date(sentence) or _DUE_AT.search(sentence)))
        or bool(_COMMIT.search(sentence) and _OUTCOME.search(sentence))
    )


def _outcome_state(sentence: str, m: re.Match[str]) -> bool:
    """Whether a state ("it's processed") is an outcome: not a problem, not a condition ("until it's processed")."""
    before = sentence[: m.start()].split()
    return m.group(1).lower() not in _PROBLEM_STATES and not (before and before[-1].lower() in _SUBORDINATORS)


def _has_date(sentence: str) -> bool:
    # Any fixed day works: only whether a day is named matters here, not which.
    return bool(find_dates(sentence, date(2000, 1, 3)))


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
    follows_promise = False  # whether the previous clause said was a promise
    for sentence in said:
        mentions = find_dates(sentence, call_day)
        dates += [SaidDate(m.day, m.text) for m in mentions]
        if not is_commitment(sentence):
            follows_promise = False
            continue
        for clause in clauses(sentence):
            due = find_dates(clause, call_day) if clause != sentence else mentions
            if follows_promise and commitments and _CONTINUES.match(clause):
                # "I've ordered a new one. It will arrive by Wednesday.": one promise and its delivery.
                last = commitments[-1]
                day = due[-1].day if due else last.due
                commitments[-1] = Commitment(f"{last.text.rstrip('.')}; {clause}", day)
            else:
                commitments.append(Commitment(clause, due[-1].day if due else None))
            follows_promise = True
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

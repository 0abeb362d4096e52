"""Parse menu options out of an IVR prompt transcript ("for card services, press two" -> MenuOption("2", ...)).

Works on raw speech-to-text output: no or wrong punctuation, digits as words, homophones ("press to"),
"say X or press N", options worded before or after the key, and menus heard twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .api import MenuOption
from .keywords import DIGIT_WORDS, SOUNDALIKES, SYMBOL_WORDS

_HEARD_AGAIN = " / "  # joins two hearings of one option's label (see parse_options)
HEARD_AGAIN = _HEARD_AGAIN  # for nav/relabel.py, which adds a second hearing the audio supports
_WORD_KEYS = {
    **DIGIT_WORDS,
    **SOUNDALIKES,
    "o": "0",  # "press o": a recogniser's spelling of "oh"
    "tree": "3",
    "ate": "8",
    **SYMBOL_WORDS,
    "hashtag": "#",
    "number sign": "#",
    "pound sign": "#",
}
# Words the recogniser writes for "two"/"four" right after "press": only trusted when what follows cannot
# be the start of a label ("press to." / "press to for claims"), because "press for X" is real English.
_HOMOPHONES = {"to": "2", "too": "2", "for": "4", "fore": "4"}
_VERB = r"(?:say or press|press or say|press|dial|push|select|choose|hit|touch|enter|key in)"
_KEY_WORD = "|".join(sorted((re.escape(w) for w in _WORD_KEYS), key=len, reverse=True))
_KEY_WORDS_AFTER_VERB = re.compile(
    rf"\b({_VERB})\s+(?:the\s+)?(?:(?:option|number|key|button)\s+)?({_KEY_WORD})\b(?:\s+(?:key|button|sign)\b)?"
)
_HOMOPHONE_AFTER_VERB = re.compile(
    rf"\b({_VERB})\s+(to|too|for|fore)\b(?=\s*(?:[.,;:!?]|$|\b(?:for|to|if|and|or|press)\b))"
)
_ANCHOR = re.compile(
    rf"\b{_VERB}\s+(?:the\s+)?(?:(?:option|number|key|button)\s+)?([0-9*#])(?:\s+(?:key|button|sign)\b)?"
    r"(?![\s,\-]*[0-9]|\.[0-9])"  # "dial 9 1 1", "9.1.1" or "press 123" is a number, not a menu key
)
_DIGIT_AS_WORD = re.compile(rf"\b({_VERB}\s+[0-9*#])(?:[.,]?\s+|[.,])([24])[.,]?\s+(?=[a-z])")
# "or press 3" heard as "press 1.3": of two digits glued by a full stop the second is the key said.
_GLUED_KEYS = re.compile(rf"\b({_VERB})\s+[0-9]\.([0-9])(?![0-9]|\.[0-9])")
_BARE_KEY = re.compile(r"(^|[.!?;]\s+)([0-9])[.,]?\s+(for|to|4|2)\b[.,]?\s+(?=[a-z])")
# A sentence that is only a key: "Press 3." heard as "F3.", "3." or "Chris 3." when the VAD cut it off its label.
_NUMBER = "|".join(DIGIT_WORDS)
_LONE_KEY = re.compile(
    r"(^|[.!?;]\s+)(?:(?:[a-z]{1,2}|[a-z]{0,3}r[aeiu]s+[a-z]{0,2})[\s-]?|[a-z']{1,6},?\s)?"
    rf"([0-9]|{_NUMBER})[.!?;]+(?=\s|$)"
)
_KEY_SENTENCE = re.compile(rf"\b{_VERB}\s+[0-9*#]\s*$")
_SENTENCE_END = re.compile(r"[.!?;]+(?:\s+|$)")
_LEAD_IN_QUESTION = re.compile(r"(?<=[.!;])\s+[^.!?;]+\?\s*$")  # a last sentence that asks, after another
_INTRO = re.compile(r"\b(?:for|to|if|regarding|about)\b")
_PREAMBLE = re.compile(
    r"\b(?:thank you for calling|thanks for calling|welcome to|you have reached|you've reached)\b.*?"
    r"(?=\b(?:for|to|if)\b|[.!?;]|$)"  # a greeting ends at its full stop: the next sentence may be a label
)
_EMERGENCY_NOTICE = r"hang up|emergency|nine one one|911|9-1-1"
_EMERGENCY = re.compile(rf"\b(?:{_EMERGENCY_NOTICE}|smell gas)\b")
_NOTICE = re.compile(
    rf"\b(?:{_EMERGENCY_NOTICE}|listen carefully|(?:options|menu) ha(?:ve|s) changed"
    r"|(?:may|will) be (?:monitored|recorded)|recorded for)\b"
)
_SAY_OR = re.compile(r"\b(?:say|said)\s+((?:[\w']+\s+){1,3}?)or\s*$")
_OR_SAY = re.compile(r"^\s*,?\s*or\s+say\s+[\w']+(?:\s+[\w']+)?")
_LEAD_FILLER = re.compile(r"^(?:(?:please|now|simply|just|you can(?!')|you may|and|or|also|then|otherwise)\b[\s,]*)+")
_LEAD_INTRO = re.compile(
    r"^(?:if you(?:'re| are) calling (?:about|regarding|for|to)|if you(?:'d| would) like to|if you want to"
    r"|if you need to|if you wish to|if you(?:'re| are) calling|if this is (?:about|regarding|for)|if you have"
    r"|if you(?:'re| are)|if you|if|for|to|regarding|about)\b\s*"
)
# "To reach the parts counter" / "to be connected to billing": the verb of getting there, not the department.
_LEAD_REACH = re.compile(r"^(?:reach|be (?:connected|transferred) to|get (?:through )?to|contact)\b\s*(?:the |our )?")
_TRAIL_FILLER = re.compile(r"(?:[\s,]*\b(?:please|now|at any time|anytime|or|and|,))+$")
# "To speak with a nurse" names a department, so "speak/talk to/with" alone does not mean a person.
_PERSON = re.compile(
    r"\b(?:representative|agent|operator|associate|attendant|receptionist|front desk|a person|someone|somebody"
    r"|live person|human|team member|customer (?:service|care|support)|all other|other (?:inquiries|questions|"
    r"requests|matters)|anything else|everything else)\b"
)
# "To speak to someone about a business license" names the license desk, not the operator: a person *about* a
# topic is that topic's department.
_PERSON_ABOUT = re.compile(
    r"\b(?:someone|somebody|a person|an? (?:agent|representative|associate|team member))\s+(?:about|regarding|in|from"
    r"|for|on|at|who)\s+(?!(?:all|any|anything|everything|other|something)\b)\w"
)
_REPEAT = re.compile(
    r"\b(?:repeat|hear (?:these|the|this|those)? ?(?:options|menu|choices)? ?again|hear .* again|main menu"
    r"|previous menu|go back|return to|start over)\b"
)
_SPEECH_REQUEST = re.compile(
    r"\b(?:tell (?:me|us)|in a few words|briefly (?:describe|tell|say)|reason for (?:your|the) call"
    r"|what (?:you(?:'re| are)|are you) calling about|how can (?:i|we) help|what can (?:i|we) help you with"
    r"|please say|just say|describe (?:the|your))\b"
)
_DATA_REQUEST = re.compile(
    r"\b(?:enter|say|key in|type)\s+(?:in\s+)?(?:your|the)\s+(?:(?:\d+|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|sixteen)[- ]digit\s+)?(?:account|phone|member|policy"
    r"|card|zip|postal|pin|date of birth|social|confirmation|reservation|booking|order|claim)\b"
)


@dataclass(frozen=True, slots=True)
class _Anchor:
    """A "press N" occurrence in normalised text."""

    digit: str
    start: int
    end: int


def normalize(text: str) -> str:
    """Lower-case and turn spoken keys after a press-verb into key characters ("press two" -> "press 2")."""
    out = " ".join(text.lower().replace("\u2019", "'").split())
    out = _KEY_WORDS_AFTER_VERB.sub(lambda m: f"{m.group(1)} {_WORD_KEYS[m.group(2)]}", out)
    out = _HOMOPHONE_AFTER_VERB.sub(lambda m: f"{m.group(1)} {_HOMOPHONES[m.group(2)]}", out)
    out = _GLUED_KEYS.sub(lambda m: m.group(0) if m.group(2) in "24" else f"{m.group(1)} {m.group(2)}", out)
    # A sentence that starts with a bare key and "for"/"to" lost its "press": "2. 4. billing" (clipped onset).
    out = _BARE_KEY.sub(_bare_key, out)
    # The recogniser also writes "for"/"to" as digits after the key: "press 2. 4. billing" is "press 2 for billing".
    out = _DIGIT_AS_WORD.sub(lambda m: f"{m.group(1)} {'for' if m.group(2) == '4' else 'to'} ", out)
    return _LONE_KEY.sub(_lone_key, out)


def _bare_key(match: re.Match[str]) -> str:
    """Read "2. 4. billing" as "press 2 for billing" unless it follows an emergency notice ("dial. 1. for")."""
    previous = _previous_sentence(match.string, match.start())
    if _EMERGENCY.search(previous):
        return match.group(0)
    if _KEY_SENTENCE.search(previous) and match.group(2) in "24":
        # "Press 2. 4 to power outage": after a sentence that is only a key, a lone 4 or 2 is that key's
        # "for"/"to" written as a digit, not a key of its own.
        return f"{match.group(1)}{'for' if match.group(2) == '4' else 'to'} {match.group(3)} "
    if match.group(3) in ("for", "to") and previous and not _ANCHOR.search(previous):
        # After a sentence that is only a label the key closes that label ("Within 24 hours. 1. For all
        # other changes." is "..., press 1."); after "press 1 to X." it opens the next option.
        return f"{match.group(1)}press {match.group(2)}. {match.group(3)} "
    return f"{match.group(1)}press {match.group(2)} {match.group(3)} "


def _previous_sentence(text: str, at: int) -> str:
    """Return the sentence that ends right before position ``at``."""
    before = text[:at].rstrip(" .!?;")
    return _SENTENCE_END.split(before)[-1] if before else ""


def _lone_key(match: re.Match[str]) -> str:
    """Read a sentence that is only a key ("F3.") as "press 3." unless the sentence before rules that out."""
    previous = _previous_sentence(match.string, match.start())
    # After another lone key it is the "for"/"to" of that key ("press 2. 4."); after an emergency notice it is
    # the number to dial ("hang up and dial. 1."), never a menu key.
    if _KEY_SENTENCE.search(previous) or _EMERGENCY.search(previous):
        return match.group(0)
    return f"{match.group(1)}press {_WORD_KEYS.get(match.group(2), match.group(2))}."


def _without_say_or(text: str) -> str:
    """Drop "say X or" before a key ("For billing, say billing or"); when nothing else names the option, X does."""
    said = _SAY_OR.search(text)
    if said is None:
        return text
    rest = text[: said.start()].strip(" ,")
    # "You can say tracking or press 1": the word to say is the only label there is.
    return rest if _LEAD_FILLER.sub("", rest).strip(" ,") else said.group(1).strip()


def _sentences(segment: str) -> list[str]:
    return [part.strip(" ,") for part in _SENTENCE_END.split(segment) if part.strip(" ,")]


def clean_label(raw: str) -> str:
    """Strip the wording around an option label ("if you are calling about X" -> "X")."""
    label = _without_say_or(raw.strip(" ,.;:!?-"))
    label = _OR_SAY.sub("", label).strip(" ,")
    for _ in range(2):  # "please, if you'd like to ..." needs filler then intro removed
        label = _LEAD_FILLER.sub("", label)
        label = _LEAD_INTRO.sub("", label, count=1)
        label = _LEAD_REACH.sub("", label, count=1)
    label = _TRAIL_FILLER.sub("", label)
    return label.strip(" ,.;:!?-")


@dataclass(frozen=True, slots=True)
class _Label:
    text: str
    intro: bool  # introduced by "for"/"to"/"if": the way menus word an option

    @property
    def score(self) -> int:
        return (2 if self.intro else 0) + (1 if self.text else 0)


_NONE = _Label("", False)


def _before_label(segment: str, *, first: bool) -> _Label:
    """Label worded before its key: the last phrase of the segment (before the first key: from an intro word)."""
    parts = _sentences(_PREAMBLE.sub(" ", segment) if first else segment)
    if not parts or (first and _NOTICE.search(parts[-1])):
        return _NONE  # an emergency or recording notice before the first key is not its label
    # Before the first key only the last sentence can be the label (the rest is greeting); between keys the
    # recogniser may have cut one label into sentences ("For an existing reservation. Including changes.").
    phrase = _without_say_or(parts[-1] if first else " ".join(parts)).rstrip(" ,")
    # Between two keys the words are the label ("change or cancel an appointment, press 2"); before the first
    # key they may follow a greeting without punctuation, so start at the first "for"/"to"/"if".
    intro = _INTRO.search(phrase) if first else _INTRO.match(phrase)
    return _Label(clean_label(phrase[intro.start() :] if first and intro else phrase), intro is not None)


def _after_label(segment: str, *, last: bool) -> _Label:
    """Label worded after its key: the words up to the next key (a shared tail is split off later)."""
    text = _OR_SAY.sub("", segment)
    if not last:
        # A question just before the next key is that key's lead-in, not this label's tail ("press 3 to book a
        # trainer. Not a member yet? Press 4 to hear about joining."): a menu asks who the next options are for.
        text = _LEAD_IN_QUESTION.sub(".", text)
    parts = _sentences(text)
    if not parts:
        return _NONE
    # After the last key only the first sentence: what follows is a closing remark, not the label.
    return _Label(clean_label(parts[0] if last else " ".join(parts)), _INTRO.match(parts[0]) is not None)


def _split_shared(segment: str) -> tuple[str, str] | None:
    """Split words between two keys into the first key's tail and the second key's head, if they can be."""
    parts = _sentences(segment)
    if len(parts) >= 2:
        return parts[0], " ".join(parts[1:])
    text = segment.strip(" ,.")
    second = _INTRO.search(text, 1) if _INTRO.match(text) else None
    # Skip intro words inside the first phrase ("to speak to a person"): split at an intro that starts a
    # new phrase, i.e. the first one after the first label word that is not itself part of "X to Y".
    while second is not None and text[: second.start()].split()[-1] in ("speak", "talk", "go", "listen"):
        second = _INTRO.search(text, second.end())
    if second is None:
        return None
    return text[: second.start()], text[second.start() :]


def _words_before_keys(segments: list[str], before: list[_Label], after: list[_Label]) -> bool:
    """Tell whether options are worded before their keys ("For billing, press 1") rather than after."""
    # Best evidence: words sharing the key's sentence ("For billing, press 1." vs "Press 1 for billing.").
    n = len(segments) - 1
    local_before = sum(bool(_SENTENCE_END.split(segments[k])[-1].strip(" ,")) for k in range(n))
    local_after = sum(bool(_SENTENCE_END.split(segments[k + 1])[0].strip(" ,")) for k in range(n))
    if local_before != local_after:
        return local_before > local_after
    # Punctuation says nothing (none, or the recogniser's own): the wording that labels more keys wins.
    before_score, after_score = sum(x.score for x in before), sum(x.score for x in after)
    if before_score != after_score:
        return before_score > after_score
    # A tie: words before the first key that are not a greeting or notice can only be its label.
    return bool(before[0].text)


def _assign_labels(segments: list[str]) -> tuple[list[str], bool]:
    """Labels for the keys between ``segments`` (len = keys + 1) and whether labels come before keys."""
    n = len(segments) - 1
    before = [_before_label(segments[k], first=k == 0) for k in range(n)]
    after = [_after_label(segments[k + 1], last=k == n - 1) for k in range(n)]
    before_style = _words_before_keys(segments, before, after)
    labels = [(before if before_style else after)[k].text for k in range(n)]
    if not before_style:  # a lead-in question cut off one label belongs to the next ("Not a member yet? Press 4 ...")
        for k in range(n - 1):
            asked = _LEAD_IN_QUESTION.search(_OR_SAY.sub("", segments[k + 1]))
            if asked and labels[k + 1]:
                labels[k + 1] = f"{clean_label(asked.group(0))} {labels[k + 1]}"
    # Fill keys the chosen style left without a label from the words on their other side.
    for k in range(n):
        if labels[k]:
            continue
        if before_style:
            if k == n - 1 or not labels[k + 1]:
                labels[k] = after[k].text
            elif (split := _split_shared(segments[k + 1])) is not None:
                labels[k], labels[k + 1] = clean_label(split[0]), _before_label(split[1], first=False).text
        elif k == 0 or not labels[k - 1]:
            labels[k] = before[k].text
        elif (split := _split_shared(segments[k])) is not None:
            labels[k - 1], labels[k] = clean_label(split[0]), _before_label(split[1], first=False).text
    return labels, before_style


def _missing_key(keys: list[str], k: int) -> str | None:
    """Return the key skipped between keys ``k`` and ``k+1`` when they are two apart ("1", "3")."""
    a, b = keys[k], keys[k + 1]
    if not (a.isdigit() and b.isdigit()) or int(b) - int(a) != 2 or str(int(a) + 1) in keys:
        return None
    return str(int(a) + 1)


def _recover_dropped_keys(segments: list[str], keys: list[str], labels: list[str], before_style: bool) -> list[int]:
    """Find options whose "press N" the recogniser dropped: an orphan sentence between keys 1 and 3.

    Returns, for each key, the index of an inferred key inserted after it (or -1); fixes ``labels`` in place.
    """
    inferred = [-1] * len(keys)
    for k in range(len(keys) - 1):
        missing = _missing_key(keys, k)
        parts = _sentences(segments[k + 1])
        if missing is None or len(parts) < 2:
            continue
        candidates = parts[:-1] if before_style else parts[1:]
        # The orphan usually opens with "for"/"to". After keys, a garbled one ("Let's do this new challenge for
        # a transaction" for "Press 2 to dispute a charge") is the sentences after key k's own label; before
        # keys nothing tells where one label ends and the next begins, so it must open with "for"/"to".
        fallback = None if before_style else " ".join(candidates)
        orphan = next((p for p in candidates if _INTRO.match(p)), fallback)
        if orphan is None:
            continue
        if before_style:
            labels[k + 1] = _before_label(parts[-1], first=False).text
        else:
            labels[k] = clean_label(parts[0])
        labels.append(clean_label(orphan))
        keys.append(missing)
        inferred[k] = len(keys) - 1
    return inferred


_MAX_ORPHAN_WORDS = 12  # a longer sentence is a notice or a greeting, not an option's label
_NO_KEY_NEEDED = re.compile(r"\b(?:stay|remain|hold) on the line\b|\bcontinue to hold\b|\bhang up\b")


def _recover_lost_last_key(
    segments: list[str], keys: list[str], labels: list[str], inferred: list[int], n_anchors: int
) -> None:
    """Infer the menu's last option when the recogniser lost its "press N" ("If your parcel is late." and no key).

    In a menu worded before its keys, a label-shaped sentence after the last key of a hearing (the prompt's end,
    or right before the menu starts over) with no key of its own is the next option, and menus number their
    options in order: the key is the one after the last key heard. Fixes ``keys``/``labels``/``inferred`` in place.
    """
    for k in range(n_anchors):
        following = keys[k + 1] if k + 1 < n_anchors else None
        last = keys[k]
        restart = following is not None and following in keys[: k + 1]
        if (following is not None and not restart) or not last.isdigit() or last in "09" or inferred[k] >= 0:
            continue
        missing = str(int(last) + 1)
        if missing in keys[:n_anchors]:
            continue
        parts = _sentences(segments[k + 1])
        candidates = parts if following is None else parts[:-1]  # before a restart the last part is its label
        orphan = next((p for p in candidates if _INTRO.match(p) and len(p.split()) <= _MAX_ORPHAN_WORDS), None)
        # "For all other questions" / "to speak to an agent" is as often 0 or 9 as the next key: no guess.
        if orphan is None or _NO_KEY_NEEDED.search(orphan) or _NOTICE.search(orphan) or _PERSON.search(orphan):
            continue
        if restart:  # the replay's first label is only the sentence right before its key
            labels[k + 1] = _before_label(parts[-1], first=False).text
        labels.append(clean_label(orphan))
        keys.append(missing)
        inferred[k] = len(keys) - 1


def _anchors(text: str) -> list[_Anchor]:
    found: list[_Anchor] = []
    for m in _ANCHOR.finditer(text):
        context = text[max(0, m.start() - 40) : m.start()]
        if _EMERGENCY.search(context) and (m.group(1) == "9" or _sentence_of(text, m.start()).startswith("and")):
            continue  # "hang up and dial 9..." / "... hang up. And dial 1." is the emergency notice, not a key
        found.append(_Anchor(m.group(1), m.start(), m.end()))
    return found


def _sentence_start(text: str, at: int) -> int:
    """Return where the sentence of ``text`` that holds position ``at`` begins."""
    return max((m.end() for m in _SENTENCE_END.finditer(text, 0, at)), default=0)


def _sentence_of(text: str, at: int) -> str:
    """Return the sentence of ``text`` that holds position ``at``, up to ``at``."""
    return text[_sentence_start(text, at) : at].strip()


def after_last_key(text: str) -> tuple[str, str]:
    """Split the normalised prompt into (sentence holding the last key, words after that sentence)."""
    norm = normalize(text)
    anchors = _anchors(norm)
    if not anchors:
        return "", norm
    last = anchors[-1]
    start = _sentence_start(norm, last.start)
    end_match = _SENTENCE_END.search(norm, last.end)
    end = end_match.start() if end_match else len(norm)
    return norm[start:end], norm[end:]


def anchor_keys(text: str) -> list[str]:
    """Every key offered, in order, repeats included (see ``replay_keys`` for telling a replayed menu)."""
    return [a.digit for a in _anchors(normalize(text))]


def replay_keys(text: str) -> list[str]:
    """Keys offered, with a key said twice in a row counted once.

    The recogniser sometimes hears one "press N" twice or turns the next key into the one just heard
    ("Press 1. Press 1. For seat selection"); only a key offered again after another key means the menu
    started over.
    """
    keys = anchor_keys(text)
    return [k for i, k in enumerate(keys) if i == 0 or k != keys[i - 1]]


def parse_options(text: str) -> list[MenuOption]:
    """Menu options in the order first heard; a key heard twice (a repeated menu) keeps its first label."""
    norm = normalize(text)
    anchors = _anchors(norm)
    if not anchors:
        return []
    bounds = [0, *(x for a in anchors for x in (a.start, a.end)), len(norm)]
    segments = [norm[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    labels, before_style = _assign_labels(segments)
    keys = [a.digit for a in anchors]
    inferred = _recover_dropped_keys(segments, keys, labels, before_style)
    if before_style:
        _recover_lost_last_key(segments, keys, labels, inferred, len(anchors))
    options: dict[str, str] = {}
    for k in range(len(anchors)):
        for index in (k, inferred[k]) if inferred[k] >= 0 else (k,):
            key, label = keys[index], labels[index]
            if not label:
                continue
            if key not in options:
                options[key] = label
            elif not _words(label) <= _words(options[key]):
                # A replayed menu is transcribed differently: keep the words of both hearings, since the
                # recogniser garbles a label differently each time ("start I'll put me" / "stop or move").
                options[key] = f"{options[key]}{_HEARD_AGAIN}{label}"
    return [MenuOption(digit, label) for digit, label in options.items()]


def _words(label: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", label))


_COMPANY_NAME = re.compile(
    r"\b(?:thank you for calling|thanks for calling|welcome to|you have reached|you've reached)\s+(?:the\s+)?"
    r"(?P<name>[^.!?;,]{2,60}?)(?=\s*(?:[.!?;,]|$|\b(?:for|if|please|where|how|this call|calls)\b))"
)


def company_name(text: str) -> str:
    """Return the name the company greets with ("Thank you for calling Harbor Gas." -> "harbor gas")."""
    found = _COMPANY_NAME.search(normalize(text))
    return found.group("name").strip() if found else ""


def reaches_person(option: MenuOption) -> bool:
    """Tell whether an option leads to a person ("representative", "all other inquiries", operator)."""
    label = option.label.lower()
    return bool(_PERSON.search(label)) and not _PERSON_ABOUT.search(label)


def label_hearings(label: str) -> list[str]:
    """Split a label into the hearings ``parse_options`` merged into it ("start I'll put me / stop or move")."""
    # A second hearing may also open the label ("/ to change or cancel an appointment") when nothing came before it.
    parts = (part.strip(" /") for part in label.split(_HEARD_AGAIN))
    return [part for part in parts if part] or [label]


def is_repeat(option: MenuOption) -> bool:
    """Tell whether an option is menu plumbing (repeat, main menu, go back) that never reach a department."""
    # Every hearing must say so: a misheard key ("press 9" heard as "press 1") merges the repeat option's
    # words into a real option, which must stay selectable.
    return all(_REPEAT.search(part.lower()) for part in label_hearings(option.label))


# What a queue itself offers while the caller waits: answering it is never navigation (and a callback or a
# voicemail would end the wait for a person).
_QUEUE_OFFER = re.compile(
    r"\b(?:call ?back|calls? you back|callback|message|voice ?mail|survey|hold|holding|wait(?:ing)?|queue|"
    r"place in line|your place)\b"
)


def offers_choice(text: str) -> bool:
    """Tell whether words heard in the queue are a menu to navigate: two keys or more, none a queue offer.

    A company may queue the call briefly and then play a submenu (a spoken reason that took its recogniser long
    enough to read as a silent hold); a callback offer ("press 1 to be called back") is part of the hold.
    """
    options = [o for o in parse_options(text) if not is_repeat(o)]
    if len({o.digit for o in options}) < 2:
        return False
    return not any(_QUEUE_OFFER.search(o.label.lower()) for o in options)


def asks_for_speech(text: str) -> bool:
    """Tell whether the prompt wants the caller to say why they are calling."""
    norm = normalize(text)
    return bool(_SPEECH_REQUEST.search(norm)) and not _DATA_REQUEST.search(norm)


def asks_for_data(text: str) -> bool:
    """Tell whether the prompt wants an account number or similar that the caller must supply."""
    return bool(_DATA_REQUEST.search(normalize(text)))

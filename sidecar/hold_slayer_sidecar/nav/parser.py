"""Parse menu options out of an IVR prompt transcript ("for card services, press two" -> MenuOption("2", ...)).

Works on raw speech-to-text output: no or wrong punctuation, digits as words, homophones ("press to"),
"say X or press N", options worded before or after the key, and menus heard twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .api import MenuOption

_WORD_KEYS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "won": "1",
    "two": "2",
    "three": "3",
    "tree": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "ate": "8",
    "nine": "9",
    "star": "*",
    "asterisk": "*",
    "pound": "#",
    "hash": "#",
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
    r"(?![\s,\-]*[0-9])"  # "dial 9 1 1" or "press 123" is a number, not a menu key
)
_SENTENCE_END = re.compile(r"[.!?;]+(?:\s+|$)")
_INTRO = re.compile(r"\b(?:for|to|if|regarding|about)\b")
_PREAMBLE = re.compile(
    r"\b(?:thank you for calling|thanks for calling|welcome to|you have reached|you've reached)\b.*?"
    r"(?=\b(?:for|to|if)\b|$)"
)
_EMERGENCY = re.compile(r"\b(?:hang up|emergency|nine one one|911)\b")
_SAY_OR = re.compile(r"\b(?:say|said)\s+(?:[\w']+\s+){1,3}?or\s*$")
_OR_SAY = re.compile(r"^\s*,?\s*or\s+say\s+[\w']+(?:\s+[\w']+)?")
_LEAD_FILLER = re.compile(r"^(?:(?:please|now|simply|just|you can|you may|and|or|also|then|otherwise)\b[\s,]*)+")
_LEAD_INTRO = re.compile(
    r"^(?:if you(?:'re| are) calling (?:about|regarding|for|to)|if you(?:'d| would) like to|if you want to"
    r"|if you need to|if you wish to|if you(?:'re| are) calling|if this is (?:about|regarding|for)|if you have"
    r"|if you(?:'re| are)|if|for|to|regarding|about)\b\s*"
)
_TRAIL_FILLER = re.compile(r"(?:[\s,]*\b(?:please|now|at any time|anytime|or|and|,))+$")
_PERSON = re.compile(
    r"\b(?:representative|agent|operator|associate|attendant|receptionist|front desk|a person|someone|somebody"
    r"|live person|human|team member|customer (?:service|care|support)|all other|other (?:inquiries|questions|"
    r"requests|matters)|anything else|everything else|speak (?:to|with)|talk (?:to|with))\b"
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
    r"\b(?:enter|say|key in|type)\s+(?:in\s+)?(?:your|the)\s+(?:\d+[- ]digit\s+)?(?:account|phone|member|policy"
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
    return _HOMOPHONE_AFTER_VERB.sub(lambda m: f"{m.group(1)} {_HOMOPHONES[m.group(2)]}", out)


def _sentence_start(text: str, pos: int) -> int:
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    return start


def _sentence_end(text: str, pos: int) -> int:
    m = _SENTENCE_END.search(text, pos)
    return m.start() if m else len(text)


def clean_label(raw: str) -> str:
    """Strip the wording around an option label ("if you are calling about X" -> "X")."""
    label = raw.strip(" ,.;:!?-")
    label = _SAY_OR.sub("", label).strip(" ,")
    label = _OR_SAY.sub("", label).strip(" ,")
    for _ in range(2):  # "please, if you'd like to ..." needs filler then intro removed
        label = _LEAD_FILLER.sub("", label)
        label = _LEAD_INTRO.sub("", label, count=1)
    label = _TRAIL_FILLER.sub("", label)
    return label.strip(" ,.;:!?-")


def _label_before(text: str, lo: int, anchor: _Anchor) -> str:
    """Words between ``lo`` and the key, from the first intro word ("for"/"to"/"if") on."""
    segment = text[max(lo, _sentence_start(text, anchor.start)) : anchor.start]
    segment = _PREAMBLE.sub(" ", segment)
    segment = _SAY_OR.sub("", segment.rstrip(" ,")).rstrip(" ,")
    intro = _INTRO.search(segment)
    return clean_label(segment[intro.start() :] if intro else segment)


def _after_segment(text: str, anchor: _Anchor, hi: int) -> str:
    return text[anchor.end : min(hi, _sentence_end(text, anchor.end))]


def _needs_label_before(text: str, anchors: list[_Anchor], i: int) -> bool:
    """Tell whether anchor ``i`` has no label after it ("... to speak to a person press 0." or "press 0 press 1")."""
    hi = anchors[i + 1].start if i + 1 < len(anchors) else len(text)
    after = _OR_SAY.sub("", _after_segment(text, anchors[i], hi)).strip(" ,")
    return not after or _INTRO.match(after) is None


def _anchors(text: str) -> list[_Anchor]:
    found: list[_Anchor] = []
    for m in _ANCHOR.finditer(text):
        context = text[max(0, m.start() - 40) : m.start()]
        if _EMERGENCY.search(context) and m.group(1) == "9":
            continue  # "hang up and dial 9..." is the emergency notice, not a menu key
        found.append(_Anchor(m.group(1), m.start(), m.end()))
    return found


def anchor_keys(text: str) -> list[str]:
    """Every key offered, in order, repeats included (a key heard twice means the menu was replayed)."""
    return [a.digit for a in _anchors(normalize(text))]


def parse_options(text: str) -> list[MenuOption]:
    """Menu options in the order first heard; a key heard twice (a repeated menu) keeps its first label."""
    norm = normalize(text)
    anchors = _anchors(norm)
    options: dict[str, str] = {}
    consumed = 0
    for i, anchor in enumerate(anchors):
        next_start = anchors[i + 1].start if i + 1 < len(anchors) else len(norm)
        before_raw = norm[max(consumed, _sentence_start(norm, anchor.start)) : anchor.start]
        after_raw = _OR_SAY.sub("", _after_segment(norm, anchor, next_start))
        before = _label_before(norm, consumed, anchor)
        after_has_intro = _INTRO.match(after_raw.strip(" ,")) is not None
        before_has_intro = _INTRO.search(before_raw) is not None
        if before and (before_has_intro or not after_has_intro):
            label = before
            consumed = anchor.end
        else:
            after = _after_segment(norm, anchor, next_start)
            if i + 1 < len(anchors) and _needs_label_before(norm, anchors, i + 1):
                # "press 2 for claims to speak to a person press 0": the tail belongs to the next key.
                split = _INTRO.search(after.strip(" ,"), 1)
                cut = after.find(split.group(0), len(after) - len(after.lstrip(" ,")) + 1) if split else -1
                after = after[:cut] if cut > 0 else after
            label = clean_label(_OR_SAY.sub("", after))
            consumed = anchor.end + len(after)
        if label and anchor.digit not in options:
            options[anchor.digit] = label
    return [MenuOption(digit, label) for digit, label in options.items()]


def reaches_person(option: MenuOption) -> bool:
    """Tell whether an option leads to a person ("representative", "all other inquiries", operator)."""
    return bool(_PERSON.search(option.label.lower()))


def is_repeat(option: MenuOption) -> bool:
    """Tell whether an option is menu plumbing (repeat, main menu, go back) that never reach a department."""
    return bool(_REPEAT.search(option.label.lower()))


def asks_for_speech(text: str) -> bool:
    """Tell whether the prompt wants the caller to say why they are calling."""
    norm = normalize(text)
    return bool(_SPEECH_REQUEST.search(norm)) and not _DATA_REQUEST.search(norm)


def asks_for_data(text: str) -> bool:
    """Tell whether the prompt wants an account number or similar that the caller must supply."""
    return bool(_DATA_REQUEST.search(normalize(text)))

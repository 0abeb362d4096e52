"""Numbers as speech-to-text writes them: digits, digit words, homophones, spelt letters, number words.

Agents read codes digit by digit ("four eight two, one nine"), group them ("forty-eight two nineteen"),
spell letters ("T as in Tom") and repeat ("double five"); recognisers then write "for" for "four", "to" for
"two", "oh" for "zero" and split or join groups at random. This module turns such runs back into symbols.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
# Words a recogniser writes for a digit it heard; only digits when next to other digits (else ordinary words).
HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "won": "1", "ate": "8", "free": "3", "sex": "6"}
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
UNITS = {word: int(digit) for word, digit in DIGIT_WORDS.items() if word not in ("oh", "o", "nought")}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
NATO = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E", "foxtrot": "F",
    "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "kilo": "K", "lima": "L", "mike": "M",
    "november": "N", "oscar": "O", "papa": "P", "quebec": "Q", "romeo": "R", "sierra": "S", "tango": "T",
    "uniform": "U", "victor": "V", "whiskey": "W", "xray": "X", "x-ray": "X", "yankee": "Y", "zulu": "Z",
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}
_SEPARATORS = {"dash", "hyphen", "-", "slash"}
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*|[$€£#]")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$", re.I)  # "the 20th" is a day, not part of a code
_CODE_CHUNK = re.compile(r"^[A-Za-z]{0,4}-?\d[\dA-Za-z\-]*$|^\d+$")


def tokens(text: str) -> list[tuple[str, bool]]:
    """Split text into (token, ends_sentence) pairs; a period, ? or ! after a token ends the sentence."""
    result = []
    for match in re.finditer(r"\S+", text):
        raw = match.group(0)
        stripped = raw.strip("\"'()[]")
        ends = stripped.endswith((".", "?", "!")) and not re.fullmatch(r"\d+\.\d+", stripped)
        word = stripped.rstrip(",.;:!?")
        if word:
            result.append((word, ends))
    return result


def _digitish(word: str) -> bool:
    low = word.lower()
    return low in DIGIT_WORDS or low in TEENS or low in TENS or low in REPEATS or bool(re.fullmatch(r"\d[\d\-]*", word))


type _Read = tuple[str, int] | None


def _digit(low: str, nxt: str, after_digit: bool) -> _Read:
    if low in DIGIT_WORDS and not (low in ("o", "oh") and not (after_digit or _digitish(nxt))):
        return DIGIT_WORDS[low], 1
    if low in HOMOPHONES and (after_digit or _digitish(nxt)):
        return HOMOPHONES[low], 1
    return None


def _number_word(low: str, nxt: str) -> _Read:
    if low in TENS:
        unit = nxt.lower()
        return (str(TENS[low] + UNITS[unit]), 2) if unit in UNITS and UNITS[unit] > 0 else (str(TENS[low]), 1)
    return (str(TEENS[low]), 1) if low in TEENS else None


def _letter(words: Sequence[tuple[str, bool]], i: int, started: bool) -> _Read:
    word = words[i][0]
    if word.lower() in NATO and started:
        return NATO[word.lower()], 1
    # A recogniser that writes no capitals spells "f r 4 4 0 9 1": a lone lower-case letter is a spelt letter
    # when the run it starts goes on into digits ("a" and "i" are words unless they do).
    if len(word) == 1 and word.isalpha() and word.islower() and _spelling_run(words, i):
        return word.upper(), 1
    if len(word) == 1 and word.isalpha() and word.isupper():
        nxt = words[i + 1][0] if i + 1 < len(words) else ""
        spelled = nxt.lower() == "as" and i + 3 < len(words) and words[i + 2][0].lower() == "in"
        return word, 4 if spelled else 1  # "T as in Tom": the word only confirms the letter
    return None


def _spelling_run(words: Sequence[tuple[str, bool]], i: int) -> bool:
    """Whether single letters from ``words[i]`` lead, within four letters, into at least two digits."""
    j = i
    while j < len(words) and j - i < 4 and len(words[j][0]) == 1 and words[j][0].isalpha():
        if words[j][1]:
            return False
        j += 1
    digits = 0
    while j < len(words) and digits < 2 and (_digitish(words[j][0]) or words[j][0].lower() in HOMOPHONES):
        digits += 1
        j += 1
    return digits >= 2


def _symbol(words: Sequence[tuple[str, bool]], i: int, after_digit: bool, started: bool) -> tuple[str | None, int]:
    """Read the symbol at ``words[i]``; return (symbol or None, words it used)."""
    word = words[i][0]
    low = word.lower()
    nxt = words[i + 1][0] if i + 1 < len(words) else ""
    after_letter = started and not after_digit
    if after_letter and low == "o" and _spelling_run(words, i):
        return "O", 1  # inside a spelt run of letters "o" is the letter, as "w o 5 5 8 1" is WO5581
    read = _digit(low, nxt, after_digit) or _number_word(low, nxt) or _letter(words, i, started)
    if read is None and _CODE_CHUNK.match(word) and not _ORDINAL.match(word):
        read = word.replace("-", "").upper(), 1
    return read if read is not None else (None, 0)


def code_symbols(words: Sequence[tuple[str, bool]], start: int) -> tuple[str, int]:
    """Read a spoken code from ``words[start:]``; return (symbols, words used). Stops at the first other word."""
    out: list[str] = []
    i, repeat = start, 1
    while i < len(words):
        low = words[i][0].lower()
        if low in REPEATS or (low in _SEPARATORS and out):
            repeat = REPEATS.get(low, 1)
            i += 1
            continue
        symbol, used = _symbol(words, i, bool(out) and out[-1][-1:].isdigit(), bool(out))
        if symbol is None:
            break
        out.append(symbol * repeat if len(symbol) == 1 else symbol)
        repeat = 1
        i += used
        if words[i - 1][1]:
            break
    return "".join(out), i - start


def _cardinal_part(low: str) -> int | None:
    parts = low.replace("-", " ").split()
    if len(parts) == 2 and parts[0] in TENS and parts[1] in UNITS:  # "forty-five"
        return TENS[parts[0]] + UNITS[parts[1]]
    return UNITS.get(low, TEENS.get(low, TENS.get(low)))


def words_to_number(words: Sequence[str]) -> tuple[float, int] | None:
    """Read a cardinal number said in words or digits ("one hundred twenty five", "45", "1,200.50")."""
    if not words:
        return None
    first = words[0].replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?", first):
        return float(first), 1
    total, current, used = 0, 0, 0
    for word in words:
        low = word.lower()
        part = _cardinal_part(low)
        if part is not None:
            current += part
        elif low == "hundred" and used:
            current = max(current, 1) * 100
        elif low in ("thousand", "million") and used:
            total, current = total + max(current, 1) * SCALES[low], 0
        elif low in ("a", "an") and not used and len(words) > 1 and words[1].lower() in SCALES:
            current = 1  # "a hundred", "a thousand"
        elif not (low == "and" and used):
            break
        used += 1
    while used and words[used - 1].lower() in ("and", "a", "an"):
        used -= 1
    return (float(total + current), used) if used else None

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


def code_symbols(words: Sequence[tuple[str, bool]], start: int) -> tuple[str, int]:
    """Read a spoken code from ``words[start:]``; return (symbols, words used). Stops at the first other word."""
    out: list[str] = []
    i = start
    repeat = 1
    while i < len(words):
        word, ends = words[i]
        low = word.lower()
        nxt = words[i + 1][0] if i + 1 < len(words) else ""
        prev_digit = bool(out) and out[-1][-1:].isdigit()
        symbol: str | None = None
        if low in REPEATS:
            repeat = REPEATS[low]
            i += 1
            continue
        if low in DIGIT_WORDS and not (low in ("o", "oh") and not (prev_digit or _digitish(nxt))):
            symbol = DIGIT_WORDS[low]
        elif low in HOMOPHONES and (prev_digit or _digitish(nxt)):
            symbol = HOMOPHONES[low]
        elif low in TENS:
            unit = nxt.lower()
            if unit in UNITS and UNITS[unit] > 0:
                symbol, i = str(TENS[low] + UNITS[unit]), i + 1
                ends = words[i][1]
            else:
                symbol = str(TENS[low])
        elif low in TEENS:
            symbol = str(TEENS[low])
        elif low in NATO and out:
            symbol = NATO[low]
        elif low in _SEPARATORS and out:
            i += 1
            continue
        elif len(word) == 1 and word.isalpha() and word.isupper():
            symbol = word
            if nxt.lower() == "as" and i + 3 <= len(words) and words[i + 2][0].lower() == "in":
                i += 2  # "T as in Tom": the letter is said, the word only confirms it
                ends = words[i + 1][1] if i + 1 < len(words) else ends
                i += 1
        elif _CODE_CHUNK.match(word) and sum(ch.isdigit() for ch in word) >= 1:
            symbol = word.replace("-", "").upper()
        if symbol is None:
            break
        out.append(symbol * repeat if len(symbol) == 1 else symbol)
        repeat = 1
        i += 1
        if ends:
            break
    return "".join(out), i - start


def words_to_number(words: Sequence[str]) -> tuple[float, int] | None:
    """Read a cardinal number said in words or digits ("one hundred twenty five", "45", "1,200.50")."""
    if not words:
        return None
    first = words[0].replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?", first):
        return float(first), 1
    total, current, used = 0, 0, 0
    for word in words:
        low = word.lower().replace("-", " ")
        parts = low.split()
        if len(parts) == 2 and parts[0] in TENS and parts[1] in UNITS:  # "forty-five"
            current += TENS[parts[0]] + UNITS[parts[1]]
        elif low in UNITS:
            current += UNITS[low]
        elif low in TEENS:
            current += TEENS[low]
        elif low in TENS:
            current += TENS[low]
        elif low == "hundred" and used:
            current = max(current, 1) * 100
        elif low in ("thousand", "million") and used:
            total += max(current, 1) * SCALES[low]
            current = 0
        elif low in ("a", "an", "one") and not used and len(words) > 1 and words[1].lower() in SCALES:
            current = 1  # "a hundred", "a thousand"
            used += 1
            continue
        elif low == "and" and used:
            used += 1
            continue
        else:
            break
        used += 1
    while used and words[used - 1].lower() in ("and", "a", "an"):
        used -= 1
    if not used:
        return None
    return float(total + current), used

"""Dates as agents say them, resolved against the day of the call.

"Tuesday" is the next Tuesday after the call, "tomorrow" the day after it, "March 5th" this year unless
that is long past, "within 5 to 7 business days" the last of those business days (the promise's deadline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .spoken import words_to_number

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30,
}  # fmt: skip
_MONTH = "|".join(MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_DAYNUM = (
    r"(\d{1,2})(?:st|nd|rd|th)?|((?:twenty|thirty)[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
    + "|".join(ORDINALS)
    + ")"
)
_WEEKDAY = "|".join(WEEKDAYS)
# A span of weekdays is opening hours ("Monday to Friday"), not a date.
_WEEKDAY_SPAN = re.compile(rf"\b({_WEEKDAY})s?\s+(?:to|through|thru|-|and)\s+({_WEEKDAY})s?\b", re.I)
_PATTERNS = (
    ("month_day", re.compile(rf"\b({_MONTH})\.?\s+(?:the\s+)?(?:{_DAYNUM})\b", re.I)),
    ("day_month", re.compile(rf"\b(?:the\s+)?(?:{_DAYNUM})\s+of\s+({_MONTH})\b", re.I)),
    # "Tuesday the 24th": the day of the month names the date; the weekday only confirms it.
    ("weekday_nth", re.compile(rf"\b(?:(?:next|this|coming)\s+)?(?:{_WEEKDAY}),?\s+the\s+(?:{_DAYNUM})\b", re.I)),
    ("weekday", re.compile(rf"\b(?:(next|this|coming)\s+)?({_WEEKDAY})\b", re.I)),
    ("relative", re.compile(r"\b(today|tomorrow|day after tomorrow)\b", re.I)),
    (
        "within",
        re.compile(
            r"\b(?:in|within|takes?|allow|up to|about)\s+(?:the\s+next\s+)?"
            r"(?:([\w-]+)\s+(?:to|or|-)\s+)?([\w-]+)\s+(business|working)?\s*(days|weeks|hours)\b",
            re.I,
        ),
    ),
    ("the_nth", re.compile(rf"\b(?:by|on|before|until)\s+the\s+(?:{_DAYNUM})\b", re.I)),
)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date found in a sentence."""

    day: date
    start: int
    end: int
    text: str


def _day_number(digits: str | None, word: str | None) -> int | None:
    if digits:
        return int(digits)
    if word:
        low = word.lower().replace("-", " ")
        if " " in low:
            tens, unit = low.split()
            return (20 if tens == "twenty" else 30) + ORDINALS.get(unit, 0)
        return ORDINALS.get(low)
    return None


def _month(name: str) -> int:
    low = name.lower()[:3]
    return [m[:3] for m in MONTHS].index(low) + 1


def _calendar(call_day: date, month: int, day: int) -> date | None:
    # A date without a year is the one nearest the call: agents speak of recent charges and coming visits.
    candidates = []
    for year in (call_day.year - 1, call_day.year, call_day.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    return min(candidates, key=lambda found: abs((found - call_day).days), default=None)


def add_business_days(start: date, days: int) -> date:
    """``days`` business days (Monday-Friday) after ``start``."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _count(word: str | None) -> int | None:
    if not word:
        return None
    if re.fullmatch(r"\d+-\d+", word):  # "3-5 business days": the promise is kept by the last one
        word = word.split("-")[1]
    parsed = words_to_number([part for part in word.replace("-", " ").split()])
    if parsed is None or parsed[0] <= 0 or parsed[0] > 365:
        return None
    return int(parsed[0])


def _month_day(m: re.Match[str], call_day: date) -> date | None:
    day = _day_number(m.group(2), m.group(3))
    return _calendar(call_day, _month(m.group(1)), day) if day else None


def _day_month(m: re.Match[str], call_day: date) -> date | None:
    day = _day_number(m.group(1), m.group(2))
    return _calendar(call_day, _month(m.group(3)), day) if day else None


def _weekday(m: re.Match[str], call_day: date) -> date | None:
    target = WEEKDAYS.index(m.group(2).lower())
    return call_day + timedelta(days=(target - call_day.weekday()) % 7 or 7)


def _relative(m: re.Match[str], call_day: date) -> date | None:
    return call_day + timedelta(days={"today": 0, "tomorrow": 1}.get(m.group(1).lower(), 2))


def _within(m: re.Match[str], call_day: date) -> date | None:
    n = _count(m.group(2))
    unit = m.group(4).lower()
    if n is None or (unit == "hours" and (n < 24 or n % 24)):
        return None  # "within 6 hours" is today at the latest, not a day to note
    if unit == "hours":
        return call_day + timedelta(days=n // 24)
    if unit == "weeks":
        return call_day + timedelta(weeks=n)
    return add_business_days(call_day, n) if m.group(3) else call_day + timedelta(days=n)


def _the_nth(m: re.Match[str], call_day: date) -> date | None:
    day = _day_number(m.group(1), m.group(2))
    if not day or day > 31:
        return None
    month, year = call_day.month, call_day.year
    if day < call_day.day:  # "by the 5th" said on the 20th is next month's
        month, year = month % 12 + 1, year + (month == 12)
    try:
        return date(year, month, day)
    except ValueError:
        return None


_RESOLVERS = {
    "month_day": _month_day,
    "day_month": _day_month,
    "weekday": _weekday,
    "relative": _relative,
    "within": _within,
    "the_nth": _the_nth,
    "weekday_nth": _the_nth,
}


def _resolve(kind: str, m: re.Match[str], call_day: date) -> date | None:
    return _RESOLVERS[kind](m, call_day)


_TIME_AFTER = re.compile(r"\s*(?:am|pm|a\.m|p\.m|o'clock|:)", re.I)


def find_dates(sentence: str, call_day: date) -> list[DateMention]:
    """Every date in a sentence, left to right, overlapping mentions dropped."""
    blocked = [(m.start(), m.end()) for m in _WEEKDAY_SPAN.finditer(sentence)]
    found: list[DateMention] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < end and start < m.end() for start, end in blocked):
                continue
            if kind in ("the_nth", "weekday_nth") and _TIME_AFTER.match(sentence, m.end()):
                continue  # "on the 7 am flight" is a time
            if kind == "relative" and m.group(1).lower() == "today" and sentence.rstrip().endswith("?"):
                continue  # "How can I help you today?" names no day
            if kind == "weekday" and re.match(r"\s*(morning|afternoon|evening)s\b", sentence[m.end() :], re.I):
                continue  # "Monday mornings" is a habit, not a date
            day = _resolve(kind, m, call_day)
            if day is not None:
                found.append(DateMention(day, m.start(), m.end(), m.group(0)))
                blocked.append((m.start(), m.end()))
    return sorted(found, key=lambda mention: mention.start)

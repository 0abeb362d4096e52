"""Routing rules: validate a rule, and decide which rule (if any) takes an inbound call. Pure functions.

A rule matches when every condition it sets matches; rules are tried in priority order (lower first, then by
id so that the order is total), disabled ones skipped; the first match decides. No match: the default action,
the receptionist. Time ranges are wall-clock times in the rule's IANA zone, so they follow DST: "22:00-06:00"
means ten at night to six in the morning on the kitchen clock, whatever the UTC offset is that night.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from fnmatch import fnmatchcase
from typing import Any, Final
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..protocol import RouteDecision, RoutingRule, RuleAction

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
ANONYMOUS: Final = "anonymous"
DEFAULT_ACTION: Final = RuleAction.RECEPTIONIST
DEFAULT_REJECT_CODE: Final = 603  # RFC 3261 s21.6.2 Decline: the callee does not wish to take the call
MAX_PATTERN_LENGTH: Final = 64
MAX_CALLER_LENGTH: Final = 64  # E.164 numbers have at most 15 digits; a SIP user part may be longer, not endless
MAX_NAME_LENGTH: Final = 120
MAX_MESSAGE_LENGTH: Final = 500

# Separators people and trunks put in numbers (RFC 3966 visual separators, plus spaces and slashes).
_SEPARATORS: Final = re.compile(r"[\s().\-/]")
# What a caller-ID user part says when the number is withheld (RFC 3323 anonymous; carriers' own words).
_WITHHELD: Final = frozenset({"", "anonymous", "restricted", "private", "unavailable", "unknown", "withheld"})
# A glob over numbers: digits, '+', wildcards and bracket classes, or a word such as "anonymous".
_PATTERN_CHARS: Final = re.compile(r"^[0-9A-Za-z+*?\[\]!\-]+$")
_HHMM: Final = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_RULE_KEYS: Final = frozenset(RoutingRule.__annotations__)


class RuleError(ValueError):
    """A routing rule that cannot be kept; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        """Keep the field beside the message (the HA form shows it next to that field)."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the rules look at for one call."""

    caller: str  # normalised (see ``normalise_number``)
    dialled: str | None
    at: datetime  # timezone-aware
    known_contact: bool


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The rule that took a call (None: no rule matched, the default action)."""

    rule: RoutingRule | None

    @property
    def action(self) -> RuleAction:
        """What to do with the call."""
        return RuleAction(self.rule["action"]) if self.rule is not None else DEFAULT_ACTION


def normalise_number(text: str | None) -> str:
    """Return a number without separators (and ``anonymous`` for a withheld one); words are lower-cased."""
    raw = (text or "").strip()
    if raw.lower() in _WITHHELD:
        return ANONYMOUS
    return _SEPARATORS.sub("", raw).lower()


def caller_from_uri(uri: str) -> str:
    """Return the normalised caller number from a SIP/tel URI's user part (``anonymous`` when withheld).

    The user part comes from a stranger's INVITE: escapes are decoded (RFC 3261 s19.1.2 allows "%2B1800..."),
    control characters dropped and the result clipped, so it is safe to show, store and match.
    """
    text = uri.strip().strip("<>")
    lowered = text.lower()
    for scheme in ("sips:", "sip:", "tel:"):
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    user = text.split("@", 1)[0] if "@" in text else text
    user = unquote(user.split(";", 1)[0].split("?", 1)[0])
    printable = "".join(ch for ch in user if ch.isprintable())
    return normalise_number(printable)[:MAX_CALLER_LENGTH]


def pattern_matches(pattern: str | None, value: str | None) -> bool:
    """Whether a glob matches a number (both normalised); an unset pattern matches anything."""
    if not pattern:
        return True
    if value is None:
        return False
    return fnmatchcase(normalise_number(value), normalise_number(pattern))


def _clock(text: str) -> time:
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(text)
    return time(int(match[1]), int(match[2]))


def in_time_range(rule: RoutingRule, at: datetime, default_zone: ZoneInfo) -> bool:
    """Whether ``at`` falls in the rule's time range and days (both counted on the day a range starts)."""
    start_text, end_text = rule.get("time_start"), rule.get("time_end")
    zone_name = rule.get("time_zone")
    local = at.astimezone(ZoneInfo(zone_name) if zone_name else default_zone)
    days = frozenset(rule.get("days") or DAYS)
    today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
    if not start_text or not end_text:
        return today in days
    start, end, now = _clock(start_text), _clock(end_text), local.time().replace(tzinfo=None)
    if start < end:
        return today in days and start <= now < end
    # Wraps midnight (or start == end: a whole day from the start): the part after midnight belongs to
    # the range that started the evening before.
    return (now >= start and today in days) or (now < end and yesterday in days)


def rule_matches(rule: RoutingRule, facts: CallFacts, default_zone: ZoneInfo) -> bool:
    """Whether every condition the rule sets holds for the call."""
    if not pattern_matches(rule.get("caller_pattern"), facts.caller):
        return False
    if not pattern_matches(rule.get("dialled_pattern"), facts.dialled):
        return False
    wanted = rule.get("known_contact")
    if wanted is not None and wanted != facts.known_contact:
        return False
    return in_time_range(rule, facts.at, default_zone)


def evaluation_order(rules: Iterable[RoutingRule]) -> list[RoutingRule]:
    """Rules in the order they are tried: priority, then id."""
    return sorted(rules, key=lambda rule: (rule["priority"], rule.get("rule_id", "")))


def decide(rules: Iterable[RoutingRule], facts: CallFacts, default_zone: ZoneInfo) -> RuleMatch:
    """Return the first enabled rule that matches the call, in evaluation order."""
    for rule in evaluation_order(rules):
        if rule["enabled"] and rule_matches(rule, facts, default_zone):
            return RuleMatch(rule)
    return RuleMatch(None)


def describe(match: RuleMatch) -> str:
    """Say, for people, why a call went where it went."""
    rule = match.rule
    if rule is None:
        return "no rule matched: the receptionist answers"
    parts = [f"rule {rule['name']!r}"]
    conditions = []
    if rule.get("caller_pattern"):
        conditions.append(f"caller {rule.get('caller_pattern')}")
    if rule.get("dialled_pattern"):
        conditions.append(f"dialled {rule.get('dialled_pattern')}")
    if rule.get("time_start"):
        zone = rule.get("time_zone") or "local time"
        conditions.append(f"{rule.get('time_start')}-{rule.get('time_end')} {zone}")
    if rule.get("days"):
        conditions.append(",".join(rule.get("days") or []))
    if rule.get("known_contact") is not None:
        conditions.append("contacts" if rule.get("known_contact") else "strangers")
    if conditions:
        parts.append(f"({'; '.join(conditions)})")
    return " ".join(parts)


def decision(match: RuleMatch, device_ids: Sequence[str]) -> RouteDecision:
    """Return the wire form of a match, with the devices that would ring."""
    rule = match.rule
    return RouteDecision(
        action=match.action.value,
        rule_id=rule.get("rule_id") if rule is not None else None,
        rule_name=rule["name"] if rule is not None else None,
        device_ids=list(device_ids),
        reason=describe(match),
    )


# ------------------------------------------------------------ validation


def validate_rule(data: Mapping[str, Any], devices: Collection[str] | None = None) -> RoutingRule:
    """Check a rule from a stranger and return it normalised; raise ``RuleError`` naming the bad field.

    ``devices``: the known device ids, to refuse a ``ring_device`` rule for a device that does not exist.
    """
    unknown = sorted(str(key) for key in data if key not in _RULE_KEYS)
    if unknown:
        raise RuleError(unknown[0], "unknown field")
    rule = RoutingRule(
        name=_text(data, "name", MAX_NAME_LENGTH, required=True) or "",
        enabled=_flag(data, "enabled", default=True),
        priority=_integer(data, "priority", 0, 1_000_000, default=100),
        action=_action(data),
        caller_pattern=_pattern(data, "caller_pattern"),
        dialled_pattern=_pattern(data, "dialled_pattern"),
        time_start=_hhmm(data, "time_start"),
        time_end=_hhmm(data, "time_end"),
        days=_days(data),
        time_zone=_zone(data),
        known_contact=_optional_flag(data, "known_contact"),
        device_id=_text(data, "device_id", 64),
        reject_code=None,
        reject_message=_text(data, "reject_message", MAX_MESSAGE_LENGTH),
    )
    if "rule_id" in data:
        rule["rule_id"] = _text(data, "rule_id", 64, required=True) or ""
    if (rule["time_start"] is None) != (rule["time_end"] is None):
        raise RuleError("time_end" if rule["time_end"] is None else "time_start", "a time range needs both ends")
    _check_action(rule, data, devices)
    return rule


def _check_action(rule: RoutingRule, data: Mapping[str, Any], devices: Collection[str] | None) -> None:
    action = RuleAction(rule["action"])
    if action is RuleAction.RING_DEVICE:
        device_id = rule.get("device_id")
        if not device_id:
            raise RuleError("device_id", "ring_device needs a device")
        if devices is not None and device_id not in devices:
            raise RuleError("device_id", f"no device {device_id!r}")
    else:
        rule["device_id"] = None
    if action is RuleAction.REJECT:
        code = data.get("reject_code")
        if code is not None:
            rule["reject_code"] = _integer(data, "reject_code", 400, 699, default=DEFAULT_REJECT_CODE)
        elif not rule.get("reject_message"):
            rule["reject_code"] = DEFAULT_REJECT_CODE
    else:
        rule["reject_message"] = None


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise RuleError(key, "required")
        return None
    if not isinstance(value, str):
        raise RuleError(key, "must be a string")
    value = value.strip()
    if not value:
        if required:
            raise RuleError(key, "required")
        return None
    if len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise RuleError(key, f"at most {limit} printable characters")
    return value


def _flag(data: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise RuleError(key, "must be true or false")
    return value


def _optional_flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise RuleError(key, "must be true, false or null")
    return value


def _integer(data: Mapping[str, Any], key: str, low: int, high: int, *, default: int) -> int:
    value = data.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleError(key, "must be an integer")
    if not low <= value <= high:
        raise RuleError(key, f"must be between {low} and {high}")
    return value


def _action(data: Mapping[str, Any]) -> str:
    value = data.get("action")
    choices = ", ".join(action.value for action in RuleAction)
    if not isinstance(value, str) or value not in {action.value for action in RuleAction}:
        raise RuleError("action", f"must be one of {choices}")
    return value


def _pattern(data: Mapping[str, Any], key: str) -> str | None:
    value = _text(data, key, MAX_PATTERN_LENGTH)
    if value is None:
        return None
    compact = _SEPARATORS.sub("", value)
    if not compact or not _PATTERN_CHARS.match(compact):
        raise RuleError(key, "a number pattern: digits, '+', '*', '?', [0-9] classes, or a word such as anonymous")
    depth = 0
    for ch in compact:
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth not in (0, 1):
            raise RuleError(key, "unbalanced [ ] in the pattern")
    if depth:
        raise RuleError(key, "unbalanced [ ] in the pattern")
    return value


def _hhmm(data: Mapping[str, Any], key: str) -> str | None:
    value = _text(data, key, 5)
    if value is not None and not _HHMM.match(value):
        raise RuleError(key, f"{value!r} is not a time of day HH:MM (00:00-23:59)")
    return value


def _days(data: Mapping[str, Any]) -> list[str]:
    value = data.get("days")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > len(DAYS):
        raise RuleError("days", "must be a list of mon, tue, wed, thu, fri, sat, sun")
    days = []
    for day in value:
        if not isinstance(day, str) or day.strip().lower()[:3] not in DAYS:
            raise RuleError("days", f"{day!r} is not one of mon, tue, wed, thu, fri, sat, sun")
        days.append(day.strip().lower()[:3])
    return [day for day in DAYS if day in days]


def _zone(data: Mapping[str, Any]) -> str | None:
    value = _text(data, "time_zone", 64)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise RuleError("time_zone", f"unknown time zone {value!r} (an IANA name such as Europe/Paris)") from err
    return value


def local_now(at: datetime | None, zone: ZoneInfo) -> datetime:
    """Return an aware datetime for ``at`` (naive is taken in ``zone``), or now."""
    if at is None:
        return datetime.now(zone)
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)

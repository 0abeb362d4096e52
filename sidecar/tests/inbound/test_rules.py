"""The rule evaluator, from tables: time ranges (midnight wrap, DST days, other zones), patterns, priority."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hold_slayer_sidecar.inbound.rules import (
    CallFacts,
    RuleError,
    caller_from_uri,
    decide,
    describe,
    in_time_range,
    normalise_number,
    pattern_matches,
    validate_rule,
)
from hold_slayer_sidecar.protocol import RoutingRule, RuleAction

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")


def rule(**fields: Any) -> RoutingRule:
    base: dict[str, Any] = {"name": "r", "enabled": True, "priority": 100, "action": "reject"}
    base.update(fields)
    return validate_rule(base)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (description, time_start, time_end, days, zone, instant in UTC, expected)
TIME_TABLE = [
    ("inside a day range", "09:00", "17:00", [], "America/New_York", "2026-06-03T14:00", True),  # 10:00 EDT
    ("end is exclusive", "09:00", "17:00", [], "America/New_York", "2026-06-03T21:00", False),  # 17:00 EDT
    ("start is inclusive", "09:00", "17:00", [], "America/New_York", "2026-06-03T13:00", True),  # 09:00 EDT
    ("wrap: evening part", "22:00", "06:00", [], "America/New_York", "2026-06-04T03:30", True),  # 23:30 EDT
    ("wrap: morning part", "22:00", "06:00", [], "America/New_York", "2026-06-04T09:59", True),  # 05:59 EDT
    ("wrap: daytime outside", "22:00", "06:00", [], "America/New_York", "2026-06-04T16:00", False),  # 12:00 EDT
    ("wrap: 06:00 itself is outside", "22:00", "06:00", [], "America/New_York", "2026-06-04T10:00", False),
    # Days are the day the range starts on: Friday night's range runs into Saturday morning.
    ("wrap: Fri night range on Sat 02:00", "22:00", "06:00", ["fri"], "America/New_York", "2026-06-06T06:00", True),
    ("wrap: Fri range not on Fri 02:00", "22:00", "06:00", ["fri"], "America/New_York", "2026-06-05T06:00", False),
    ("wrap: Fri range on Fri 23:00", "22:00", "06:00", ["fri"], "America/New_York", "2026-06-06T03:00", True),
    ("day list without wrap", "09:00", "17:00", ["sat", "sun"], "America/New_York", "2026-06-03T14:00", False),
    # Spring forward in New York, Sunday 8 March 2026, 02:00 EST -> 03:00 EDT. 10:30 UTC is 06:30 EDT: outside
    # "22:00-06:00" though the offset of the evening before (EST) would make it 05:30.
    ("DST spring: 06:30 EDT is outside", "22:00", "06:00", [], "America/New_York", "2026-03-08T10:30", False),
    ("DST spring: 05:30 EDT is inside", "22:00", "06:00", [], "America/New_York", "2026-03-08T09:30", True),
    ("DST spring: 21:30 EDT before start", "22:00", "06:00", [], "America/New_York", "2026-03-09T01:30", False),
    # Fall back, Sunday 1 November 2026, 02:00 EDT -> 01:00 EST. 11:30 UTC is 06:30 EST (07:30 by EDT).
    ("DST fall: 05:30 EST is inside", "22:00", "06:00", [], "America/New_York", "2026-11-01T10:30", True),
    ("DST fall: 06:30 EST is outside", "22:00", "06:00", [], "America/New_York", "2026-11-01T11:30", False),
    ("DST fall: both 01:30s are inside", "01:00", "02:00", [], "America/New_York", "2026-11-01T05:30", True),
    ("DST fall: second 01:30 inside", "01:00", "02:00", [], "America/New_York", "2026-11-01T06:30", True),
    # Another zone than the sidecar's: 23:00 in Paris is 17:00 in New York.
    ("other zone: Paris night", "22:00", "07:00", [], "Europe/Paris", "2026-06-03T21:00", True),
    ("other zone: Paris noon", "22:00", "07:00", [], "Europe/Paris", "2026-06-03T10:00", False),
    ("equal ends: a whole day", "08:00", "08:00", ["mon"], "Europe/Paris", "2026-06-02T05:00", True),  # Tue 07:00
    ("equal ends: not the next day", "08:00", "08:00", ["mon"], "Europe/Paris", "2026-06-02T07:00", False),
    ("days only, no range", None, None, ["wed"], "America/New_York", "2026-06-03T14:00", True),
    ("days only, other day", None, None, ["thu"], "America/New_York", "2026-06-03T14:00", False),
]


@pytest.mark.parametrize(
    ("start", "end", "days", "zone", "at", "expected"),
    [row[1:] for row in TIME_TABLE],
    ids=[row[0] for row in TIME_TABLE],
)
def test_time_ranges(start: str | None, end: str | None, days: list[str], zone: str, at: str, expected: bool) -> None:
    """A time range is wall-clock time in its zone, on the days the range starts."""
    r = rule(time_start=start, time_end=end, days=days, time_zone=zone)
    assert in_time_range(r, utc(at), PARIS) is expected


def test_time_zone_defaults_to_the_sidecars() -> None:
    """A rule without a zone uses the sidecar's."""
    r = rule(time_start="22:00", time_end="06:00")
    at = utc("2026-06-03T21:30")  # 23:30 in Paris, 17:30 in New York
    assert in_time_range(r, at, PARIS)
    assert not in_time_range(r, at, NY)


# (description, pattern, caller, expected)
PATTERN_TABLE = [
    ("toll-free prefix", "+1800*", "+18005551234", True),
    ("separators in the caller", "+1800*", "+1 (800) 555-1234", True),
    ("separators in the pattern", "+1 800 *", "+18005551234", True),
    ("other prefix", "+1800*", "+12125551234", False),
    ("national form is not international", "+1800*", "18005551234", False),
    ("anonymous", "anonymous", "anonymous", True),
    ("anonymous is a word, not a prefix", "anonymous", "+18005551234", False),
    ("case of words", "Anonymous", "ANONYMOUS", True),
    ("single digit wildcard", "+4420?1234", "+442071234", True),
    ("classes", "+4[45]*", "+4512345", True),
    ("negated class", "+4[!4]*", "+4412345", False),
]


@pytest.mark.parametrize(
    ("pattern", "caller", "expected"), [row[1:] for row in PATTERN_TABLE], ids=[row[0] for row in PATTERN_TABLE]
)
def test_patterns(pattern: str, caller: str, expected: bool) -> None:
    """Globs match normalised numbers."""
    assert pattern_matches(pattern, normalise_number(caller)) is expected


@pytest.mark.parametrize(
    ("uri", "number"),
    [
        ("sip:+18005551234@trunk.example", "+18005551234"),
        ("<sip:anonymous@anonymous.invalid>", "anonymous"),
        ("sip:Restricted@1.2.3.4", "anonymous"),
        ("sip:1.2.3.4", "1.2.3.4".replace(".", "")),
        ("tel:+1-800-555-1234;phone-context=x", "+18005551234"),
        ("sip:@host", "anonymous"),
        ("sip:%2B18005551234@trunk", "+18005551234"),
        ("sip:+18005551234?Route=%3Csip:evil%3E@trunk", "+18005551234"),
        ("sip:+1800\x00555\x1b1234@trunk", "+18005551234"),
        ("sip:" + "9" * 5000 + "@trunk", "9" * 64),
        ("", "anonymous"),
        ("garbage without scheme", "garbagewithoutscheme"),
    ],
)
def test_caller_from_uri(uri: str, number: str) -> None:
    """The caller is the URI's user part, normalised; a withheld number is anonymous."""
    assert caller_from_uri(uri) == number


def facts(caller: str = "+18005551234", at: str = "2026-06-04T03:30", known: bool = False) -> CallFacts:
    return CallFacts(caller=caller, dialled="+15551230000", at=utc(at), known_contact=known)


# (description, rules, facts, expected rule name or None)
DECIDE_TABLE: list[tuple[str, list[dict[str, Any]], CallFacts, str | None]] = [
    ("no rules: default", [], facts(), None),
    (
        "priority wins over list order",
        [{"name": "late", "priority": 50}, {"name": "early", "priority": 10}],
        facts(),
        "early",
    ),
    (
        "disabled rules are skipped",
        [{"name": "off", "priority": 1, "enabled": False}, {"name": "on", "priority": 2}],
        facts(),
        "on",
    ),
    ("only disabled rules: default", [{"name": "off", "enabled": False}], facts(), None),
    (
        "first matching, not first",
        [{"name": "anon", "priority": 1, "caller_pattern": "anonymous"}, {"name": "tf", "caller_pattern": "+1800*"}],
        facts(),
        "tf",
    ),
    ("contacts only: stranger", [{"name": "c", "known_contact": True}], facts(known=False), None),
    ("contacts only: contact", [{"name": "c", "known_contact": True}], facts(known=True), "c"),
    ("strangers only: contact", [{"name": "s", "known_contact": False}], facts(known=True), None),
    ("dialled pattern", [{"name": "d", "dialled_pattern": "+1555123*"}], facts(), "d"),
    ("dialled pattern misses", [{"name": "d", "dialled_pattern": "+1666*"}], facts(), None),
    (
        "toll-free at night in New York",
        [
            {
                "name": "tf",
                "caller_pattern": "+1800*",
                "time_start": "22:00",
                "time_end": "07:00",
                "time_zone": "America/New_York",
            }
        ],
        facts(at="2026-06-04T03:30"),
        "tf",
    ),
    (
        "toll-free by day in New York",
        [
            {
                "name": "tf",
                "caller_pattern": "+1800*",
                "time_start": "22:00",
                "time_end": "07:00",
                "time_zone": "America/New_York",
            }
        ],
        facts(at="2026-06-04T16:00"),
        None,
    ),
]


@pytest.mark.parametrize(
    ("rules", "call", "expected"), [row[1:] for row in DECIDE_TABLE], ids=[row[0] for row in DECIDE_TABLE]
)
def test_decide(rules: list[dict[str, Any]], call: CallFacts, expected: str | None) -> None:
    """The first enabled matching rule in priority order decides; none: the receptionist."""
    stored = [rule(rule_id=f"id{n}", **fields) for n, fields in enumerate(rules)]
    match = decide(stored, call, PARIS)
    assert (match.rule["name"] if match.rule else None) == expected
    if expected is None:
        assert match.action is RuleAction.RECEPTIONIST
        assert "receptionist" in describe(match)


def test_equal_priority_is_ordered_by_id() -> None:
    """Two rules of one priority are tried in id order, so the outcome never depends on storage order."""
    a, b = rule(rule_id="b", name="B"), rule(rule_id="a", name="A")
    assert decide([a, b], facts(), PARIS).rule == b


# (description, rule fields, field named in the error)
INVALID_TABLE: list[tuple[str, dict[str, Any], str]] = [
    ("unbalanced class", {"caller_pattern": "+1[80*"}, "caller_pattern"),
    ("stray bracket", {"caller_pattern": "+1]80*"}, "caller_pattern"),
    ("odd characters", {"caller_pattern": "+1800*;x"}, "caller_pattern"),
    ("too long pattern", {"caller_pattern": "1" * 65}, "caller_pattern"),
    ("pattern not a string", {"caller_pattern": 1800}, "caller_pattern"),
    ("bad time", {"time_start": "25:00", "time_end": "06:00"}, "time_start"),
    ("bad time format", {"time_start": "22:00", "time_end": "6"}, "time_end"),
    ("half a range", {"time_start": "22:00"}, "time_end"),
    ("unknown zone", {"time_zone": "Mars/Olympus"}, "time_zone"),
    ("path as zone", {"time_zone": "../../etc/passwd"}, "time_zone"),
    ("bad day", {"days": ["monday", "funday"]}, "days"),
    ("days not a list", {"days": "mon"}, "days"),
    ("reject code too low", {"reject_code": 399}, "reject_code"),
    ("reject code too high", {"reject_code": 700}, "reject_code"),
    ("reject code not a number", {"reject_code": "486"}, "reject_code"),
    ("ring_device without device", {"action": "ring_device"}, "device_id"),
    ("unknown action", {"action": "transfer"}, "action"),
    ("missing name", {"name": " "}, "name"),
    ("enabled not bool", {"enabled": "yes"}, "enabled"),
    ("priority bool", {"priority": True}, "priority"),
    ("known_contact not bool", {"known_contact": "yes"}, "known_contact"),
    ("unknown field", {"dial_out_to": "+15551234567"}, "dial_out_to"),
]


@pytest.mark.parametrize(("fields", "field"), [row[1:] for row in INVALID_TABLE], ids=[row[0] for row in INVALID_TABLE])
def test_invalid_rules(fields: dict[str, Any], field: str) -> None:
    """Each bad rule is refused with the field named."""
    with pytest.raises(RuleError) as caught:
        rule(**fields)
    assert caught.value.field == field


def test_ring_device_needs_a_known_device() -> None:
    """A ring_device rule names a device that exists."""
    data = {"name": "r", "enabled": True, "priority": 1, "action": "ring_device", "device_id": "kitchen"}
    with pytest.raises(RuleError, match="no device"):
        validate_rule(data, devices={"hall"})
    assert validate_rule(data, devices={"kitchen"})["device_id"] == "kitchen"


def test_reject_defaults_to_decline_and_message_replaces_code() -> None:
    """A reject rule without a code declines (603); one with only a message speaks it instead."""
    assert rule()["reject_code"] == 603
    spoken = rule(reject_message="We do not take sales calls.")
    assert spoken["reject_code"] is None and spoken["reject_message"] == "We do not take sales calls."
    assert rule(reject_code=486)["reject_code"] == 486
    assert rule(action="dnd", reject_code=486, reject_message="x").get("reject_message") is None

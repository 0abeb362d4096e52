"""Checks of devices and routing rules typed by a person (forms) or sent by an automation (actions).

Pure functions without Home Assistant imports; each returns the cleaned value and the form errors
(field -> translation key) so the subentry flows and the actions refuse the same things with the same words.
The sidecar checks everything again (``invalid_data``): this is for a clear message at the field.
"""

from __future__ import annotations

import fnmatch
import re
import zoneinfo
from functools import lru_cache
from typing import Any, Final

from .dialplan import DialPolicyError, check_target, is_emergency_number, normalize_number
from .protocol import DeviceData, DeviceKind, RoutingRule, RuleAction

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A caller id is a number ("+18005551234"), a SIP user, or a word the trunk puts there ("anonymous",
# "unavailable", RFC 3323 privacy): these characters, and the glob's own * ? [ ] !, cover them all.
_GLOB_CHARS: Final = re.compile(r"^[0-9A-Za-z+*?\[\]!\-]{1,64}$")
_TIME: Final = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
# A PBX extension is a short dial string: 1-8 digits (ITU-T E.164 leaves them to the private plan), * and #.
_EXTENSION: Final = re.compile(r"^[0-9*#]{1,8}$")
MIN_RING_TIMEOUT: Final = 5.0  # one ring cadence (about 5 s) at least, or the phone never sounds
MAX_RING_TIMEOUT: Final = 120.0  # carriers end an unanswered INVITE at about 2-3 minutes (RFC 3261 Timer C: >3 min)
MAX_NAME: Final = 64

Errors = dict[str, str]


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Return the IANA time zone names this machine knows, sorted (the form's choices)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def check_glob(pattern: str) -> str | None:
    """Return the error key for a caller or dialled-number pattern, or None when it is a usable glob."""
    if not _GLOB_CHARS.match(pattern):
        return "invalid_pattern"
    depth = 0
    for index, char in enumerate(pattern):
        if char == "[":
            if depth:
                return "invalid_pattern"
            depth = index + 1
        elif char == "]" and depth:
            if index == depth or (index == depth + 1 and pattern[depth] == "!"):
                return "invalid_pattern"  # "[]" or "[!]" match nothing: a typo, not a rule
            depth = 0
        elif char == "]":
            return "invalid_pattern"
    if depth:
        return "invalid_pattern"  # fnmatch would match a lone "[" literally: surely not what was meant
    re.compile(fnmatch.translate(pattern))
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def clean_device(data: dict[str, Any], *, kind: str | None = None) -> tuple[DeviceData, Errors]:
    """Return the device to save and the form errors (``kind`` is fixed when editing)."""
    errors: Errors = {}
    kind = kind or _text(data.get("kind"))
    name = _text(data.get("name"))
    if not name or len(name) > MAX_NAME:
        errors["name"] = "invalid_name"
    if kind not in set(DeviceKind):
        errors["kind"] = "invalid_kind"
    device: DeviceData = {"name": name, "kind": kind}
    if kind != DeviceKind.REGISTERED:
        address, error = _address(kind, _text(data.get("address")))
        if error:
            errors["address"] = error
        device["address"] = address
    priority = data.get("priority", 100)
    if not isinstance(priority, int | float) or isinstance(priority, bool) or not 0 <= priority <= 1000:
        errors["priority"] = "invalid_priority"
    else:
        device["priority"] = int(priority)
    timeout = data.get("ring_timeout_s", 20.0)
    if (
        not isinstance(timeout, int | float)
        or isinstance(timeout, bool)
        or not MIN_RING_TIMEOUT <= timeout <= MAX_RING_TIMEOUT
    ):
        errors["ring_timeout_s"] = "invalid_ring_timeout"
    else:
        device["ring_timeout_s"] = float(timeout)
    return device, errors


def _address(kind: str, address: str) -> tuple[str, str | None]:
    """Return the normalised address of a device, or the error key; emergency numbers never ring."""
    if kind == DeviceKind.EXTENSION:
        if not _EXTENSION.match(address):
            return address, "invalid_extension"
        # A PBX passes an extension it does not have to its trunk: 101 (UK police) would be dialled.
        return address, "emergency_number" if is_emergency_number(address) else None
    try:
        target = check_target(address)
    except DialPolicyError as err:
        return address, err.code  # "emergency_number" or "invalid_target"
    if kind == DeviceKind.NUMBER and target.number is None:
        return address, "invalid_number"
    if kind == DeviceKind.SIP_URI and target.uri is None:
        return address, "invalid_sip_uri"
    return target.value, None


def clean_rule(data: dict[str, Any], device_ids: set[str]) -> tuple[RoutingRule, Errors]:
    """Return the routing rule to save and the form errors; ``device_ids`` are the devices that exist."""
    errors: Errors = {}
    name = _text(data.get("name"))
    if not name or len(name) > MAX_NAME:
        errors["name"] = "invalid_name"
    action = _text(data.get("action"))
    if action not in set(RuleAction):
        errors["action"] = "invalid_action"
    priority = data.get("priority", 100)
    if not isinstance(priority, int | float) or isinstance(priority, bool) or not 0 <= priority <= 1000:
        errors["priority"] = "invalid_priority"
        priority = 100
    rule: RoutingRule = {
        "name": name,
        "enabled": data.get("enabled", True) is not False,
        "priority": int(priority),
        "action": action,
    }
    for key in ("caller_pattern", "dialled_pattern"):
        pattern = _text(data.get(key))
        if pattern and (error := check_glob(pattern)):
            errors[key] = error
        rule[key] = pattern or None
    _clean_times(data, rule, errors)
    _clean_action(data, rule, errors, device_ids)
    known = data.get("known_contact")
    rule["known_contact"] = (
        {"contacts": True, "strangers": False}.get(known)
        if isinstance(known, str)
        else (known if isinstance(known, bool) else None)
    )
    return rule, errors


def _clean_times(data: dict[str, Any], rule: RoutingRule, errors: Errors) -> None:
    start, end = _text(data.get("time_start")), _text(data.get("time_end"))
    for key, value in (("time_start", start), ("time_end", end)):
        if value and not _TIME.match(value):
            errors[key] = "invalid_time"
    if bool(start) != bool(end):
        errors["time_end" if start else "time_start"] = "time_range_incomplete"
    rule["time_start"], rule["time_end"] = start or None, end or None
    days = data.get("days") or []
    if not isinstance(days, list) or any(day not in DAYS for day in days):
        errors["days"] = "invalid_days"
        days = []
    rule["days"] = [day for day in DAYS if day in days]  # one order, whatever order they were ticked in
    zone = _text(data.get("time_zone"))
    if zone and zone not in time_zones():
        errors["time_zone"] = "invalid_time_zone"
    rule["time_zone"] = zone or None


def _clean_action(data: dict[str, Any], rule: RoutingRule, errors: Errors, device_ids: set[str]) -> None:
    device_id = _text(data.get("device_id")) or None
    if rule["action"] == RuleAction.RING_DEVICE and device_id is None:
        errors["device_id"] = "device_required"
    elif device_id is not None and device_id not in device_ids:
        errors["device_id"] = "unknown_device"
    rule["device_id"] = device_id if rule["action"] == RuleAction.RING_DEVICE else None
    code = data.get("reject_code")
    if code in (None, ""):
        rule["reject_code"] = None
    elif not isinstance(code, int | float) or isinstance(code, bool) or not 400 <= code <= 699 or code != int(code):
        errors["reject_code"] = "invalid_reject_code"  # a final SIP status (RFC 3261 s21.4-21.6)
    else:
        rule["reject_code"] = int(code)
    rule["reject_message"] = _text(data.get("reject_message")) or None


def check_caller(value: str) -> str | None:
    """Return the caller's number normalised for ``test_route`` ("anonymous" stays a word), or None when unusable."""
    text = value.strip()
    if text.lower() in ("anonymous", "unavailable", "unknown"):
        return text.lower()
    return normalize_number(text)

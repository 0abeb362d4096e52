"""Checks on what a user types: phone numbers, SIP URIs and DTMF digits."""

from __future__ import annotations

import re
from typing import Final

# A dialable number: optional +, digits and the usual visual separators (ITU-T E.123 notation).
_NUMBER_RE: Final = re.compile(r"^\+?[0-9][0-9 ().-]{1,30}$")
# sip:/sips: URI with a user part and a host (RFC 3261 section 19.1), kept deliberately permissive.
_SIP_URI_RE: Final = re.compile(r"^sips?:[^@\s]+@[^@\s]+$", re.IGNORECASE)
# DTMF symbols of RFC 4733 section 3.2: 0-9, *, # and A-D.
DTMF_RE: Final = re.compile(r"^[0-9*#A-Da-d]+$")


def is_valid_target(value: str) -> bool:
    """Return True when ``value`` is a phone number or a SIP URI."""
    value = value.strip()
    return bool(_NUMBER_RE.match(value) or _SIP_URI_RE.match(value))


def normalize_target(value: str) -> str:
    """Return the target as the sidecar wants it: SIP URIs as typed, numbers without separators."""
    value = value.strip()
    if _SIP_URI_RE.match(value):
        return value
    return re.sub(r"[ ().-]", "", value)

"""The dialling policy's emergency check as kamailio regular expressions (the edge cannot run Python).

A registered phone's call to an emergency number goes to the trunk at once, before any other check. The
edge recognises one with the same numbers and prefixes as ``dialplan.is_emergency_number``, as POSIX
extended expressions over the dialled digits (every separator removed, as the dialplan does). They may
match a little more than the dialplan (any 0-3 digits count as a country code): such a call still goes
to the trunk, only ahead of the call caps; they never match less (tested against the dialplan's table).
"""

from __future__ import annotations

from ..dialplan import _EMERGENCY_NAMES, _INTERNATIONAL, _NATIONAL, _OUTSIDE_LINE, EMERGENCY_NUMBERS


def _alternatives(values: tuple[str, ...] | frozenset[str]) -> str:
    # Longest first: POSIX leftmost-longest needs no ordering, but a reader checks the list more easily.
    return "|".join(sorted((value for value in values if value), key=lambda value: (-len(value), value)))


def emergency_digits_pattern() -> str:
    """One expression over the dialled digits: outside line, international prefix and country, trunk prefix."""
    outside = _alternatives(_OUTSIDE_LINE)
    international = _alternatives(_INTERNATIONAL)
    national = _alternatives(_NATIONAL)
    numbers = _alternatives(EMERGENCY_NUMBERS)
    # "+CC N" and "00 CC N" both reduce to digits; "+" adds nothing a digit pattern needs.
    prefixes = f"(({outside})?(({international})[0-9]{{0,3}})?|[0-9]{{0,3}})"
    return f"^{prefixes}({national})?({numbers})$"


def emergency_names_pattern() -> str:
    """Service URNs and user names routed to emergency services (RFC 5031, RFC 6881), over the lower-cased user."""
    # The dialplan's own expression, without the Python-only word boundary: a name is the whole user.
    # POSIX has no (?:...); the edge lower-cases the user before matching.
    names = _EMERGENCY_NAMES.pattern.removeprefix("^").removesuffix(r"\b").replace("(?:", "(")
    return f"^{names}([^a-z0-9]|$)"

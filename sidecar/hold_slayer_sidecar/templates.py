"""Spoken-line templates set by the user: one placeholder, bare, checked when set rather than when said."""

from __future__ import annotations

import string


def check_template(value: str, field_name: str) -> str:
    """Return ``value`` if its only placeholder is a bare ``{field_name}``; raise ValueError naming any other."""
    try:
        parsed = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(value)]
    except ValueError as err:
        raise ValueError(f"not a valid template: {err}") from err
    # "{name!x}" would raise only when the line is said, "{name:>99999999}" would make a huge text.
    unknown = sorted(
        field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        for field, spec, conversion in parsed
        if field is not None and (field != field_name or spec or conversion)
    )
    if unknown:
        raise ValueError(f"only {{{field_name}}} may be used, not {unknown}")
    return value

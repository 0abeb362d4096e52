"""Spoken-line templates set by the user: one placeholder, bare, checked when set rather than when said."""

from __future__ import annotations

from .protocol import template_placeholders_other_than


def check_template(value: str, field_name: str) -> str:
    """Return ``value`` if its only placeholder is a bare ``{field_name}``; raise ValueError naming any other."""
    try:
        unknown = template_placeholders_other_than(value, field_name)
    except ValueError as err:
        raise ValueError(f"not a valid template: {err}") from err
    if unknown:
        raise ValueError(f"only {{{field_name}}} may be used, not {unknown}")
    return value

"""The receptionist's options form: its template check and the ``configure`` data it sends (no sidecar needed)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.hold_slayer.options_flow import greeting_error, receptionist_data


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("Hi, you've reached {owner}'s line. Who's calling?", None),
        ("Hello, who is it?", None),
        ("{owner}, {owner}!", None),
        ("Literal braces {{like this}} are fine", None),
        ("", None),
        ("Hi, {name}'s line", "remove {name}"),
        ("{owner} and {caller} and {name}", "remove {caller}, {name}"),
        ("{owner.__class__.__init__}", "remove {owner.__class__.__init__}"),
        ("{owner[0]}", "remove {owner[0]}"),
        ("Hi {}", "remove {}"),
        ("{0}", "remove {0}"),
        ("Hi {owner!r}", "remove {owner!r}"),  # a conversion: the name's repr() said aloud
        ("Hi {owner:>99999999}", "remove {owner:>99999999}"),  # a format spec: a 100 MB greeting
    ],
)
def test_greeting_placeholders_other_than_owner_are_named(template: str, error: str | None) -> None:
    assert greeting_error(template, "owner") == error


@pytest.mark.parametrize("template", ["Hi {owner", "Hi owner}", "{", "{owner!x}", "{owner:>99999999}", "{owner:{"])
def test_a_broken_template_is_an_error_not_an_exception(template: str) -> None:
    problem = greeting_error(template, "owner")
    assert problem is not None and problem.startswith(("a brace without its pair", "remove"))


@pytest.mark.parametrize(
    ("user_input", "sent"),
    [
        ({"owner_name": " Alex ", "greeting": " Hi {owner} "}, {"owner_name": "Alex", "greeting": "Hi {owner}"}),
        ({"owner_name": "", "greeting": "   "}, {}),
        ({}, {}),
        ({"owner_name": None, "greeting": 12}, {"greeting": "12"}),  # the sidecar refuses what it must
    ],
)
def test_the_form_sends_only_what_was_filled_in(user_input: dict[str, Any], sent: dict[str, Any]) -> None:
    assert receptionist_data(user_input) == {"receptionist": sent}

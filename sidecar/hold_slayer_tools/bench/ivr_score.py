"""Scoring for the IVR benchmark: keys that led the caller away, and the time a person who knows the menu takes.

A key "leads away" when nothing reachable behind it (submenus, queues, what its menu does on silence) is the
department the intent names: after it the call cannot reach the right place without going back. Keys into
a person ("press 0 for an agent") are counted apart: a person routes the call on, so they are a detour, not
a dead end. The person who knows the menu listens to each prompt until the sentence that names their key
ends and presses it then (a faster caller barges in before the menu is said, which no listener can match);
says the reason as soon as a speech prompt ends; and sits through the timeouts where the path says ``wait``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hold_slayer_sidecar.nav.api import MenuOption
from hold_slayer_sidecar.nav.parser import reaches_person

DIGIT_S = 0.15  # one RFC 4733 digit plus the gap before the next
SPEECH_END_S = 0.8  # the simulator ends a caller's speech after 0.8 s of quiet (FORMAT.md)
SPOKEN_WORDS_PER_S = 2.5
_KEY_WORDS = {"*": "star", "#": "pound|hash", "0": "zero"}
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def reachable(company: Any, menu_id: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """Every queue a call in ``menu_id`` can still reach: by keys, spoken routes, silence or bad input."""
    if menu_id in seen:
        return set()
    menu = company.menus[menu_id]
    seen = seen | {menu_id}
    gotos = [*menu.options.values(), menu.no_input.then, menu.invalid.then]
    if menu.reason is not None:
        gotos += [menu.reason.default, *(r.goto for r in menu.reason.routes)]
    out: set[str] = set()
    for goto in gotos:
        if goto.queue is not None:
            out.add(goto.queue)
        elif goto.menu is not None:
            out |= reachable(company, goto.menu, seen)
        # A repeat replays this same menu: everything it leads to is counted here already (recursing into it
        # again never ended: a press of "9 to hear these options again" crashed the scoring of a whole run).
    return out


@dataclass(frozen=True, slots=True)
class KeyVerdict:
    """One key the call pressed, judged against the intent's department."""

    menu: str
    digit: str
    away: bool  # nothing behind the key is the right department
    to_person: bool  # the key reaches a person (operator, agent, "anything else")


def judge_keys(company: Any, presses: Iterable[tuple[str, str]], department: str) -> list[KeyVerdict]:
    """Judge each (menu id, digit) the company received."""
    out = []
    for menu_id, digit in presses:
        menu = company.menus.get(menu_id)
        option = menu.options.get(digit) if menu is not None else None
        if option is None:
            continue  # an invalid key: the company says so and asks again; no department was left behind
        if option.queue is not None:
            behind = {option.queue}
        elif option.menu is not None:
            behind = reachable(company, option.menu)
        elif option.repeat:
            behind = reachable(company, menu_id)
        else:
            behind = set()  # a message, then the company hangs up
        person = reaches_person(MenuOption(digit, option.label)) or option.label in ("operator", "agent")
        out.append(KeyVerdict(menu_id, digit, department not in behind, person))
    return out


def presses_from_report(lines: list[dict[str, Any]], call: str) -> list[tuple[str, str]]:
    """(menu id, digit) for each key the simulator received in ``call``: the menu whose prompt played last."""
    node = ""
    out = []
    for line in lines:
        if line.get("call") != call:
            continue
        if line.get("event") == "prompt_started" and line.get("node") not in ("greeting", "message"):
            node = str(line.get("node"))
        elif line.get("event") == "dtmf" and node:
            out.append((node, str(line.get("digit"))))
    return out


def _key_pattern(digit: str) -> re.Pattern[str]:
    spoken = _KEY_WORDS.get(digit) or (_NUMBERS[int(digit)] if digit.isdigit() else re.escape(digit))
    return re.compile(rf"\b(?:press|dial|enter)\s+(?:{re.escape(digit)}|{spoken})\b", re.IGNORECASE)


def key_said_at(text: str, digit: str) -> float | None:
    """Where in ``text`` (0..1, by characters) the sentence naming ``digit`` ends; None when it is not named."""
    found = _key_pattern(digit).search(text)
    if found is None:
        return None
    end = re.compile(r"[.!?](?:\s|$)").search(text, found.end())
    return (end.end() if end else len(text)) / max(1, len(text))


def expert_seconds(company: Any, steps: list[str], intent: str, length: Callable[[Any], float]) -> float | None:
    """Seconds from the answer to the queue for a person who knows the menu (``length``: a clip's seconds)."""
    t = length(company.greeting) if company.greeting is not None else 0.0
    menu_id = company.start
    for step in steps:
        menu = company.menus[menu_id]
        prompt_s = length(menu.prompt)
        if step == "wait":
            retry = menu.no_input
            extra = length(retry.prompt) if retry.prompt is not None else 0.0
            t += prompt_s + menu.timeout_s + retry.repeats * (extra + prompt_s + menu.timeout_s)
            goto = retry.then
        elif step == "say":
            t += prompt_s + max(1.0, len(intent.split()) / SPOKEN_WORDS_PER_S) + SPEECH_END_S
            goto = _spoken_route(menu, intent)
        else:
            at = key_said_at(menu.prompt.text or "", step[0])
            t += (prompt_s * at if at is not None else 0.0) + DIGIT_S * len(step)
            goto = menu.options.get(step[0])
        if goto is None:
            return None
        if goto.queue is not None:
            return round(t, 2)
        if goto.menu is None:
            return None
        menu_id = goto.menu
    return None


def _spoken_route(menu: Any, intent: str) -> Any:
    from hold_slayer_sim.script import keyword_in

    if menu.reason is not None:
        route = next((r for r in menu.reason.routes if any(keyword_in(intent, k) for k in r.keywords)), None)
        return route.goto if route is not None else menu.reason.default
    return next((o for o in menu.options.values() if any(keyword_in(intent, k) for k in o.keywords)), None)

"""The wait-or-press rule from a table: each row is one situation a careful caller meets, with its reason."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hold_slayer_sidecar.nav.api import MenuOption
from hold_slayer_sidecar.nav.decision import MenuHearing, Move, choose_move
from hold_slayer_sidecar.nav.matcher import ScoredOption

BILLING = MenuOption("1", "billing")
SUPPORT = MenuOption("2", "technical support")
MOVING = MenuOption("3", "start, stop or move service")
AGENT = MenuOption("0", "a representative")


def scored(*pairs: tuple[MenuOption, float]) -> tuple[ScoredOption, ...]:
    return tuple(sorted((ScoredOption(o, s) for o, s in pairs), key=lambda s: s.score, reverse=True))


@dataclass(frozen=True)
class Row:
    why: str
    hearing: MenuHearing
    move: Move
    key: str = ""  # the key pressed (PRESS only)


ROWS = [
    Row(
        "clear best on the first hearing: press at once",
        MenuHearing(scored((BILLING, 0.72), (SUPPORT, 0.20), (MOVING, 0.31))),
        Move.PRESS,
        "1",
    ),
    Row(
        "the menu is still playing: a better option may come",
        MenuHearing(scored((BILLING, 0.90), (SUPPORT, 0.10)), complete=False),
        Move.WAIT,
    ),
    Row(
        "close call (margin 0.04 < one shared word): hear the replay",
        MenuHearing(scored((BILLING, 0.60), (SUPPORT, 0.56))),
        Move.WAIT,
    ),
    Row(
        "weak best (0.38, under the clear floor) though far ahead: hear the replay",
        MenuHearing(scored((BILLING, 0.38), (SUPPORT, 0.10))),
        Move.WAIT,
    ),
    Row(
        "close call in a menu that takes words: say the reason",
        MenuHearing(scored((BILLING, 0.60), (SUPPORT, 0.56)), speech=True),
        Move.SAY,
    ),
    Row(
        "close call after the replay: the better one, it stands apart by more than hearing noise",
        MenuHearing(scored((BILLING, 0.60), (SUPPORT, 0.55)), replayed=True),
        Move.PRESS,
        "1",
    ),
    Row(
        "a tie after the replay with a person offered: the person routes it",
        MenuHearing(scored((BILLING, 0.60), (SUPPORT, 0.59), (AGENT, 0.2)), person=AGENT, replayed=True),
        Move.PRESS,
        "0",
    ),
    Row(
        "weak but the only fit after the replay: press it (waiting longer only ends the call)",
        MenuHearing(scored((BILLING, 0.36), (SUPPORT, 0.12)), replayed=True),
        Move.PRESS,
        "1",
    ),
    Row(
        "nothing fits on the first hearing, an agent offered: hear it again before settling for a person",
        MenuHearing(scored((BILLING, 0.12), (SUPPORT, 0.08), (AGENT, 0.1)), person=AGENT),
        Move.WAIT,
    ),
    Row(
        "nothing fits after the replay, an agent offered: press for the agent",
        MenuHearing(scored((BILLING, 0.12), (SUPPORT, 0.08), (AGENT, 0.1)), person=AGENT, replayed=True),
        Move.PRESS,
        "0",
    ),
    Row(
        "nothing fits, no agent offered, menu falls through to a queue: do nothing",
        MenuHearing(scored((BILLING, 0.12), (SUPPORT, 0.08)), replayed=True, falls_through=True),
        Move.WAIT,
    ),
    Row(
        "nothing fits, no agent, nothing said about silence: never press an operator the menu does not offer",
        MenuHearing(scored((BILLING, 0.12), (SUPPORT, 0.08)), replayed=True),
        Move.WAIT,
    ),
    Row(
        "nothing fits, no agent, and the company says silence ends the call: try the unannounced 0",
        MenuHearing(scored((BILLING, 0.12), (SUPPORT, 0.08)), replayed=True, ends_on_silence=True),
        Move.PRESS,
        "0",
    ),
    Row(
        "nothing fits but the menu takes words: say the reason",
        MenuHearing(scored((BILLING, 0.12), (SUPPORT, 0.08)), speech=True),
        Move.SAY,
    ),
    Row(
        "the person option is itself the clear best ('I want to talk to someone')",
        MenuHearing(scored((BILLING, 0.15), (SUPPORT, 0.10), (AGENT, 0.70)), person=AGENT),
        Move.PRESS,
        "0",
    ),
    Row(
        "the menu offers only a person: take it",
        MenuHearing(scored((AGENT, 0.10)), person=AGENT),
        Move.PRESS,
        "0",
    ),
    Row(
        "one option heard: it is clear of nothing, hear the replay",
        MenuHearing(scored((BILLING, 0.80))),
        Move.WAIT,
    ),
    Row(
        "one option, heard twice, and it fits: press it",
        MenuHearing(scored((BILLING, 0.80)), replayed=True),
        Move.PRESS,
        "1",
    ),
    Row(
        "one option heard twice that fits only weakly: the others were lost, do not take it for them",
        MenuHearing(scored((BILLING, 0.33)), replayed=True),
        Move.WAIT,
    ),
    Row(
        "heard once, too late for the replay, best clear of the rest: press it",
        MenuHearing(scored((BILLING, 0.50), (SUPPORT, 0.42)), replayed=True, heard_once=True),
        Move.PRESS,
        "1",
    ),
    Row(
        "heard once, too late for the replay, best fits weakly: stay on the line, no guess",
        MenuHearing(scored((BILLING, 0.38), (SUPPORT, 0.10)), replayed=True, heard_once=True),
        Move.WAIT,
    ),
    Row(
        "heard once, too late for the replay, best fits weakly, a person is offered: the person",
        MenuHearing(
            scored((BILLING, 0.38), (SUPPORT, 0.10), (AGENT, 0.05)), person=AGENT, replayed=True, heard_once=True
        ),
        Move.PRESS,
        "0",
    ),
    Row(
        "a weak tie after the replay, no person: a coin toss leads away half the time, stay on the line",
        MenuHearing(scored((BILLING, 0.36), (SUPPORT, 0.35)), replayed=True),
        Move.WAIT,
    ),
    Row(
        "a weak tie after the replay, no person, the menu says it falls through: stay on the line",
        MenuHearing(scored((BILLING, 0.36), (SUPPORT, 0.35)), replayed=True, falls_through=True),
        Move.WAIT,
    ),
    Row(
        "a weak tie after the replay, no person, silence ends the call: the better of the two",
        MenuHearing(scored((BILLING, 0.36), (SUPPORT, 0.35)), replayed=True, ends_on_silence=True),
        Move.PRESS,
        "1",
    ),
    Row(
        "a tie of two strong fits after the replay, no person: both are departments the reason means, take one",
        MenuHearing(scored((BILLING, 0.70), (SUPPORT, 0.69)), replayed=True),
        Move.PRESS,
        "1",
    ),
    Row(
        "the menu says where silence goes and that place fits the reason best: stay on the line",
        MenuHearing(scored((BILLING, 0.40), (SUPPORT, 0.10)), falls_through=True, fallthrough=0.55),
        Move.WAIT,
    ),
    Row(
        "the menu says where silence goes, a weak best stands apart and fits better: press, no replay is promised",
        MenuHearing(scored((BILLING, 0.34), (SUPPORT, 0.15)), falls_through=True, fallthrough=0.05),
        Move.PRESS,
        "1",
    ),
    Row(
        "the menu says where silence goes and nothing fits: stay on the line, never a department",
        MenuHearing(scored((BILLING, 0.22), (SUPPORT, 0.15)), falls_through=True, fallthrough=0.05),
        Move.WAIT,
    ),
    Row(
        "the menu says where silence goes, two weak options tie: stay on the line",
        MenuHearing(scored((BILLING, 0.36), (SUPPORT, 0.35)), falls_through=True, fallthrough=0.05),
        Move.WAIT,
    ),
    Row(
        "no usable option left (all tried) and no person: stay on the line",
        MenuHearing((), replayed=True),
        Move.WAIT,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.why for r in ROWS])
def test_wait_or_press(row: Row) -> None:
    verdict = choose_move(row.hearing)
    assert verdict.move is row.move, verdict.reason
    if row.move is Move.PRESS:
        assert verdict.option is not None and verdict.option.digit == row.key
    assert verdict.reason  # every move says why, for the transcript and the log


def test_no_press_leads_away_when_nothing_fits() -> None:
    """Across every kind of menu, a reason that fits nothing never presses a department's key."""
    for replayed in (False, True):
        for falls in (False, True):
            hearing = MenuHearing(scored((BILLING, 0.2), (SUPPORT, 0.1)), replayed=replayed, falls_through=falls)
            verdict = choose_move(hearing)
            assert verdict.move is Move.WAIT or (verdict.option is not None and verdict.option.digit == "0")

"""Wait or press: the careful caller's rule once a menu's options are scored against the reason for the call.

A person who does not know the menu presses only when one option is clearly theirs; when two are close or
none fits well they listen to the menu again (companies replay it after a few seconds of silence), or say
the reason when the menu takes words; they ask for a person only when the menu offers one, or when saying
nothing would end the call; and when nothing fits and the menu passes a silent caller on to a general queue,
they simply stay on the line. ``choose_move`` is that rule as a pure function, tested from tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .api import MenuOption
from .matcher import ScoredOption
from .parser import reaches_person


@dataclass(frozen=True, slots=True)
class DecisionTuning:
    """The thresholds of the rule; each value's reason is the phenomenon it guards against."""

    # On a first hearing the best label must mean what the caller means, not merely be from the same trade.
    # MiniLM puts two unrelated department names of one company ("report a power outage" for a bill, "make a
    # payment" for a charge) at 0.4-0.6 with the caller's words; a label at or above 0.45 that also clears
    # the runner-up by ``margin`` is one a person would take.
    clear_floor: float = 0.45
    # One content word shared with the reason is worth 0.12 (matcher._WORD_BONUS) and a recogniser error
    # flips one word per label often: two labels closer than that are decided by one misheard word.
    margin: float = 0.10
    # Below this the best label shares no meaning with the reason (unrelated short phrases score 0.0-0.3):
    # nothing fits, and pressing it sends the caller away from every department they could mean.
    fit_floor: float = 0.30
    # After the second hearing a near tie is still a tie: the better of two labels within this of each
    # other (the spread of one label's score between two hearings by the recogniser) is no choice.
    replay_margin: float = 0.03


DEFAULT_TUNING = DecisionTuning()


class Move(StrEnum):
    """What the caller does now."""

    PRESS = "press"  # the option in ``Verdict.option``
    SAY = "say"  # say the reason for the call
    WAIT = "wait"  # keep listening (for the rest of the menu, its replay, or the company's own fallthrough)


@dataclass(frozen=True, slots=True)
class MenuHearing:
    """What is known about one menu when the caller must decide."""

    ranked: tuple[ScoredOption, ...]  # usable options (no repeat/go-back, no key already tried), best first
    person: MenuOption | None = None  # an offered option that reaches a person ("press 0 for an agent")
    complete: bool = True  # the menu has ended: closing phrase, replay, or the company went quiet
    replayed: bool = False  # heard twice, or already answered once: no further hearing is coming
    speech: bool = False  # the menu also takes the reason in words, and it was not said yet
    falls_through: bool = False  # "stay on the line": a silent caller reaches a general queue
    ends_on_silence: bool = False  # "if you do not make a selection ... goodbye": silence ends the call
    # The last hearing is the only one: speech-to-text fell so far behind that the replay's words would come after
    # the company's no-input timeout (navigator._LATE_S). One hearing is half the evidence of two.
    heard_once: bool = False
    # How well the words for where a silent caller goes ("to reach the leasing office for anything else, stay on the
    # line") fit the reason, scored like a label; None when the menu names no such place.
    fallthrough: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The move, the option to press (PRESS only) and why, in words for the log and the transcript."""

    move: Move
    option: MenuOption | None = None
    reason: str = ""
    confidence: float = 0.0


def choose_move(  # noqa: PLR0911 - one return per situation of the table in tests/nav/test_nav_decision.py
    hearing: MenuHearing, tuning: DecisionTuning = DEFAULT_TUNING
) -> Verdict:
    """Decide like a careful caller (pure)."""
    if not hearing.complete:
        return Verdict(Move.WAIT, reason="menu may continue")
    if not hearing.ranked:
        return _nothing_fits(hearing, "no usable option")
    if hearing.person is not None and all(reaches_person(s.option) for s in hearing.ranked):
        return Verdict(Move.PRESS, hearing.person, "the menu offers only a person", 0.5)
    best = hearing.ranked[0]
    if hearing.falls_through and hearing.fallthrough is not None:
        if hearing.fallthrough >= best.score:
            why = f"the company's fallthrough fits best ({hearing.fallthrough:.2f} >= {_describe(best, None)})"
            return Verdict(Move.WAIT, reason=f"{why}: staying on the line")
        # A menu that tells a silent caller where they go has said what silence does: no replay is promised, and
        # waiting for one is choosing the fallthrough, which fits worse than the best option.
        hearing = replace(hearing, replayed=True)
    runner_up = hearing.ranked[1].score if len(hearing.ranked) > 1 else None
    gap = best.score - runner_up if runner_up is not None else None
    described = _describe(best, gap)
    # A person option that is itself the best match ("I want to talk to someone") is a department like any other.
    if best.score >= tuning.clear_floor and gap is not None and gap >= tuning.margin:
        return Verdict(Move.PRESS, best.option, f"clear best: {described}", best.score)
    if best.score < tuning.fit_floor:
        return _nothing_fits(hearing, f"nothing fits: {described}")
    return _unsure(hearing, best, gap, tuning)


def _unsure(  # noqa: PLR0911 - one return per situation of the table in tests/nav/test_nav_decision.py
    hearing: MenuHearing, best: ScoredOption, gap: float | None, tuning: DecisionTuning
) -> Verdict:
    """Something fits, but not clearly: say it if the menu takes words, else hear it again, else the better one."""
    described = _describe(best, gap)
    if hearing.speech:
        return Verdict(Move.SAY, reason=f"unsure ({described}): the menu takes words", confidence=best.score)
    if not hearing.replayed:
        why = "one option heard" if gap is None else "close call" if best.score >= tuning.clear_floor else "weak"
        return Verdict(Move.WAIT, reason=f"unsure ({why}: {described}): waiting for the menu to be replayed")
    # The last hearing: take the better option when it stands apart at all; a tie goes to a person if offered.
    # A lone option is compared with nothing (the other keys were lost or never said): it must fit on its own;
    # so must the best of a menu heard only once (no second hearing confirmed its words): below the clear floor
    # its label is as likely a misheard neighbour from the same trade as the caller's department.
    if (gap is None or hearing.heard_once) and best.score < tuning.clear_floor:
        why = "the one option heard" if gap is None else "heard once, the best"
        return _nothing_fits(hearing, f"{why} fits weakly: {described}")
    if gap is None or gap >= tuning.replay_margin:
        return Verdict(Move.PRESS, best.option, f"best after the replay: {described}", best.score)
    if hearing.person is not None:
        return Verdict(Move.PRESS, hearing.person, f"tie after the replay ({described}): person", 0.3)
    if best.score < tuning.clear_floor and (not hearing.ends_on_silence or hearing.falls_through):
        # A weak coin toss between two departments leads away half the time; a silent caller goes where the company
        # sends callers it could not sort (its operator or a general queue), where a person can route them. Two
        # options that both fit well are both departments the reason could mean: take the better one.
        return Verdict(Move.WAIT, reason=f"tie after the replay ({described}): staying on the line")
    why = "both fit" if best.score >= tuning.clear_floor else "silence ends the call"
    return Verdict(Move.PRESS, best.option, f"tie after the replay, {why}: {described}", best.score)


def _nothing_fits(hearing: MenuHearing, why: str) -> Verdict:
    """No option fits: hear it again, then a person if offered; else stay on the line unless that ends the call."""
    if hearing.speech:
        return Verdict(Move.SAY, reason=f"{why}: the menu takes words", confidence=0.3)
    if not hearing.replayed:
        return Verdict(Move.WAIT, reason=f"{why}: waiting for the menu to be replayed")
    if hearing.person is not None:
        return Verdict(Move.PRESS, hearing.person, f"{why}: person option", 0.3)
    if hearing.ends_on_silence and not hearing.falls_through:
        # The company hangs up on a silent caller: "0" is the one key most menus route to a person unannounced.
        return Verdict(Move.PRESS, MenuOption("0", "operator (not offered)"), f"{why}: silence ends the call", 0.1)
    return Verdict(Move.WAIT, reason=f"{why}: staying on the line for the company's own fallthrough")


def _describe(best: ScoredOption, gap: float | None) -> str:
    margin = "alone" if gap is None else f"margin {gap:.2f}"
    return f"{best.option.digit} {best.option.label[:40]!r} {best.score:.2f}, {margin}"

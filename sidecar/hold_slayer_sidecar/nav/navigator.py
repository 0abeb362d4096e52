"""MenuNavigator: decide the next move in a phone menu (stored flow -> embedded matcher -> LLM -> fallback).

One shared instance serves every call: it is stateless per call and reads what happened from ``history``
(the prompts this call already answered), so it notices a menu that comes back because the input was not
understood and tries the next best option, then the one that reaches a person. ``for_call(flow)`` gives a
per-call navigator that follows a stored ``CallFlow`` (noticing a changed menu) and keeps a ``trace`` for the
learner. The prompt grows while the company talks; the navigator waits until the menu sounds complete
(closing phrase, the menu starting over, or the company gone quiet) before it presses, unless it was built
with an ``early_confidence`` to press sooner when one option clearly wins.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..voice.api import ChatModel, VoiceEngineError
from .api import MenuOption, NavAction, NavDecision, NavSource
from .decision import DEFAULT_TUNING, DecisionTuning, MenuHearing, Move, choose_move
from .embedder import EmbedderError
from .flows import CallFlow, FlowStep, FlowStepKind
from .matcher import MatchResult, MenuMatcher, content_words, without_company_words
from .parser import (
    after_last_key,
    anchor_keys,
    asks_for_data,
    asks_for_speech,
    clean_label,
    company_name,
    is_repeat,
    normalize,
    parse_options,
    reaches_person,
    replay_keys,
)
from .phonetic import sound_keys

_LOGGER = logging.getLogger(__name__)

_NOT_UNDERSTOOD = re.compile(
    r"\b(?:sorry|not a valid|invalid|didn't (?:get|catch|understand|hear)|did not (?:get|catch|understand|hear|receive)"
    r"|try again|please try|i'm having trouble|let's try)\b"
)
# Phrases that close a menu: after them no further option is coming.
_CLOSING = re.compile(
    r"\b(?:repeat|(?:hear|listen to)\b.*\bagain|operator|representative|agent|all other|anything else|everything else"
    r"|stay on the line|remain on the line|main menu|previous menu)\b"
)
_ANY_TIME = re.compile(r"\b(?:at any time|anytime)\b")
_STAY_ON_LINE = re.compile(r"\b(?:stay|remain|hold) on the line\b|\bcontinue to hold\b")
# The company says a silent caller is cut off: saying nothing would send the caller nowhere.
_ENDS_ON_SILENCE = re.compile(
    r"\b(?:(?:call|this call) will (?:be )?(?:end|ended|disconnect|disconnected|terminated)|we will disconnect"
    r"|no selection[^.]*goodbye)\b"
)
# "tell me why you're calling, or choose from the following": the options are still to come.
_MORE_COMING = re.compile(r"\b(?:or choose|choose from|the following|or (?:you can )?press|or select|options are)\b")
_DTMF = re.compile(r"^[0-9*#]{1,8}$")
# Companies wait 3-5 s after a menu before replaying it or routing a silent caller: when speech-to-text is this far
# behind the company at a menu's end, waiting for the next hearing's words means they arrive after that timeout.
_LATE_S = 3.0
_MAX_SAME_MENU = 3  # after this many answers to one menu, go for a person or keep waiting
_EARLY_MARGIN = 0.15
_EARLY_MIN_OPTIONS = 2
_LLM_SYSTEM = (
    "You help a caller get through a company's automated phone menu to the right department. "
    "Answer with one JSON object only, no prose: "
    '{"action": "dtmf" | "speak" | "wait", "digits": "<keys to press, for dtmf>", '
    '"text": "<what to say, for speak>", "confidence": <0..1>, "reason": "<short>"}. '
    'Use "wait" when the prompt offers no choice yet. Prefer options that reach a person when nothing fits.'
)


@dataclass(frozen=True, slots=True)
class NavRecord:
    """One decision of a call, with the prompt it answered (input for the learner)."""

    prompt: str
    options: tuple[MenuOption, ...]
    decision: NavDecision


def _labels_overlap(a: str, b: str) -> float:
    wa, wb = content_words(a), content_words(b)
    return len(wa & wb) / max(1, min(len(wa), len(wb))) if wa and wb else float(a.strip() == b.strip())


def same_menu(a: list[MenuOption] | tuple[MenuOption, ...], b: list[MenuOption] | tuple[MenuOption, ...]) -> bool:
    """Tell whether two option lists are one menu heard twice (one may be partial; STT noise allowed)."""
    la, lb = {o.digit: o.label for o in a}, {o.digit: o.label for o in b}
    small, large = (la, lb) if len(la) <= len(lb) else (lb, la)
    if not small or not set(small) <= set(large):
        return False
    agree = sum(_labels_overlap(small[d], large[d]) >= 0.5 for d in small)
    # A strict majority: a submenu's first keys often share a word with the menu before it ("report a lost
    # card" after "credit and debit cards") and must not pass for that menu coming back.
    return agree * 2 > len(small)


def prompt_matches_step(prompt: str, options: list[MenuOption], step: FlowStep) -> bool:
    """Tell whether the heard prompt is still the menu ``step`` was learned from (same keys, similar labels)."""
    if step.options:
        heard = {o.digit: o.label for o in options}
        if set(heard) != set(step.options):
            return False
        return all(_labels_overlap(heard[d], label) >= 0.5 for d, label in step.options.items())
    if step.expect:
        return _labels_overlap(normalize(prompt), normalize(step.expect)) >= 0.6
    return True


def replays_menu(earlier: str, now: str) -> bool:
    """Tell whether ``now`` is the menu of ``earlier`` played again (its start so far), heard with other errors.

    A replay starts over with one of the menu's keys (its first, or the first of the menu proper when the greeting
    before it offered a key of its own: "for a safety recall, press 8 at any time") and offers no key the menu did
    not, and the two hearings agree on at least half of the labels both have. Another menu (the company moved on by
    itself) has keys of its own or other labels; a replay heard in another garbling still shares a word or a word's
    sound per label often enough.
    """
    before, after = replay_keys(earlier), replay_keys(now)
    if not before or not after or after[0] not in before or not set(after) <= set(before):
        return False
    old = {o.digit: o.label for o in parse_options(earlier)}
    new = {o.digit: o.label for o in parse_options(now)}
    common = [d for d in new if d in old]
    if not common:
        return False
    agree = sum(_labels_agree(old[d], new[d]) for d in common)
    return agree * 2 >= len(common)


def with_earlier_hearings(earlier: Sequence[str], heard: str) -> str:
    """Return ``heard`` preceded by the latest earlier turns it replays (one menu heard again), else ``heard``.

    Each earlier hearing is compared with ``heard`` on its own: a turn it does not replay (a greeting, an input node
    the company left, another menu) ends the run, so only hearings of the menu now playing are read together.
    """
    same: list[str] = []
    for turn in reversed(earlier):
        if not replays_menu(turn, heard):
            break
        same.insert(0, turn)
    return " ".join([*same, heard]) if same else heard


def _labels_agree(a: str, b: str) -> bool:
    """Two hearings of one label: a content word in common, or a word that sounds alike (consonant skeleton)."""
    wa, wb = content_words(a), content_words(b)
    return bool(wa & wb) or bool(sound_keys(sorted(wa)) & sound_keys(sorted(wb)))


def menu_sounds_complete(prompt: str) -> bool:
    """Tell whether the menu in ``prompt`` has ended: a closing phrase after the last key, or a key offered twice."""
    if _heard_twice(prompt):
        return True  # the menu started over inside this prompt
    # The closing phrase must belong to the last key heard ("for anything else, press 0"); words after it
    # may be the next option still being spoken ("... For all other changes" before its "press 2").
    last_option, rest = after_last_key(prompt)
    if len(set(anchor_keys(prompt))) == 1 and _ANY_TIME.search(last_option):
        return False  # "to speak with an operator, press 0 at any time": a greeting's notice, the menu is to come
    return bool(_CLOSING.search(last_option)) or bool(_STAY_ON_LINE.search(rest))


class MenuNavigator:
    """Implements ``Navigator``; never raises for backend failures (falls back to embedded, then WAIT)."""

    def __init__(
        self,
        matcher: MenuMatcher | None = None,
        *,
        llm: ChatModel | None = None,
        flow: CallFlow | None = None,
        embedded: bool = True,
        llm_timeout_s: float = 8.0,
        early_confidence: float | None = None,
        tuning: DecisionTuning = DEFAULT_TUNING,
    ) -> None:
        self._matcher = matcher
        self._embedded = embedded
        self._llm = llm
        self._flow = flow
        self._cursor = 0
        self._llm_timeout = llm_timeout_s
        self._early_confidence = early_confidence
        self._tuning = tuning
        self._per_call = flow is not None
        self.trace: list[NavRecord] = []  # filled only by per-call navigators (see for_call)
        self.menu_changed = False  # a stored flow no longer matched what the company said
        self._waited_on = ""  # the prompt last answered with WAIT (per-call navigators only)
        self._company = ""  # the company's name as greeted (per-call navigators only)

    def for_call(self, flow: CallFlow | None = None) -> MenuNavigator:
        """Return a navigator for one call (sharing models): follows ``flow`` if given and records a trace."""
        nav = MenuNavigator(
            self._shared_matcher(),
            llm=self._llm,
            flow=flow,
            embedded=self._embedded,
            llm_timeout_s=self._llm_timeout,
            early_confidence=self._early_confidence,
            tuning=self._tuning,
        )
        nav._per_call = True
        return nav

    def _shared_matcher(self) -> MenuMatcher | None:
        if self._matcher is None and self._embedded:
            self._matcher = MenuMatcher()  # loads its model lazily on first use
        return self._matcher

    async def decide(
        self,
        prompt: str,
        intent: str,
        *,
        history: list[str],
        behind_s: float = 0.0,
        earlier: Sequence[str] = (),
    ) -> NavDecision:
        """Next move for ``prompt`` (the company's words since the last move or pause): DTMF, SPEAK or WAIT.

        The call starts a new turn after the company's own pause with no key from us (calls/greeting.py
        turn_gap_lasted) and passes the turns before it in ``earlier``: a menu replayed after its no-input timeout is
        read together with its first hearing, the second half of the evidence, instead of as a first hearing that
        would wait for a replay already played.
        """
        # The call asks about the very prompt it was told to wait on only once the company has gone quiet
        # after it (calls/navigation.py ask_if_settled): the menu has ended, choose from what was heard.
        settled = self._per_call and bool(prompt) and prompt == self._waited_on
        heard = prompt
        prompt = with_earlier_hearings(earlier, prompt)
        options = parse_options(prompt)
        decision = self._from_flow(prompt, options, settled=settled)
        if decision is None:
            late = settled and behind_s >= _LATE_S
            decision = await self._decide_fresh(prompt, intent, options, history, settled=settled, late=late)
        if self._per_call:
            waiting = decision.action is NavAction.WAIT
            self._waited_on = heard if waiting else ""
        if self._per_call and decision.action is NavAction.WAIT and options:
            # Why a menu went unanswered is the first question when a call misses its department.
            _LOGGER.info("wait (%s%s) after %r", decision.reason, ", settled" if settled else "", prompt[-160:])
        if self._per_call and decision.action is not NavAction.WAIT:
            self.trace.append(NavRecord(prompt, tuple(options), decision))
            _LOGGER.info(
                "%s %s%s (%.2f, %s) after %r",
                decision.action.value,
                decision.digits,
                decision.text,
                decision.confidence,
                decision.reason,
                prompt[-300:],
            )
        return decision

    # --- stored flow -------------------------------------------------------------------------------------

    def _current_step(self) -> FlowStep | None:
        """Return the flow step this prompt answers, skipping timing steps (the call manager's business)."""
        flow = self._flow
        if flow is None or self.menu_changed:
            return None
        while self._cursor < len(flow.steps) and flow.steps[self._cursor].kind is FlowStepKind.WAIT:
            self._cursor += 1
        if self._cursor >= len(flow.steps):
            return None
        step = flow.steps[self._cursor]
        # After HOLD/TRANSFER the flow says navigation is over: anything still asked is decided afresh.
        return None if step.kind in (FlowStepKind.HOLD, FlowStepKind.TRANSFER) else step

    def _from_flow(self, prompt: str, options: list[MenuOption], *, settled: bool = False) -> NavDecision | None:
        step = self._current_step()
        if step is None:
            return None
        if step.kind is FlowStepKind.DTMF:  # a hand-written blind step: press whatever is playing
            self._cursor += 1
            return NavDecision(NavAction.DTMF, digits=step.digits or "", confidence=1.0, source=NavSource.FLOW)
        if not options and not asks_for_speech(prompt):
            return NavDecision(NavAction.WAIT, source=NavSource.FLOW, reason="no menu in this prompt")
        verdict = _check_step(prompt, options, step)
        if verdict == "partial" and not settled:  # once the company is quiet, fewer keys means a changed menu
            return NavDecision(NavAction.WAIT, source=NavSource.FLOW, reason="menu still playing")
        if verdict == "changed":
            _LOGGER.info("menu differs from stored flow step %d (%s); deciding afresh", self._cursor, step.expect)
            self.menu_changed = True
            return None
        self._cursor += 1
        speak = step.kind is FlowStepKind.SPEAK
        return NavDecision(
            NavAction.SPEAK if speak else NavAction.DTMF,
            digits="" if speak else step.choice or "",
            text=step.text or "" if speak else "",
            confidence=1.0,
            source=NavSource.FLOW,
            options=tuple(options),
            reason="stored flow",
        )

    # --- fresh decision ----------------------------------------------------------------------------------

    async def _decide_fresh(
        self,
        prompt: str,
        intent: str,
        options: list[MenuOption],
        history: list[str],
        *,
        settled: bool = False,
        late: bool = False,
    ) -> NavDecision:
        answered = _times_answered(prompt, options, history)
        only_person = bool(options) and all(reaches_person(o) or is_repeat(o) for o in options)
        if asks_for_speech(prompt) and (not options or only_person):
            return self._speech_reply(prompt, intent, options, answered)
        if not options:
            return await self._no_options_reply(prompt, intent, history)
        if answered >= _MAX_SAME_MENU:
            return self._give_up(options, f"menu answered {answered} times")
        return await self._menu_reply(prompt, intent, options, history, answered, settled=settled, late=late)

    def _speech_reply(self, prompt: str, intent: str, options: list[MenuOption], answered: int) -> NavDecision:
        """Answer "tell me the reason for your call"; if that was not understood, ask for a person."""
        if not options and _MORE_COMING.search(normalize(prompt)):
            return NavDecision(NavAction.WAIT, reason="options announced, not heard yet")
        if answered == 0:
            return NavDecision(NavAction.SPEAK, text=intent, confidence=0.8, options=tuple(options), reason="asked why")
        person = next((o for o in options if reaches_person(o)), None)
        if person is not None:
            return NavDecision(
                NavAction.DTMF,
                digits=person.digit,
                confidence=0.5,
                options=tuple(options),
                reason="speech not understood: person option",
            )
        if answered < _MAX_SAME_MENU:
            return NavDecision(NavAction.SPEAK, text=intent, confidence=0.4, reason="asked again")
        return NavDecision(NavAction.WAIT, source=NavSource.FALLBACK, reason="speech not understood")

    async def _no_options_reply(self, prompt: str, intent: str, history: list[str]) -> NavDecision:
        """Handle a prompt without choices: greeting, "sorry", or a wording only an LLM might understand."""
        if self._llm is not None and len(prompt.split()) >= 6 and not _NOT_UNDERSTOOD.search(prompt.lower()):
            llm = await self._ask_llm(prompt, intent, [], history)
            if llm is not None:
                return llm
        why = "asks for data we do not have" if asks_for_data(prompt) else "no options in prompt"
        return NavDecision(NavAction.WAIT, source=NavSource.EMBEDDED, reason=why)

    async def _menu_reply(
        self,
        prompt: str,
        intent: str,
        options: list[MenuOption],
        history: list[str],
        answered: int,
        *,
        settled: bool = False,
        late: bool = False,
    ) -> NavDecision:
        """Embedded matcher first; the LLM only when the matcher is unsure; then the careful caller's rule."""
        opts = tuple(options)
        match = await self._match(self._without_company_words(intent, prompt, history), options, answered)
        # A menu that came back (not understood) is complete once every key heard before is offered again.
        again = answered > 0 and len(options) >= len(parse_options(history[-1]))
        complete = again or settled or menu_sounds_complete(prompt)
        # Pressing before the menu has ended costs a wrong department whenever a better option was still to
        # come or a label was misheard (measured: early presses lost 1 of 41 runs in text mode, 2-3 with
        # speech-to-text, for 2-4 s saved); so by default the navigator only presses on a complete menu.
        early = self._early_confidence is not None and _sure_enough(match, self._early_confidence)
        if not complete and not early:
            return NavDecision(NavAction.WAIT, options=opts, reason="menu may continue")
        if match is None:
            return self._give_up(options, "no matcher")
        norm = normalize(prompt)
        # Decide once the replay has ended (settled), or has offered every key again: never wait for a
        # third hearing, companies give up after one or two no-input replays.
        replayed = _heard_twice(prompt) and (settled or not self._per_call or _every_key_twice(prompt))
        # A one-option menu played twice reads "press 2 ... press 2": no other key between the two hearings.
        lone = sum(not is_repeat(o) for o in options) < 2
        replayed = replayed or (lone and any(anchor_keys(prompt).count(o.digit) >= 2 for o in options))
        # The company already talks on (its replay) while this hearing's words came in: the replay's words would
        # arrive after its own no-input timeout, so this hearing is the last one the caller can act on.
        heard_once = late and not replayed
        replayed = replayed or late
        hearing = MenuHearing(
            ranked=match.ranked,
            person=next((s.option for s in match.ranked if reaches_person(s.option)), None),
            replayed=replayed or answered > 0,
            speech=answered == 0 and asks_for_speech(prompt) and not asks_for_data(prompt),
            falls_through=bool(_STAY_ON_LINE.search(norm)),
            ends_on_silence=bool(_ENDS_ON_SILENCE.search(norm)),
            heard_once=heard_once and answered == 0,
            fallthrough=await self._fallthrough_fit(prompt, intent),
        )
        verdict = choose_move(hearing, self._tuning)
        if not verdict.reason.startswith("clear") and self._llm is not None:
            llm = await self._ask_llm(prompt, intent, options, history)
            if llm is not None:
                return llm
        if verdict.move is Move.SAY:
            return NavDecision(NavAction.SPEAK, text=intent, confidence=0.6, options=opts, reason=verdict.reason)
        if verdict.move is Move.WAIT or verdict.option is None:
            source = NavSource.FALLBACK if hearing.replayed else NavSource.EMBEDDED
            return NavDecision(NavAction.WAIT, source=source, options=opts, reason=verdict.reason)
        return NavDecision(
            NavAction.DTMF,
            digits=verdict.option.digit,
            confidence=round(min(1.0, max(0.0, verdict.confidence)), 3),
            source=NavSource.EMBEDDED,
            options=opts,
            reason=f"{verdict.reason}; try {answered + 1} on this menu" if answered else verdict.reason,
        )

    async def _fallthrough_fit(self, prompt: str, intent: str) -> float | None:
        """Score the words for where a silent caller goes (after the last key), like a label; None if unnamed."""
        place = fallthrough_place(prompt)
        matcher = self._shared_matcher()
        if not place or matcher is None:
            return None
        try:
            ranked = await asyncio.to_thread(matcher.rank, intent, [MenuOption("", place)])
        except EmbedderError:
            return None
        return ranked[0].score

    def _without_company_words(self, intent: str, prompt: str, history: list[str]) -> str:
        """Return the intent for matching: without the words of the company's name (heard in its greeting)."""
        name = company_name(prompt) or next((n for n in map(company_name, history) if n), "")
        if self._per_call:
            self._company = self._company or name  # later menus no longer say the name
            name = self._company
        return without_company_words(intent, name)

    def _give_up(self, options: list[MenuOption], why: str) -> NavDecision:
        person = next((o for o in options if reaches_person(o)), None)
        if person is not None:
            return NavDecision(
                NavAction.DTMF,
                digits=person.digit,
                confidence=0.3,
                source=NavSource.FALLBACK,
                options=tuple(options),
                reason=f"{why}: person option",
            )
        return NavDecision(NavAction.WAIT, source=NavSource.FALLBACK, options=tuple(options), reason=why)

    async def _match(self, intent: str, options: list[MenuOption], answered: int) -> MatchResult | None:
        """Rank with the embedded matcher; skip the options already tried on this menu (best first)."""
        matcher = self._shared_matcher()
        if matcher is None:
            return None
        try:
            if answered and self._per_call:
                # This call's own record says which keys it pressed (a spoken answer pressed none).
                pressed = self.trace[-answered:]
                tried = frozenset(r.decision.digits[:1] for r in pressed if r.decision.action is NavAction.DTMF)
                return await asyncio.to_thread(matcher.choose, intent, options, exclude=tried)
            if answered:
                ranked = await asyncio.to_thread(matcher.choose, intent, options)
                tried = frozenset(s.option.digit for s in ranked.ranked[:answered])
                return await asyncio.to_thread(matcher.choose, intent, options, exclude=tried)
            return await asyncio.to_thread(matcher.choose, intent, options)
        except EmbedderError as err:
            _LOGGER.warning("embedded matcher unavailable: %s", err)
            return None

    async def _ask_llm(
        self, prompt: str, intent: str, options: list[MenuOption], history: list[str]
    ) -> NavDecision | None:
        """Ask the LLM; None when it is dead, slow or talks nonsense (the caller falls back)."""
        assert self._llm is not None
        listed = "; ".join(f"{o.digit}: {o.label}" for o in options) or "(none parsed)"
        earlier = " | ".join(history[-3:]) or "(none)"
        user = (
            f"Caller's goal: {intent}\nMenu just heard: {prompt}\nOptions parsed: {listed}\nEarlier prompts: {earlier}"
        )
        try:
            answer = await asyncio.wait_for(self._llm.complete_json(_LLM_SYSTEM, user), self._llm_timeout)
        except (VoiceEngineError, TimeoutError) as err:
            _LOGGER.warning("LLM navigation failed (%s); falling back", err or type(err).__name__)
            return None
        except Exception:  # a broken LLM client must never drop the call in progress
            _LOGGER.exception("LLM client raised unexpectedly; falling back")
            return None
        return _llm_decision(answer, intent, options)


def _check_step(prompt: str, options: list[MenuOption], step: FlowStep) -> str:
    """Compare a LISTEN/SPEAK step with what was heard: "same", "partial" (menu still playing) or "changed"."""
    if step.kind is FlowStepKind.SPEAK:
        return "same" if asks_for_speech(prompt) or not step.expect else "changed"
    if step.choice and prompt_matches_step(prompt, options, step):
        return "same"
    heard_part = bool(step.options) and set(step.options) > {o.digit for o in options}
    return "partial" if heard_part and not menu_sounds_complete(prompt) else "changed"


def fallthrough_place(prompt: str) -> str:
    """Where the menu says a silent caller goes ("for anything else, stay on the line for the front desk"), or ""."""
    last_option, rest = after_last_key(prompt)
    for sentence in re.split(r"[.!?;]+\s*", f"{last_option}. {rest}"):
        if _STAY_ON_LINE.search(sentence) and not anchor_keys(sentence):
            place = clean_label(_STAY_ON_LINE.sub(" ", sentence))
            return place if content_words(place) else ""
    return ""


def _heard_twice(prompt: str) -> bool:
    """Tell whether the prompt holds the menu twice: a key offered again after another, then only keys heard before.

    A new key after the repeat means the first "repeat" was a misheard key (a garbled greeting read as "press 2.
    Press 3." before the menu's own "press 1, 2, 3, 4"): the menu is still going, not starting over.
    """
    keys = replay_keys(prompt)
    again = next((i for i, k in enumerate(keys) if k in keys[:i]), None)
    return again is not None and set(keys[again:]) <= set(keys[:again])


def _every_key_twice(prompt: str) -> bool:
    """Tell whether every key of the menu was offered at least twice (the replay is through)."""
    keys = replay_keys(prompt)
    return bool(keys) and all(keys.count(k) >= 2 for k in set(keys))


def _sure_enough(match: MatchResult | None, threshold: float) -> bool:
    """Tell whether the best option is clear enough to press before the menu has finished."""
    # One option heard says nothing about the ones still to come: wait for a second one at least.
    if match is None or match.option is None or len(match.ranked) < _EARLY_MIN_OPTIONS:
        return False
    best, runner_up = match.ranked[0], match.ranked[1]
    return best.option == match.option and best.score >= threshold and best.score - runner_up.score >= _EARLY_MARGIN


def _times_answered(prompt: str, options: list[MenuOption], history: list[str]) -> int:
    """How many times in a row this call already answered this same menu (it came back: not understood)."""
    count = 0
    speech = asks_for_speech(prompt) and not any(not reaches_person(o) for o in options)
    # Part of a menu (fewer keys than before) is a new submenu still playing unless the company said it did
    # not understand: its first keys may share words with the menu before ("card" in both).
    apology = bool(_NOT_UNDERSTOOD.search(prompt.lower()))
    for earlier in reversed(history):
        earlier_options = parse_options(earlier)
        whole = apology or len(options) >= len(earlier_options)
        if (options and earlier_options and whole and same_menu(earlier_options, options)) or (
            speech and asks_for_speech(earlier)
        ):
            count += 1
        else:
            break
    return count


def _llm_decision(answer: dict[str, Any], intent: str, options: list[MenuOption]) -> NavDecision | None:
    """Validate the LLM's JSON; None when it is not a usable decision."""
    action = str(answer.get("action", "")).lower()
    try:
        confidence = float(answer.get("confidence", 0.6))
    except (TypeError, ValueError):
        confidence = 0.6
    reason = str(answer.get("reason", ""))[:200]
    opts = tuple(options)
    if action == "dtmf":
        digits = str(answer.get("digits", "")).strip()
        if not _DTMF.match(digits):
            return None
        if options and digits[0] not in {o.digit for o in options}:
            return None  # pressing a key the menu never offered gets us nowhere
        return NavDecision(
            NavAction.DTMF, digits=digits, confidence=confidence, source=NavSource.LLM, options=opts, reason=reason
        )
    if action == "speak":
        text = str(answer.get("text") or intent).strip()[:300]
        return NavDecision(NavAction.SPEAK, text=text, confidence=confidence, source=NavSource.LLM, reason=reason)
    if action == "wait":
        return NavDecision(NavAction.WAIT, confidence=confidence, source=NavSource.LLM, reason=reason)
    return None

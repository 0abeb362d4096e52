"""A person who answers in the menus (after ringback, after the last key): probe "Hello?" and let the answer decide.

A person who picks up says a short greeting ("Hi, this is Sam.") and waits; an IVR's welcome goes on into its menu.
Words alone cannot tell them apart safely: a virtual assistant greets with a name too ("Hi, I'm Ava."). A person
answers "Hello?"; a recording does not. So when the words since our last move read like a person's greeting and
ask for nothing (no "press", "enter" or "say": a menu listening for speech would take our "Hello?" as its
answer), the call says the probe once the speaker pauses, and the detector judges whether what follows answers it
(audio/judge.py: an answer that starts right after the probe, in words a person uses).

Words can come too late or garbled: a noisy, lossy line turns "Glenview Plumbing, Ewan here." into "You're going to
be plumbing", and a loaded machine hands the words over seconds after the person stopped. So the pause itself is
evidence too: a short turn since our last move, then a second of quiet with no music, is what a person who picked up
does (an IVR's welcome runs on into its menu within a breath, and a menu that waits for input has said so in its
words). That pause is probed as well, unless the words already in read as a menu or a recording; the user's phone
rings only once the words read as a greeting, or the answer confirms a person.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..audio.content import classify_text, menu_text
from ..nav.flows import FlowStepKind
from ..protocol import CallState
from .events import (
    CancelTimer,
    Decide,
    Effect,
    EmitCallState,
    Observed,
    StartTimer,
    Timer,
    Transcribe,
    Transcribed,
)
from .navigation import current_step, listen, on_transcript
from .queue import cancel_early_ring, enter_hold, ring_early, say_probe
from .session import CallSession, StepWait
from .transitions import Result, goto

# A greeting's audio ("Hi, this is Sam, how can I help you?" is about 2.5 s; a slow one with a company's name about
# 4 s); a first segment since our move longer than this is a welcome or a menu, not a person waiting for us.
MAX_GREETING_S = 5.0

# A greeting with a name and an offer of help runs to about a dozen words ("Thanks for calling Acme, this is Sam,
# how can I help you today?"); an IVR's welcome with its first options runs longer before it pauses.
MAX_GREETING_WORDS = 16

# Quiet after a short turn since our move before the pause itself is probed: longer than the pauses an IVR leaves
# between its welcome and its menu or between two prompts (0.5-1.5 s; ITU-T P.59 puts even conversational pauses at
# 1.6 s on average), shorter than a person who picked up waits before asking "Hello?" themself (3-6 s). The
# detector reports SILENCE after its first second (audio/detector.py); a timer waits the rest.
PAUSE_PROBE_S = 2.0
# ... after at most this much speech since our move: a greeting's first breath group (1-3 s; ITU-T P.59's talk spurts
# average 1 s). A welcome with a menu's first options runs longer before such a pause, and its words, when they are
# late, must not have "Hello?" said into a menu that waits for its key.
PAUSE_TURN_MAX_S = 3.0


# The company's own move: quiet this long in the menus ends its turn, as our key or spoken line does. Longer than
# any pause inside or between prompts (0.5-1.5 s, see PAUSE_PROBE_S) and than the pause probe's wait; a menu that
# waits this long is waiting for input, and what it says next comes after a move of its own (a no-input re-prompt,
# a fallback transfer to a person, a queue). Without it, a person who picks up after a menu that timed out is judged
# together with the menu's words and never probed.
TURN_GAP_S = 3.0
EARLIER_TURNS_KEPT = 3  # a menu, its replay, and one turn before it (a greeting or an input node the company left)


def words_since_move(session: CallSession, event: Transcribed) -> str:
    """Return what the company said since our last move (key, spoken line), this transcript included."""
    if event.epoch and event.epoch == session.listen_epoch:
        return event.prompt if event.prompt is not None else f"{session.prompt} {event.text}".strip()
    return event.text.strip()


def may_be_person(text: str, since_move: str) -> bool:
    """Whether a segment's words read like a person's greeting in a context where "Hello?" asks nothing of a menu.

    The segment's own words count, or all words since our last move: a pause may cut a greeting in two ("Hi," and
    "this is Sam."), and speech-to-text may garble what came before ("Bye." for "Hi,") without undoing a "Hello.".
    """
    if not text.strip() or menu_text(since_move) or classify_text(since_move) == "recording":
        return False
    greeting = classify_text(text) == "agent" or classify_text(since_move) == "agent"
    return greeting and len(since_move.split()) <= MAX_GREETING_WORDS


def greets(session: CallSession, event: Transcribed) -> bool:
    """Whether this transcript, heard in the menus, should be settled by a probe."""
    policy = session.policy
    step = current_step(session)
    # After a probe whose answer window is over, a greeting may be probed again: a person who was not heard asks
    # "Hello, are you there?"; a recording that greets again costs one more "Hello?" (max_probes bounds them).
    cooling = session.last_probe_at is not None and event.at - session.last_probe_at < policy.greeting_probe_cooldown_s
    if event.greeting:
        return False  # a quick decode of a possible greeting is judged on its own (on_greeting_decode)
    return (
        session.state is CallState.IVR
        and not event.partial
        and policy.can_speak
        and not cooling
        and session.probes < policy.max_probes
        # Not while our key or our spoken reason answers the menu: the words heard are that menu's.
        and session.step_wait not in (StepWait.DTMF, StepWait.SPEAK)
        and (step is None or step.kind is FlowStepKind.LISTEN)
        and may_be_person(event.text, words_since_move(session, event))
    )


def heard_since_move(session: CallSession, epoch: int, seconds: float) -> CallSession:
    """Count a menu segment's speech towards the turn heard since our last move (a new epoch starts afresh)."""
    was_epoch, was_s = session.move_speech
    return replace(session, move_speech=(epoch, seconds + (was_s if was_epoch == epoch else 0.0)))


def waits_after_short_turn(session: CallSession, at: float) -> bool:
    """Whether the company went quiet after a short turn since our last move, with no words against a person."""
    policy = session.policy
    epoch, seconds = session.move_speech
    cooling = session.last_probe_at is not None and at - session.last_probe_at < policy.greeting_probe_cooldown_s
    step = current_step(session)
    return (
        session.state is CallState.IVR
        and policy.can_speak
        and not cooling
        and session.probes < policy.max_probes
        and session.step_wait is StepWait.LISTEN
        and (step is None or step.kind is FlowStepKind.LISTEN)
        and epoch == session.listen_epoch
        and 0.0 < seconds <= PAUSE_TURN_MAX_S
        and session.company_epoch != session.listen_epoch
        and not menu_text(session.prompt)
        and classify_text(session.prompt) != "recording"
    )


def pause_heard(session: CallSession, at: float, quiet_s: float) -> list[Effect]:
    """Start the wait for a pause to last PAUSE_PROBE_S (``quiet_s`` of it already heard) after a short turn."""
    if not waits_after_short_turn(session, at):
        return []
    return [StartTimer(Timer.PAUSE, max(0.0, PAUSE_PROBE_S - quiet_s))]


def turn_gap_heard(session: CallSession, quiet_s: float) -> list[Effect]:
    """Start the wait for the company's quiet in the menus to end its turn (``quiet_s`` of it already heard)."""
    if session.state is not CallState.IVR or session.step_wait is not StepWait.LISTEN:
        return []
    return [StartTimer(Timer.TURN_GAP, max(0.0, TURN_GAP_S - quiet_s))]


def turn_gap_lasted(session: CallSession, at: float) -> Result:
    """End the company's turn after TURN_GAP_S of quiet with no key from us: what it says next is a turn of its own.

    Only once every word before the quiet is in (the navigator had them all and chose no key) and while nothing of
    ours is under way: a new listen epoch then drops the old menu's words from what a greeting is judged with.
    """
    step = current_step(session)
    ready = (
        session.state is CallState.IVR
        and session.company_quiet
        and session.step_wait is StepWait.LISTEN
        and (step is None or step.kind is FlowStepKind.LISTEN)
        and session.transcribed_t_s >= session.quiet_t_s
        and bool(session.prompt)
    )
    if not ready:
        return session, []
    fresh, effects = listen(session)
    # The turn that ended is one hearing the next turn may replay (a menu after its no-input timeout); a few suffice:
    # companies replay a menu once or twice before they route a silent caller.
    earlier = (*session.earlier_hearings, session.prompt)[-EARLIER_TURNS_KEPT:]
    return replace(fresh, company_quiet=True, earlier_hearings=earlier), effects


def pause_lasted(session: CallSession, at: float) -> Result:
    """Probe the pause after a short turn once it has lasted, if nothing since changed what it may be."""
    if not (session.company_quiet and waits_after_short_turn(session, at)):
        return session, []
    return probe_pause(session, at)


def probe_pause(session: CallSession, at: float) -> Result:
    """Say "Hello?" into the pause after a short turn; ring the user's phone with it once the turn's words are in.

    The pause is what a person who picked up does; an IVR's welcome runs on into its menu within 1.5 s. Once the
    turn's words are in and read as neither a menu nor a recording (waits_after_short_turn), nothing but the answer
    can tell more, and the answer to "Hello?" comes 1-3 s after it: rung only then, a greeting that speech-to-text
    garbled (an accent, a lossy A-law line) rang the user 5-9 s after its first word. While the words are still
    on their way (a loaded machine), they may yet show a recording ("Please hold, someone will be with you."), so the
    phone waits for them or for the answer, as before. Only with ``CallPolicy.ring_on_pause`` (off: see there).
    """
    said, effects = say_probe(_probing(session, at), at)
    if words_in(session) and session.policy.ring_on_pause:
        return ring_early(said, [EmitCallState(), *effects])
    return said, [EmitCallState(), *effects]


def words_in(session: CallSession) -> bool:
    """Whether every menu segment heard since our last move has its transcript in (the turn's words are judged)."""
    return 0.0 < session.heard_t_s <= max(session.transcribed_t_s, session.greeting_t_s)


def greeting_partial(session: CallSession, event: Observed) -> list[Effect]:
    """Decode a menu segment still going on, unbiased, while it may be a person's opening (audio/detector.py)."""
    step = current_step(session)
    listening = session.state is CallState.IVR and session.step_wait in (StepWait.LISTEN, StepWait.DECIDE)
    stored = step is not None and step.kind is FlowStepKind.LISTEN and bool(step.choice)
    if event.audio is None or not listening or stored or not session.policy.can_navigate:
        return []
    if not may_greet(session, 0.0):
        return []
    rate = int(event.data.get("sample_rate", 8000))
    return [Transcribe(event.audio, event.t_s, session.listen_epoch, rate, partial=True, quick=True, greeting=True)]


def partial_greets(session: CallSession, event: Transcribed) -> bool:
    """Whether the words so far of speech still going on in the menus are a person's opening, to be probed.

    Only what a recording's opening does not say before its wording gives it away: a name standing alone ("this is
    Sam," / "Sam speaking") or words addressed to the caller (an offer of help, a request for their details). A menu's
    or a hold message's wording anywhere since our move rules it out. The probe's answer still decides the bridge.
    """
    policy = session.policy
    step = current_step(session)
    since_move = f"{session.prompt} {event.text}".strip()
    cooling = session.last_probe_at is not None and event.at - session.last_probe_at < policy.greeting_probe_cooldown_s
    return (
        session.state is CallState.IVR
        and policy.can_speak
        and not cooling
        and session.probes < policy.max_probes
        and session.no_greeting_epoch != session.listen_epoch
        and session.step_wait not in (StepWait.DTMF, StepWait.SPEAK)
        and (step is None or step.kind is FlowStepKind.LISTEN)
        and not menu_text(since_move)
        and classify_text(since_move) != "recording"
        and classify_text(event.text, partial=True) == "agent"
    )


def on_greeting_partial(session: CallSession, event: Transcribed) -> Result:
    """Ring the user's phone on a person's opening while they still speak; probe at their pause (probe_greeting)."""
    if session.state is CallState.PROBING:
        return session, []  # already settling this turn: the segment's own words follow
    if not partial_greets(session, event):
        if menu_text(event.text) or classify_text(event.text) == "recording":
            return replace(session, no_greeting_epoch=event.epoch), []  # no more greeting decodes in this menu
        return session, []
    return ring_early(*_probe_direct(session, event.at))


def may_greet(session: CallSession, seconds: float) -> bool:
    """Whether a menu segment should also be decoded at once without the menu prompt, for a person's greeting.

    Menu speech is decoded with a prompt of menu wording, and on a short unclear clip whisper then writes menu words
    ("Press the same." for "this is Sam."): the greeting would never read as one. And a menu decode waits behind
    other menu work. So while the words since our last move may still be a greeting, they are decoded once more,
    together and first, as queue speech is (calls/effects.py caps the audio since the move at MAX_GREETING_S).
    """
    policy = session.policy
    return (
        session.state is CallState.IVR
        and session.no_greeting_epoch != session.listen_epoch
        and not menu_text(session.prompt)
        and seconds <= MAX_GREETING_S
        and policy.can_speak
        and session.probes < policy.max_probes
        and session.step_wait not in (StepWait.DTMF, StepWait.SPEAK)
    )


def on_greeting_decode(session: CallSession, event: Transcribed) -> Result:
    """Probe a possible greeting if its quick decode reads as one; otherwise the menu decode decides."""
    if event.epoch != session.listen_epoch:
        return session, []
    if event.partial:
        return on_greeting_partial(session, event)
    session = replace(session, greeting_t_s=max(session.greeting_t_s, event.t_s))
    if session.state is CallState.PROBING and session.direct:
        return words_while_probing(session, event)
    # The decode covers every word since our move; its last sentence stands for the newest segment's own words
    # ("Service desk. Pre here. Hello." ends in a bare greeting that the whole does not read as).
    sentences = [part for part in re.split(r"(?<=[.!?])\s+", event.text.strip()) if part]
    last = sentences[-1] if sentences else event.text
    if not greets(session, replace(event, text=last, greeting=False)):
        words = len(event.text.split())
        company = menu_text(event.text) or classify_text(event.text) == "recording"
        if company or words > MAX_GREETING_WORDS // 2:
            # More words will not make a person of a menu, a recording or a long welcome ("You have reached Acme
            # Power and Water."; a person names themself within a few words): no more greeting decodes in this menu,
            # each of which runs ahead of the menu's own speech-to-text. Only a menu's or a recording's words keep
            # its pause from being probed: many words in a short turn are as often a fast talker misheard.
            return replace(session, no_greeting_epoch=event.epoch, company_epoch=event.epoch if company else -1), []
        return session, []
    return probe_greeting(session, event)


def words_while_probing(session: CallSession, event: Transcribed) -> Result:
    """Words since our move, in while their pause is probed: they ring the user's phone if they greet.

    The answer to the probe still decides the bridge, as for a greeting probed on its words; other words change
    nothing here (a menu answers "Hello?" with its re-prompt, which the detector reads).
    """
    since_move = words_since_move(session, event)
    company = menu_text(since_move) or classify_text(since_move) == "recording"
    if session.probe_pending and event.greeting and company:
        # Probed on words so far (a partial: "Hi, this is Nova,"), and the rest reads as a menu or a recording
        # ("... the virtual assistant"): back to the menus before "Hello?" is said into them, the ring cancelled.
        # Only on the unbiased decode: the menu decode, prompted with menu words, hears "Press the same." for
        # "this is Sam." (may_greet).
        return back_to_menus(session, event.at)
    sentences = [part for part in re.split(r"(?<=[.!?])\s+", event.text.strip()) if part]
    last = sentences[-1] if sentences else event.text
    return ring_early(session, []) if may_be_person(last, since_move) else (session, [])


def _probing(session: CallSession, at: float) -> CallSession:
    """Leave the menus to settle what may be a person's greeting with "Hello?" (said now or at the next pause)."""
    return replace(
        goto(session, CallState.PROBING, at),
        probe_pending=True,
        direct=True,
        step_wait=StepWait.NONE,
        ticket=session.ticket + 1,  # a navigator decision still on its way is void
    )


def _probe_direct(session: CallSession, at: float) -> Result:
    """Settle what may be a person's greeting: probe it at the speaker's next pause (PROBE_SAY at the latest)."""
    return _probing(session, at), [EmitCallState(), StartTimer(Timer.PROBE_SAY, session.policy.probe_quiet_wait_s)]


def probe_greeting(session: CallSession, event: Transcribed) -> Result:
    """Publish the words, then probe: at once if the speaker already paused, else at the next pause."""
    heard, effects = on_transcript(session, event)
    effects = [e for e in effects if not isinstance(e, Decide)]  # a menu decision waits for the answer
    probing, more = _probe_direct(heard, event.at)
    probing, effects = ring_early(probing, effects + more)
    if heard.company_quiet:
        said, more = say_probe(probing, event.at)
        return said, effects + more
    return probing, effects


def back_to_menus(session: CallSession, at: float) -> Result:
    """Listen to the menus again: the greeting was not a person's (nobody answered the probe)."""
    menus = replace(goto(session, CallState.IVR, at), ticket=session.ticket + 1, probe_pending=False, direct=False)
    menus, cancelled = cancel_early_ring(menus)
    listening, effects = listen(menus)
    return listening, [CancelTimer(Timer.PROBE_SAY), CancelTimer(Timer.PROBE), *cancelled, EmitCallState(), *effects]


def queue_after_greeting(session: CallSession, event: Observed) -> Result:
    """Hold music (or a long silence) after the greeting: it was the company's, and now the call is queued."""
    menus, effects = back_to_menus(session, event.at)
    held, more = enter_hold(menus, event.at, queue_heard=True)
    return held, effects + more

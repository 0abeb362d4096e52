"""The call state machine in the queue: hold, probing with "Hello?", the person, ringing and bridging the user.

Safety rule above all others: the user's phone is rung only after the detector reported HUMAN_DETECTED.
"""

from __future__ import annotations

from dataclasses import replace

from ..protocol import CallOutcome, CallState, EventType
from .events import (
    Bridge,
    BridgeDone,
    CancelTimer,
    DetectorNote,
    DialUser,
    Effect,
    Emit,
    EmitCallState,
    HangUp,
    Leg,
    NotifyDetector,
    Observed,
    Speak,
    SpeakDone,
    StartRecording,
    StartTimer,
    StopSpeaking,
    Timer,
    UserAnswered,
    UserDialed,
    UserDisconnected,
)
from .session import CallSession, StepWait
from .transitions import Result, finish, goto

# Probes said over the far side's speech and said again at its next pause, per call. A person stops to let us speak;
# a recording talks over our "Hello?" again and again: after this many, a collided probe counts as said.
MAX_COLLIDED_PROBES = 3


def enter_hold(session: CallSession, at: float, *, queue_heard: bool = False) -> Result:
    """Wait in the queue. The detector hears "navigation is over" only once the company stops talking.

    After the last key a company usually confirms in its IVR voice ("Please hold for a representative"):
    were the detector told at once, that short sentence followed by silence would look like a person.
    So unless the queue is already audible, IVR_DONE waits for music or silence (or ``settle_s``).
    """
    held = replace(
        goto(session, CallState.HOLD, at),
        step_wait=StepWait.NONE,
        hold_started_at=session.hold_started_at if session.hold_started_at is not None else at,
        ivr_done_pending=not queue_heard,
        queue_words=(),
    )
    effects: list[Effect] = [
        CancelTimer(Timer.IVR),
        CancelTimer(Timer.STEP),
        StartTimer(Timer.HOLD, session.policy.max_hold_s),
        Emit(EventType.HOLD_STARTED, {}),
        EmitCallState(),
    ]
    if queue_heard:
        effects.append(NotifyDetector(DetectorNote.IVR_DONE))
    else:
        effects.append(StartTimer(Timer.SETTLE, session.policy.settle_s))
    return held, effects


def ivr_done(session: CallSession) -> Result:
    """Tell the detector that navigation is over."""
    done = replace(session, ivr_done_pending=False)
    return done, [CancelTimer(Timer.SETTLE), NotifyDetector(DetectorNote.IVR_DONE)]


def probe(session: CallSession, at: float, *, onset_at: float | None = None) -> Result:
    """Start probing: say "Hello?" once the uncertain speech is followed by silence.

    Not at the end of a speech segment: a recording pauses between sentences, and its next sentence right
    after our "Hello?" would sound like an answer. A person stops and waits; the detector reports that
    wait as SILENCE (a second of quiet). Music instead, or no pause within probe_quiet_wait_s, ends probing.
    ``onset_at``: when the speaker's turn began, for a turn the detector heard end in a wait (see probe_cooling).
    """
    policy = session.policy
    cooling = probe_cooling(session, at, onset_at)
    if not policy.can_speak or cooling or session.probes >= policy.max_probes:
        return session, []  # the detector may still decide on its own
    probing = replace(goto(session, CallState.PROBING, at), probe_pending=True)
    return probing, [EmitCallState(), StartTimer(Timer.PROBE_SAY, policy.probe_quiet_wait_s)]


def probe_cooling(session: CallSession, at: float, onset_at: float | None = None) -> bool:
    """Whether the last spoken probe is too recent for another one (``probe_cooldown_s``).

    The cooldown keeps one stretch of speech that pauses again and again (a long message, a recording that talks
    on) to one "Hello?". A short turn that began after the last probe's answer window was over (``probe_wait_s``)
    and then waits in a hush (``onset_at``: the detector's "spoke briefly, then waited") is not that stretch: it is
    the moment a probe exists for. Held back, a person who picks up after an announcement that was probed waited up
    to 20 s for their "Hello?" (issue #22's heldout6: rung 8.8 s after "Renewals, Priti speaking."). ``max_probes``
    still bounds the probes of a call.
    """
    policy = session.policy
    if session.last_probe_at is None or at - session.last_probe_at >= policy.probe_cooldown_s:
        return False
    return onset_at is None or onset_at < session.last_probe_at + policy.probe_wait_s


def turn_onset_at(event: Observed) -> float:
    """When the turn an observation is about began, on the call's clock: its time less the stream time since onset."""
    return event.at - (event.t_s - float(event.data.get("onset_s", event.t_s)))


def say_probe(session: CallSession, at: float) -> Result:
    """Say the pending "Hello?" now (the cooldown and the probe count apply to spoken probes only)."""
    if session.state is not CallState.PROBING or not session.probe_pending:
        return session, []
    ticket = session.ticket + 1
    saying = replace(
        session,
        probe_pending=False,
        ticket=ticket,
        probes=session.probes + 1,
        last_probe_at=at,
        previous_probe_at=session.last_probe_at,
    )
    return saying, [CancelTimer(Timer.PROBE_SAY), Speak(session.policy.probe_text, ticket)]


def probe_again(session: CallSession, at: float) -> Result:
    """Say "Hello?" once more now: the answer to the last one had no words (the detector waited in quiet after it)."""
    if session.state is not CallState.PROBING or session.probe_pending or not session.policy.can_speak:
        return session, []
    again, effects = say_probe(replace(session, probe_pending=True), at)
    return again, [CancelTimer(Timer.PROBE), *effects]


def probe_collided(session: CallSession, at: float) -> Result:
    """Our "Hello?" ended while the far side spoke: not said (no count, no cooldown); say it at the next pause."""
    spent = session.probes_collided >= MAX_COLLIDED_PROBES
    if session.state is not CallState.PROBING or session.probe_pending or spent:
        return session, []
    again = replace(
        session,
        probe_pending=True,
        probes=max(0, session.probes - 1),
        last_probe_at=session.previous_probe_at,
        probes_collided=session.probes_collided + 1,
        ticket=session.ticket + 1,  # a late SpeakDone of the collided probe is void
    )
    return again, [CancelTimer(Timer.PROBE), StartTimer(Timer.PROBE_SAY, session.policy.probe_quiet_wait_s)]


def ring_early(session: CallSession, effects: list[Effect]) -> Result:
    """Ring the user's phone while the probe settles the greeting; the bridge still waits for a confirmed person.

    Picking up takes a person 5-20 s; the probe's answer is judged within ``probe_wait_s`` of the probe. Rung only
    at the confirmation, the user's phone would ring 4-7 s after the person's first word; rung now, it rings 1-3 s
    after it. A recording's greeting costs a ring that is cancelled (counted by ``scripts/run bench live``).
    """
    if not session.policy.ring_on_greeting:
        return session, effects
    return _ring_before_the_answer(session, effects)


def _ring_before_the_answer(session: CallSession, effects: list[Effect]) -> Result:
    """Dial the user's phone now, once per call: the bridge still waits for the probe's answer."""
    # One cancelled ring is the price of a greeting misread; a second in the same call (a person whose answer was
    # misheard, greeting again) would be a phone that rings and stops again and again: ring at the confirmation.
    once = session.early_rings_cancelled == 0
    if not once or session.early_ring or session.user_leg is not None:
        return session, effects
    rung = replace(session, early_ring=True)
    return rung, [DialUser(session.transfer_to), *effects]


def cancel_early_ring(session: CallSession) -> Result:
    """Stop ringing the user's phone: the greeting was not a person's."""
    if not session.early_ring:
        return session, []
    # A dial still on its way is hung up when it lands (queue.on_user_dialed); the call state going back to the
    # menus tells Home Assistant the ring is over.
    effects: list[Effect] = [HangUp(Leg.USER)] if session.user_leg is not None else []
    cancelled = session.early_rings_cancelled + 1
    return replace(session, early_ring=False, user_leg=None, user_up=False, early_rings_cancelled=cancelled), effects


def back_to_hold(session: CallSession, at: float) -> Result:
    """Leave probing: the speech was not a person answering."""
    if session.state is not CallState.PROBING:
        return session, []
    # A new ticket makes a late SpeakDone of the probe harmless.
    back = replace(goto(session, CallState.HOLD, at), ticket=session.ticket + 1, probe_pending=False)
    back, cancelled = cancel_early_ring(back)  # rung while the probe settled it: nobody answered
    return back, [CancelTimer(Timer.PROBE_SAY), CancelTimer(Timer.PROBE), *cancelled, EmitCallState()]


def ring_while_probing(session: CallSession, event: Observed) -> Result:
    """Say "Hello?" now and ring the user's phone: the hold's music left the line for a short turn (audio/judge.py).

    The answer to the probe still decides the bridge; a phone rung for a turn that nobody answered stops ringing
    (back_to_hold). Rung only at the answer, the user's phone rang 2.5-3.5 s after a greeting's last word (the probe,
    the reply, the replay test of its first 0.6 s), so never within 3 s of its first word.
    """
    if session.direct:
        return session, []  # a greeting probed in the menus is settled there (calls/greeting.py)
    effects: list[Effect] = []
    if session.state is CallState.HOLD:
        session, effects = probe(session, event.at, onset_at=turn_onset_at(event))
    session, more = say_probe(session, event.at)  # a probe pending for this turn is said now: the speaker waits
    effects += more
    if session.state is not CallState.PROBING or session.probe_pending or not session.policy.ring_when_music_left:
        return session, effects
    return _ring_before_the_answer(session, effects)


def human(session: CallSession, event: Observed) -> Result:
    """Handle a person answering: ring the user at once."""
    was_holding = session.hold_started_at is not None
    human = replace(
        goto(session, CallState.HUMAN, event.at),
        human_detected_at=event.at,
        hold_ended_at=event.at if was_holding else None,
        step_wait=StepWait.NONE,
        ticket=session.ticket + 1,
        probe_pending=False,
        direct=False,
    )
    # Ring the user first: every effect before DialUser adds to the time the person waits in silence. A phone rung
    # for the greeting (calls/greeting.py) already rings: it is the user's phone now, and the bridge may go ahead.
    early = session.early_ring
    human = replace(human, early_ring=False)
    effects: list[Effect] = [] if early else [DialUser(session.transfer_to)]
    if early and session.user_leg is not None:
        human = goto(human, CallState.RINGING_USER, event.at)
        effects.append(StartTimer(Timer.RING_USER, session.policy.ring_user_s))
    effects.append(EmitCallState())
    if was_holding:
        effects.append(Emit(EventType.HOLD_ENDED, {"hold_seconds": round(human.hold_seconds(event.at), 2)}))
    effects += [
        # The rule that decided (audio/judge.py's reason): a false transfer is traced to its rule from the events.
        Emit(
            EventType.HUMAN_DETECTED,
            {"confidence": event.confidence, "t_s": event.t_s, "rule": str(event.data.get("reason", ""))},
        ),
        *(CancelTimer(t) for t in (Timer.IVR, Timer.STEP, Timer.HOLD, Timer.PROBE, Timer.PROBE_SAY, Timer.SETTLE)),
    ]
    if early and session.user_up:  # the user picked up while the probe settled it: connect them now
        return on_user_answered(human, UserAnswered(event.at), effects)
    return courtesy(human, session.policy.courtesy_text, effects)


def courtesy(session: CallSession, text: str, effects: list[Effect] | None = None) -> Result:
    """Say a courtesy line to the person while the user's phone rings (a probe still playing is cut short)."""
    effects = list(effects or [])
    if not session.policy.can_speak or not text or session.closing:
        return session, effects
    ticket = session.ticket + 1
    return replace(session, ticket=ticket), [*effects, StopSpeaking(), Speak(text, ticket)]


def on_courtesy_said(session: CallSession, event: SpeakDone) -> Result:
    """After a courtesy line, wait ``still_connecting_every_s`` before the next one."""
    policy = session.policy
    if session.state not in (CallState.HUMAN, CallState.RINGING_USER) or not policy.still_connecting_text:
        return session, []
    return session, [StartTimer(Timer.COURTESY, policy.still_connecting_every_s)]


def still_connecting(session: CallSession, at: float) -> Result:
    """Tell the person the user's phone still rings (agents hang up on a silent line)."""
    if session.state not in (CallState.HUMAN, CallState.RINGING_USER) or session.user_up:
        return session, []
    return courtesy(session, session.policy.still_connecting_text)


def on_user_dialed(session: CallSession, event: UserDialed) -> Result:
    """Wait for the user to answer once the INVITE left (at most ring_user_s)."""
    if session.early_ring and session.state is CallState.PROBING:  # rung for a greeting: the probe still decides
        return replace(session, user_leg=event.leg_id), [
            Emit(EventType.USER_RINGING, {"transfer_to": session.transfer_to, "early": True})
        ]
    if session.state is not CallState.HUMAN:
        return replace(session, user_leg=event.leg_id), [HangUp(Leg.USER)]
    ringing = replace(goto(session, CallState.RINGING_USER, event.at), user_leg=event.leg_id)
    return ringing, [
        StartTimer(Timer.RING_USER, session.policy.ring_user_s),
        Emit(EventType.USER_RINGING, {"transfer_to": session.transfer_to}),
        EmitCallState(),
    ]


def on_user_answered(session: CallSession, event: UserAnswered, before: list[Effect] | None = None) -> Result:
    """Bridge the two legs once the user picks up (never before a person is confirmed)."""
    if session.early_ring and session.state is CallState.PROBING:
        return replace(session, user_up=True), []  # picked up while the probe settles: bridged once it is a person
    if session.state is not CallState.RINGING_USER or session.closing:
        return session, list(before or [])
    # Our line stops before the bridge: the user must hear the person, not the end of "one moment please".
    # A new ticket makes the cut line's SpeakDone (if any) harmless.
    answered = replace(session, user_up=True, ticket=session.ticket + 1)
    effects: list[Effect] = [CancelTimer(Timer.RING_USER), CancelTimer(Timer.COURTESY), StopSpeaking()]
    return answered, [*(before or []), *effects, Bridge(), StartRecording(Leg.USER)]


def on_bridged(session: CallSession, event: BridgeDone) -> Result:
    """Mark the call bridged once both legs are connected."""
    if session.state is not CallState.RINGING_USER:
        return session, []
    if not event.ok:
        return finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, f"bridge failed: {event.error}")
    bridged = goto(session, CallState.BRIDGED, event.at)
    return bridged, [StartRecording(Leg.MIX), Emit(EventType.BRIDGED, {}), EmitCallState()]


def on_user_gone(session: CallSession, event: UserDisconnected) -> Result:
    """Handle the end of the user's leg."""
    gone = replace(session, user_up=False)
    if event.lost and session.state in (CallState.BRIDGED, CallState.HUMAN, CallState.RINGING_USER):
        # The media worker died under both legs (they share it); do not blame the user.
        return finish(gone, event.at, CallState.FAILED, CallOutcome.FAILED, event.reason)
    if session.early_ring:  # the early ring was declined: ring again if the probe confirms a person
        return replace(gone, early_ring=False, user_leg=None), []
    if session.state is CallState.BRIDGED:
        return finish(gone, event.at, CallState.ENDED, CallOutcome.CONNECTED, "user hung up")
    if session.state in (CallState.HUMAN, CallState.RINGING_USER):
        detail = f"{event.status_code} {event.reason}".strip()
        return user_missed(gone, event.at, f"the user did not answer ({detail})")
    return gone, []


def user_missed(session: CallSession, at: float, reason: str) -> Result:
    """Handle a user who did not pick up: apologise to the person, then hang up (outcome user_missed)."""
    if session.closing:
        return session, []
    effects: list[Effect] = [CancelTimer(Timer.RING_USER), CancelTimer(Timer.COURTESY), StopSpeaking()]
    if session.user_leg is not None and session.state is CallState.RINGING_USER:
        effects.append(HangUp(Leg.USER))
    closing = replace(session, closing=True, reason=reason, user_up=False, user_leg=None)
    if not session.policy.can_speak or not session.policy.user_missed_text:
        return finish_user_missed(closing, at, effects)
    ticket = session.ticket + 1
    effects += [
        Speak(session.policy.user_missed_text, ticket),
        StartTimer(Timer.CLOSING, session.policy.closing_s),
    ]
    return replace(closing, ticket=ticket), effects


def finish_user_missed(session: CallSession, at: float, before: list[Effect] | None = None) -> Result:
    """End the call with outcome user_missed."""
    done, effects = finish(session, at, CallState.ENDED, CallOutcome.USER_MISSED, session.reason or "user missed")
    return done, (before or []) + effects

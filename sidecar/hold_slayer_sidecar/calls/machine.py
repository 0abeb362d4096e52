"""The call logic as a pure function: ``step(session, input) -> (session, effects)``.

No I/O, no clock, no randomness: every input carries its own time, so a recorded sequence of inputs
always produces the same states and effects. The manager runs the effects and feeds their outcomes back.

Safety rule above all others: the user's phone is rung only after the detector reported
HUMAN_DETECTED. A stored TRANSFER step therefore waits for a person like HOLD does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..audio.types import ObservationKind
from ..nav.api import NavAction
from ..nav.flows import FlowStep, FlowStepKind
from ..protocol import CallOutcome, CallState, EventType
from .events import (
    Bridge,
    BridgeDone,
    CancelTimer,
    CompanyAnswered,
    CompanyDisconnected,
    CompanyRinging,
    Decide,
    Decided,
    DetectorNote,
    Dial,
    Dialed,
    DialFailed,
    DialUser,
    DtmfDone,
    DtmfRequested,
    Effect,
    Emit,
    EmitCallState,
    HangUp,
    HangUpRequested,
    Input,
    Leg,
    NoteTranscript,
    NotifyDetector,
    Observed,
    RecordingStarted,
    SendDtmf,
    Speak,
    SpeakDone,
    Start,
    StartRecording,
    StartTimer,
    Timer,
    TimerFired,
    Transcribe,
    Transcribed,
    UserAnswered,
    UserDialed,
    UserDialFailed,
    UserDisconnected,
)
from .session import CallSession, StepWait

type Result = tuple[CallSession, list[Effect]]

# States in which the company's audio is still judged (navigation, queue, probing).
_LISTENING = frozenset({CallState.IVR, CallState.HOLD, CallState.PROBING})
_BEFORE_ANSWER = frozenset({CallState.DIALING, CallState.RINGING})
_AWAITING_HUMAN = _LISTENING


def step(session: CallSession, event: Input) -> Result:
    """Apply one input to a session; return the new session and the effects to run, in order."""
    if session.final:
        return session, []
    return _HANDLERS[type(event)](session, event)


def _on_dialed(session: CallSession, event: Dialed) -> Result:
    return replace(session, company_leg=event.leg_id), []


def _on_dial_failed(session: CallSession, event: DialFailed) -> Result:
    return _finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, event.reason)


def _on_user_dial_failed(session: CallSession, event: UserDialFailed) -> Result:
    return _user_missed(session, event.at, f"could not ring the user: {event.reason}")


def _on_hang_up_requested(session: CallSession, event: HangUpRequested) -> Result:
    outcome = CallOutcome.CONNECTED if session.state is CallState.BRIDGED else CallOutcome.CANCELLED
    return _finish(session, event.at, CallState.ENDED, outcome, "hung up on request")


def _on_dtmf_requested(session: CallSession, event: DtmfRequested) -> Result:
    if not session.company_up:
        return session, []
    return session, [SendDtmf(event.digits, 0)]


def _on_recording(session: CallSession, event: RecordingStarted) -> Result:
    return replace(session, recordings=(*session.recordings, event.path)), []


# ---------------------------------------------------------------- helpers


def _goto(session: CallSession, state: CallState, at: float) -> CallSession:
    return replace(session, state=state, state_since=at)


def _finish(session: CallSession, at: float, state: CallState, outcome: CallOutcome, reason: str) -> Result:
    """End the call: hang up what is still up, emit call_ended. Timers are cancelled by the manager."""
    effects: list[Effect] = []
    if session.company_leg is not None and (session.company_up or session.state in _BEFORE_ANSWER):
        effects.append(HangUp(Leg.COMPANY))
    if session.user_leg is not None and (session.user_up or session.state is CallState.RINGING_USER):
        effects.append(HangUp(Leg.USER))
    hold_ended = session.hold_ended_at
    if session.hold_started_at is not None and hold_ended is None:
        hold_ended = at
    done = replace(
        _goto(session, state, at),
        outcome=outcome.value,
        reason=reason,
        hold_ended_at=hold_ended,
        company_up=False,
        user_up=False,
        step_wait=StepWait.NONE,
    )
    effects += [
        EmitCallState(),
        Emit(
            EventType.CALL_ENDED,
            {"outcome": outcome.value, "reason": reason, "hold_seconds": round(done.hold_seconds(at), 2)},
        ),
    ]
    return done, effects


def _start(session: CallSession, event: Start) -> Result:
    started = replace(session, state=CallState.DIALING, state_since=event.at)
    return started, [
        EmitCallState(),
        Dial(session.target),
        StartTimer(Timer.RING, session.policy.max_ring_s),
    ]


def _on_company_ringing(session: CallSession, event: CompanyRinging) -> Result:
    if session.state is not CallState.DIALING:
        return session, []
    return _goto(session, CallState.RINGING, event.at), [EmitCallState()]


def _on_company_answered(session: CallSession, event: CompanyAnswered) -> Result:
    if session.state not in _BEFORE_ANSWER:
        return session, []
    answered = replace(_goto(session, CallState.IVR, event.at), company_up=True)
    effects: list[Effect] = [
        CancelTimer(Timer.RING),
        StartRecording(Leg.COMPANY),
        StartTimer(Timer.IVR, session.policy.max_ivr_s),
        EmitCallState(),
    ]
    if answered.flow is not None:
        answered, more = _run_flow(answered, event.at)
    elif answered.policy.can_navigate and answered.intent:
        answered, more = _listen(answered)
    else:
        more = []  # no flow, no navigator: wait for the detector to hear the queue
    return answered, effects + more


def _on_company_gone(session: CallSession, event: CompanyDisconnected) -> Result:
    detail = f"{event.status_code} {event.reason}".strip()
    if session.state in _BEFORE_ANSWER:
        return _finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, f"company did not answer: {detail}")
    session = replace(session, company_up=False)
    if session.state is CallState.BRIDGED:
        return _finish(session, event.at, CallState.ENDED, CallOutcome.CONNECTED, "company hung up")
    if session.state in (CallState.HUMAN, CallState.RINGING_USER):
        reason = "the person hung up before the user answered"
        return _finish(session, event.at, CallState.ENDED, CallOutcome.USER_MISSED, reason)
    return _finish(session, event.at, CallState.ENDED, CallOutcome.NO_HUMAN, "company hung up before a person answered")


# ---------------------------------------------------------------- detector observations


def _on_observation(session: CallSession, event: Observed) -> Result:
    if session.state not in _LISTENING:
        return session, []
    handler = _OBSERVATIONS.get(event.kind)
    return handler(session, event) if handler is not None else (session, [])


def _on_uncertain(session: CallSession, event: Observed) -> Result:
    if session.state is not CallState.HOLD:
        return session, []
    return _probe(session, event.at)


def _on_hold_heard(session: CallSession, event: Observed) -> Result:
    if session.state is CallState.PROBING:
        return _back_to_hold(session, event.at)
    if session.state is CallState.HOLD and session.ivr_done_pending:
        return _ivr_done(session)
    if session.state is not CallState.IVR:
        return session, []
    # A stored flow knows better than one burst of music: some menus play music between levels.
    if session.flow is not None and session.step_index < len(session.flow.steps):
        return session, []
    return _enter_hold(session, event.at, queue_heard=True)


def _on_queue_sound(session: CallSession, event: Observed) -> Result:
    """Music or silence after the last menu step: the company has stopped talking, so navigation is over."""
    if session.state is CallState.PROBING and event.kind is ObservationKind.MUSIC:
        return _back_to_hold(session, event.at)
    if session.state is CallState.HOLD and session.ivr_done_pending:
        return _ivr_done(session)
    return session, []


def _ivr_done(session: CallSession) -> Result:
    done = replace(session, ivr_done_pending=False)
    return done, [CancelTimer(Timer.SETTLE), NotifyDetector(DetectorNote.IVR_DONE)]


def _on_segment(session: CallSession, event: Observed) -> Result:
    effects: list[Effect] = []
    needs_nav = session.state is CallState.IVR and session.step_wait in (StepWait.LISTEN, StepWait.DECIDE)
    current = _current_step(session)
    stored_choice = current.choice if current is not None and current.kind is FlowStepKind.LISTEN else None
    if event.audio is not None:
        epoch = session.listen_epoch if needs_nav and not stored_choice and session.policy.can_navigate else 0
        rate = int(event.data.get("sample_rate", 8000))
        effects.append(Transcribe(event.audio, event.t_s, epoch, rate))
    if session.state is CallState.PROBING:
        probing, more = _say_probe(session)  # the uncertain speech just ended
        return probing, effects + more
    if session.state is not CallState.IVR:
        return session, effects
    if session.step_wait is StepWait.SEGMENT:
        advanced, more = _advance(session, event.at)
        return advanced, effects + more
    if session.step_wait is StepWait.LISTEN:
        if stored_choice:
            sending, more = _send_digits(session, stored_choice)
            return sending, effects + more
        if not session.policy.can_navigate or event.audio is None:
            # Nothing can choose for us: skip the step rather than stall the call.
            advanced, more = _advance(session, event.at)
            return advanced, effects + more
    return session, effects


# ---------------------------------------------------------------- navigation (flow steps and navigator)


def _current_step(session: CallSession) -> FlowStep | None:
    if session.flow is None or session.step_index >= len(session.flow.steps):
        return None
    return session.flow.steps[session.step_index]


def _run_flow(session: CallSession, at: float) -> Result:
    """Start the current flow step."""
    current = _current_step(session)
    if current is None or current.kind in (FlowStepKind.HOLD, FlowStepKind.TRANSFER):
        # TRANSFER also waits for HUMAN_DETECTED: the user is never rung for a recording.
        return _enter_hold(session, at)
    if current.kind is FlowStepKind.DTMF:
        return _send_digits(session, current.digits or "")
    if current.kind is FlowStepKind.LISTEN:
        return _listen(session)
    if current.kind is FlowStepKind.SPEAK:
        ticket = session.ticket + 1
        return replace(session, step_wait=StepWait.SPEAK, ticket=ticket), [Speak(current.text or "", ticket)]
    if current.seconds is not None:  # WAIT for a time
        return replace(session, step_wait=StepWait.TIMER), [StartTimer(Timer.STEP, current.seconds)]
    return replace(session, step_wait=StepWait.SEGMENT), []  # WAIT for the end of the next prompt


def _advance(session: CallSession, at: float) -> Result:
    """Finish the current step: move on (flow) or listen to the next menu (navigator)."""
    if session.flow is None:
        return _listen(session)
    return _run_flow(replace(session, step_index=session.step_index + 1, step_wait=StepWait.NONE), at)


def _listen(session: CallSession) -> Result:
    fresh = replace(
        session, step_wait=StepWait.LISTEN, listen_epoch=session.listen_epoch + 1, prompt="", decided_prompt=""
    )
    return fresh, []


def _send_digits(session: CallSession, digits: str) -> Result:
    ticket = session.ticket + 1
    return replace(session, step_wait=StepWait.DTMF, ticket=ticket), [SendDtmf(digits, ticket)]


def _on_transcript(session: CallSession, event: Transcribed) -> Result:
    effects: list[Effect] = []
    if event.text:
        offset = round(event.at - session.started_at, 2)
        effects.append(Emit(EventType.TRANSCRIPT, {"speaker": "company", "text": event.text, "offset_s": offset}))
        if session.state in _LISTENING:
            effects.append(NoteTranscript(event.text, event.t_s))
    usable = (
        event.epoch != 0
        and event.epoch == session.listen_epoch
        and session.state is CallState.IVR
        and session.step_wait in (StepWait.LISTEN, StepWait.DECIDE)
    )
    if not usable or not event.text:
        return session, effects
    heard = replace(session, prompt=f"{session.prompt} {event.text}".strip())
    if heard.step_wait is StepWait.DECIDE:
        return heard, effects  # asked again when the pending decision says "wait"
    asked, more = _ask(heard)
    return asked, effects + more


def _ask(session: CallSession) -> Result:
    ticket = session.ticket + 1
    asking = replace(session, step_wait=StepWait.DECIDE, ticket=ticket, decided_prompt=session.prompt)
    return asking, [Decide(session.prompt, session.intent or "", session.history, ticket)]


def _on_decision(session: CallSession, event: Decided) -> Result:
    if event.ticket != session.ticket or session.step_wait is not StepWait.DECIDE:
        return session, []
    decision = event.decision
    remembered = replace(session, history=(*session.history, session.prompt))
    if decision is not None and decision.action is NavAction.DTMF and decision.digits:
        return _send_digits(remembered, decision.digits)
    if decision is not None and decision.action is NavAction.SPEAK and decision.text:
        ticket = session.ticket + 1
        return replace(remembered, step_wait=StepWait.SPEAK, ticket=ticket), [Speak(decision.text, ticket)]
    # WAIT (or a failed navigator): keep listening; ask again if more of the prompt arrived meanwhile.
    if session.prompt != session.decided_prompt:
        return _ask(session)
    return replace(session, step_wait=StepWait.LISTEN), []


def _on_dtmf_done(session: CallSession, event: DtmfDone) -> Result:
    effects: list[Effect] = []
    sent = session
    if event.ok:
        sent = replace(session, digits_sent=session.digits_sent + event.digits)
        source = "manual" if event.ticket == 0 else "auto"
        effects += [Emit(EventType.DTMF_SENT, {"digits": event.digits, "source": source}), EmitCallState()]
    if event.ticket == 0 or event.ticket != session.ticket or session.step_wait is not StepWait.DTMF:
        return sent, effects
    if session.state is not CallState.IVR:
        return replace(sent, step_wait=StepWait.NONE), effects
    advanced, more = _advance(sent, event.at)
    return advanced, effects + more


def _on_speak_done(session: CallSession, event: SpeakDone) -> Result:
    if event.ticket != session.ticket:
        return session, []
    if session.closing:
        return _finish_user_missed(session, event.at)
    if session.state is CallState.PROBING:
        if not event.ok:
            return _back_to_hold(session, event.at)
        return session, [NotifyDetector(DetectorNote.PROBE_SENT), StartTimer(Timer.PROBE, session.policy.probe_wait_s)]
    if session.state is CallState.IVR and session.step_wait is StepWait.SPEAK:
        return _advance(session, event.at)
    return session, []


# ---------------------------------------------------------------- the queue and the person


def _enter_hold(session: CallSession, at: float, *, queue_heard: bool = False) -> Result:
    """Wait in the queue. The detector hears "navigation is over" only once the company stops talking.

    After the last key a company usually confirms in its IVR voice ("Please hold for a representative"):
    were the detector told at once, that short sentence followed by silence would look like a person.
    So unless the queue is already audible, IVR_DONE waits for music or silence (or ``settle_s``).
    """
    held = replace(
        _goto(session, CallState.HOLD, at),
        step_wait=StepWait.NONE,
        hold_started_at=session.hold_started_at if session.hold_started_at is not None else at,
        ivr_done_pending=not queue_heard,
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


def _probe(session: CallSession, at: float) -> Result:
    policy = session.policy
    cooling = session.last_probe_at is not None and at - session.last_probe_at < policy.probe_cooldown_s
    if not policy.can_speak or cooling or session.probes >= policy.max_probes:
        return session, []  # the detector may still decide on its own
    # Never talk over the speaker: "Hello?" waits for the end of the speech (or probe_delay_max_s).
    probing = replace(
        _goto(session, CallState.PROBING, at), probes=session.probes + 1, last_probe_at=at, probe_pending=True
    )
    return probing, [EmitCallState(), StartTimer(Timer.PROBE_SAY, policy.probe_delay_max_s)]


def _say_probe(session: CallSession) -> Result:
    if session.state is not CallState.PROBING or not session.probe_pending:
        return session, []
    ticket = session.ticket + 1
    saying = replace(session, probe_pending=False, ticket=ticket)
    return saying, [CancelTimer(Timer.PROBE_SAY), Speak(session.policy.probe_text, ticket)]


def _back_to_hold(session: CallSession, at: float) -> Result:
    if session.state is not CallState.PROBING:
        return session, []
    # A new ticket makes a late SpeakDone of the probe harmless.
    back = replace(_goto(session, CallState.HOLD, at), ticket=session.ticket + 1, probe_pending=False)
    return back, [CancelTimer(Timer.PROBE_SAY), CancelTimer(Timer.PROBE), EmitCallState()]


def _human(session: CallSession, event: Observed) -> Result:
    was_holding = session.hold_started_at is not None
    human = replace(
        _goto(session, CallState.HUMAN, event.at),
        human_detected_at=event.at,
        hold_ended_at=event.at if was_holding else None,
        step_wait=StepWait.NONE,
        ticket=session.ticket + 1,
    )
    # Ring the user first: every effect before DialUser adds to the time the person waits in silence.
    effects: list[Effect] = [DialUser(session.transfer_to), EmitCallState()]
    if was_holding:
        effects.append(Emit(EventType.HOLD_ENDED, {"hold_seconds": round(human.hold_seconds(event.at), 2)}))
    effects += [
        Emit(EventType.HUMAN_DETECTED, {"confidence": event.confidence, "t_s": event.t_s}),
        *(CancelTimer(t) for t in (Timer.IVR, Timer.STEP, Timer.HOLD, Timer.PROBE, Timer.PROBE_SAY, Timer.SETTLE)),
    ]
    return human, effects


def _on_user_dialed(session: CallSession, event: UserDialed) -> Result:
    if session.state is not CallState.HUMAN:
        return replace(session, user_leg=event.leg_id), [HangUp(Leg.USER)]
    ringing = replace(_goto(session, CallState.RINGING_USER, event.at), user_leg=event.leg_id)
    return ringing, [
        StartTimer(Timer.RING_USER, session.policy.ring_user_s),
        Emit(EventType.USER_RINGING, {"transfer_to": session.transfer_to}),
        EmitCallState(),
    ]


def _on_user_answered(session: CallSession, event: UserAnswered) -> Result:
    if session.state is not CallState.RINGING_USER or session.closing:
        return session, []
    return replace(session, user_up=True), [CancelTimer(Timer.RING_USER), Bridge(), StartRecording(Leg.USER)]


def _on_bridged(session: CallSession, event: BridgeDone) -> Result:
    if session.state is not CallState.RINGING_USER:
        return session, []
    if not event.ok:
        return _finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, f"bridge failed: {event.error}")
    bridged = _goto(session, CallState.BRIDGED, event.at)
    return bridged, [StartRecording(Leg.MIX), Emit(EventType.BRIDGED, {}), EmitCallState()]


def _on_user_gone(session: CallSession, event: UserDisconnected) -> Result:
    gone = replace(session, user_up=False)
    if session.state is CallState.BRIDGED:
        return _finish(gone, event.at, CallState.ENDED, CallOutcome.CONNECTED, "user hung up")
    if session.state in (CallState.HUMAN, CallState.RINGING_USER):
        detail = f"{event.status_code} {event.reason}".strip()
        return _user_missed(gone, event.at, f"the user did not answer ({detail})")
    return gone, []


def _user_missed(session: CallSession, at: float, reason: str) -> Result:
    """Handle a user who did not pick up: apologise to the person, then hang up (outcome user_missed)."""
    if session.closing:
        return session, []
    effects: list[Effect] = [CancelTimer(Timer.RING_USER)]
    if session.user_leg is not None and session.state is CallState.RINGING_USER:
        effects.append(HangUp(Leg.USER))
    closing = replace(session, closing=True, reason=reason, user_up=False, user_leg=None)
    if not session.policy.can_speak or not session.policy.user_missed_text:
        return _finish_user_missed(closing, at, effects)
    ticket = session.ticket + 1
    effects += [
        Speak(session.policy.user_missed_text, ticket),
        StartTimer(Timer.CLOSING, session.policy.closing_s),
    ]
    return replace(closing, ticket=ticket), effects


def _finish_user_missed(session: CallSession, at: float, before: list[Effect] | None = None) -> Result:
    done, effects = _finish(session, at, CallState.ENDED, CallOutcome.USER_MISSED, session.reason or "user missed")
    return done, (before or []) + effects


# ---------------------------------------------------------------- timers


def _on_timer(session: CallSession, event: TimerFired) -> Result:
    handler = _TIMERS.get(Timer(event.name))
    return handler(session, event.at) if handler is not None else (session, [])


def _ring_timeout(session: CallSession, at: float) -> Result:
    if session.state not in _BEFORE_ANSWER:
        return session, []
    reason = f"no answer after {session.policy.max_ring_s:.0f} s"
    return _finish(session, at, CallState.FAILED, CallOutcome.FAILED, reason)


def _ivr_timeout(session: CallSession, at: float) -> Result:
    if session.state is not CallState.IVR:
        return session, []
    return _enter_hold(session, at)  # the menu took too long: wait for a person anyway


def _step_timeout(session: CallSession, at: float) -> Result:
    if session.state is not CallState.IVR or session.step_wait is not StepWait.TIMER:
        return session, []
    return _advance(session, at)


def _hold_timeout(session: CallSession, at: float) -> Result:
    if session.state not in _AWAITING_HUMAN:
        return session, []
    reason = f"no person answered within {session.policy.max_hold_s / 60:.0f} min"
    return _finish(session, at, CallState.ENDED, CallOutcome.NO_HUMAN, reason)


def _ring_user_timeout(session: CallSession, at: float) -> Result:
    if session.state not in (CallState.HUMAN, CallState.RINGING_USER):
        return session, []
    return _user_missed(session, at, f"the user did not answer within {session.policy.ring_user_s:.0f} s")


def _settle_timeout(session: CallSession, at: float) -> Result:
    if session.state is not CallState.HOLD or not session.ivr_done_pending:
        return session, []
    return _ivr_done(session)


def _closing_timeout(session: CallSession, at: float) -> Result:
    return _finish_user_missed(session, at) if session.closing else (session, [])


_TIMERS: dict[Timer, Callable[[CallSession, float], Result]] = {
    Timer.RING: _ring_timeout,
    Timer.IVR: _ivr_timeout,
    Timer.STEP: _step_timeout,
    Timer.HOLD: _hold_timeout,
    Timer.PROBE: _back_to_hold,
    Timer.RING_USER: _ring_user_timeout,
    Timer.CLOSING: _closing_timeout,
    Timer.SETTLE: _settle_timeout,
    Timer.PROBE_SAY: lambda session, at: _say_probe(session),
}

_OBSERVATIONS: dict[ObservationKind, Callable[[CallSession, Observed], Result]] = {
    ObservationKind.HUMAN_DETECTED: _human,
    ObservationKind.SPEECH_SEGMENT: _on_segment,
    ObservationKind.HOLD_STARTED: _on_hold_heard,
    ObservationKind.HUMAN_UNCERTAIN: _on_uncertain,
    ObservationKind.MUSIC: _on_queue_sound,
    ObservationKind.SILENCE: _on_queue_sound,
}

_HANDLERS: dict[type, Callable[[CallSession, Any], Result]] = {
    Start: _start,
    Dialed: _on_dialed,
    DialFailed: _on_dial_failed,
    CompanyRinging: _on_company_ringing,
    CompanyAnswered: _on_company_answered,
    CompanyDisconnected: _on_company_gone,
    Observed: _on_observation,
    DtmfDone: _on_dtmf_done,
    SpeakDone: _on_speak_done,
    Transcribed: _on_transcript,
    Decided: _on_decision,
    UserDialed: _on_user_dialed,
    UserDialFailed: _on_user_dial_failed,
    UserAnswered: _on_user_answered,
    UserDisconnected: _on_user_gone,
    BridgeDone: _on_bridged,
    TimerFired: _on_timer,
    HangUpRequested: _on_hang_up_requested,
    DtmfRequested: _on_dtmf_requested,
    RecordingStarted: _on_recording,
}

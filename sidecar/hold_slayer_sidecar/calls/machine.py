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

import numpy as np

from ..audio.types import Observation, ObservationKind
from ..nav.flows import FlowStepKind
from ..protocol import CallOutcome, CallState
from .events import (
    BridgeDone,
    CancelTimer,
    CompanyAnswered,
    CompanyDisconnected,
    CompanyRinging,
    Decided,
    DetectorNote,
    Dial,
    Dialed,
    DialFailed,
    DtmfDone,
    DtmfRequested,
    Effect,
    EmitCallState,
    HangUpRequested,
    Input,
    Leg,
    NotifyDetector,
    Observed,
    RecordingStarted,
    SendDtmf,
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
from .greeting import (
    back_to_menus,
    greeting_partial,
    greets,
    heard_since_move,
    may_greet,
    on_greeting_decode,
    pause_heard,
    pause_lasted,
    probe_greeting,
    queue_after_greeting,
    turn_gap_heard,
    turn_gap_lasted,
    words_while_probing,
)
from .listening import words_wanted
from .navigation import (
    advance,
    ask_if_settled,
    current_step,
    listen,
    on_decision,
    on_dtmf_done,
    on_transcript,
    run_flow,
    send_digits,
)
from .queue import (
    back_to_hold,
    enter_hold,
    finish_user_missed,
    human,
    ivr_done,
    on_bridged,
    on_courtesy_said,
    on_user_answered,
    on_user_dialed,
    on_user_gone,
    probe,
    probe_again,
    probe_collided,
    ring_while_probing,
    say_probe,
    still_connecting,
    turn_onset_at,
    user_missed,
)
from .session import CallSession, StepWait
from .transitions import AWAITING_HUMAN, BEFORE_ANSWER, LISTENING, Result, finish, goto


def step(session: CallSession, event: Input) -> Result:
    """Apply one input to a session; return the new session and the effects to run, in order."""
    if session.final:
        return session, []
    return _HANDLERS[type(event)](session, event)


def _on_dialed(session: CallSession, event: Dialed) -> Result:
    return replace(session, company_leg=event.leg_id), []


def _on_dial_failed(session: CallSession, event: DialFailed) -> Result:
    return finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, event.reason)


def _on_user_dial_failed(session: CallSession, event: UserDialFailed) -> Result:
    if session.early_ring:  # rung for a greeting: the probe goes on; a confirmed person gets another try
        return replace(session, early_ring=False), []
    return user_missed(session, event.at, f"could not ring the user: {event.reason}")


def _on_hang_up_requested(session: CallSession, event: HangUpRequested) -> Result:
    outcome = CallOutcome.CONNECTED if session.state is CallState.BRIDGED else CallOutcome.CANCELLED
    return finish(session, event.at, CallState.ENDED, outcome, "hung up on request")


def _on_dtmf_requested(session: CallSession, event: DtmfRequested) -> Result:
    if not session.company_up:
        return session, []
    return session, [SendDtmf(event.digits, 0)]


def _on_recording(session: CallSession, event: RecordingStarted) -> Result:
    return replace(session, recordings=(*session.recordings, event.path)), []


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
    return goto(session, CallState.RINGING, event.at), [EmitCallState()]


def _on_company_answered(session: CallSession, event: CompanyAnswered) -> Result:
    if session.state not in BEFORE_ANSWER:
        return session, []
    answered = replace(goto(session, CallState.IVR, event.at), company_up=True)
    effects: list[Effect] = [
        CancelTimer(Timer.RING),
        StartRecording(Leg.COMPANY),
        StartTimer(Timer.IVR, session.policy.max_ivr_s),
        EmitCallState(),
    ]
    if answered.flow is not None:
        answered, more = run_flow(answered, event.at)
    elif answered.policy.can_navigate and answered.intent:
        answered, more = listen(answered)
    else:
        more = []  # no flow, no navigator: wait for the detector to hear the queue
    return answered, effects + more


def _on_company_gone(session: CallSession, event: CompanyDisconnected) -> Result:
    if event.lost:  # nobody hung up: our media process died, and the reason says so
        return finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, event.reason)
    detail = f"{event.status_code} {event.reason}".strip()
    if session.state in BEFORE_ANSWER:
        return finish(session, event.at, CallState.FAILED, CallOutcome.FAILED, f"company did not answer: {detail}")
    session = replace(session, company_up=False)
    if session.state is CallState.BRIDGED:
        return finish(session, event.at, CallState.ENDED, CallOutcome.CONNECTED, "company hung up")
    if session.state in (CallState.HUMAN, CallState.RINGING_USER):
        reason = "the person hung up before the user answered"
        return finish(session, event.at, CallState.ENDED, CallOutcome.USER_MISSED, reason)
    return finish(session, event.at, CallState.ENDED, CallOutcome.NO_HUMAN, "company hung up before a person answered")


def _on_observation(session: CallSession, event: Observed) -> Result:
    if session.state not in LISTENING:
        return session, []
    handler = _OBSERVATIONS.get(event.kind)
    return handler(session, event) if handler is not None else (session, [])


def _probe_over(session: CallSession, at: float) -> Result:
    """Stop probing: back to the menus for a greeting heard there, back to the queue otherwise."""
    if session.state is CallState.PROBING and session.direct:
        return back_to_menus(session, at)
    return back_to_hold(session, at)


def _on_transcribed(session: CallSession, event: Transcribed) -> Result:
    if event.greeting:
        return on_greeting_decode(session, event)
    if session.state is CallState.PROBING and session.direct and event.epoch and event.epoch == session.listen_epoch:
        return words_while_probing(session, event)  # the menu decode of what is being probed: a greeting rings
    if greets(session, event):
        return probe_greeting(session, event)  # a person's greeting in the menus? the answer to "Hello?" decides
    return on_transcript(session, event)


def _on_uncertain(session: CallSession, event: Observed) -> Result:
    if event.data.get("again"):
        return probe_again(session, event.at)  # a wordless answer: a second "Hello?" settles it
    if event.data.get("ring"):  # the music left the line for a short turn: probe and ring while it settles
        return ring_while_probing(session, event)
    if event.data.get("pause"):  # the speaker waits now (the detector heard the hush after their words)
        held = session.state is CallState.HOLD
        probing, effects = probe(session, event.at, onset_at=turn_onset_at(event)) if held else (session, [])
        said, more = say_probe(probing, event.at)
        return said, effects + more
    if session.state is not CallState.HOLD:
        return session, []
    return probe(session, event.at)


def _on_announcement(session: CallSession, event: Observed) -> Result:
    """Stop the ring for a probed turn on a recording heard meanwhile (hold wording, a replay)."""
    if session.state is CallState.PROBING and not session.direct and session.early_ring:
        return back_to_hold(session, event.at)
    return session, []


def _on_probe_collided(session: CallSession, event: Observed) -> Result:
    return probe_collided(session, event.at)


def _on_hold_heard(session: CallSession, event: Observed) -> Result:
    if session.state is CallState.PROBING and session.direct:
        return queue_after_greeting(session, event)
    if session.state is CallState.PROBING:
        return back_to_hold(session, event.at)
    if session.state is CallState.HOLD and session.ivr_done_pending:
        return ivr_done(session)
    if session.state is not CallState.IVR:
        return session, []
    # A stored flow knows better than one burst of music: some menus play music between levels.
    if session.flow is not None and session.step_index < len(session.flow.steps):
        return session, []
    return enter_hold(session, event.at, queue_heard=True)


def _on_queue_sound(session: CallSession, event: Observed) -> Result:
    """Music or silence: the company stopped talking (navigation is over; a probe may be said now)."""
    if session.state is CallState.PROBING and event.kind is ObservationKind.MUSIC:
        return _probe_over(session, event.at)  # music resumed: it was an announcement
    if session.state is CallState.PROBING:
        return say_probe(session, event.at)  # a second of silence after the speech: the speaker waits for an answer
    if event.kind is ObservationKind.MUSIC and session.queue_words:
        session = replace(session, queue_words=())  # words before the music belong to another announcement
    if session.state is CallState.HOLD and session.ivr_done_pending:
        return ivr_done(session)
    if session.state is CallState.IVR and event.kind is ObservationKind.SILENCE:
        # Keep the earliest quiet point the transcripts have not reached yet (see CallSession.quiet_t_s).
        reached = session.quiet_t_s <= 0 or session.transcribed_t_s >= session.quiet_t_s
        quiet_t_s = session.heard_t_s if reached else session.quiet_t_s
        quiet = replace(session, company_quiet=True, quiet_t_s=quiet_t_s)
        heard_s = float(event.data.get("quiet_s", 1.0))  # the detector reports a second of quiet
        pause = pause_heard(quiet, event.at, heard_s)  # a person waiting for us? (calls/greeting.py)
        pause += turn_gap_heard(quiet, heard_s)  # ... or a menu waiting for input, whose next words are a new turn
        settled, effects = ask_if_settled(quiet)
        return settled, pause + effects
    return session, []


def _on_menu_speech(session: CallSession, event: Observed) -> Result:
    """Speech began in the menus: the company goes on talking, so the pause before it was no person waiting."""
    if session.state is not CallState.IVR:
        return session, []
    return replace(session, company_quiet=False), [CancelTimer(Timer.PAUSE), CancelTimer(Timer.TURN_GAP)]


def _on_segment(session: CallSession, event: Observed) -> Result:
    effects: list[Effect] = []
    # A lone burst (audio/burst.py) is heard only in the queue, for its words: never a menu, never a flow's step.
    lone = bool(event.data.get("lone"))
    needs_nav = session.state is CallState.IVR and session.step_wait in (StepWait.LISTEN, StepWait.DECIDE) and not lone
    current = current_step(session)
    stored_choice = current.choice if current is not None and current.kind is FlowStepKind.LISTEN else None
    if event.audio is not None:
        epoch = session.listen_epoch if needs_nav and not stored_choice and session.policy.can_navigate else 0
        rate = int(event.data.get("sample_rate", 8000))
        # Speech in the queue is heard for the detector's sake (a person or a recording?): the sooner the better.
        # So is the answer to a probe said in the menus (calls/greeting.py).
        probing = session.state is CallState.PROBING
        wanted = words_wanted(Observation(event.kind, event.t_s, audio=event.audio, data=event.data), probing=probing)
        quick = epoch == 0 and wanted is not None and wanted.quick
        if epoch and may_greet(session, event.audio.size / rate):  # a person's greeting? heard first, unbiased
            wide = event.data.get("wide_audio")  # with the first consonant of a short word (audio/judge.py)
            audio = wide if isinstance(wide, np.ndarray) else event.audio
            effects.append(Transcribe(audio, event.t_s, epoch, rate, quick=True, greeting=True))
        effects.append(Transcribe(event.audio, event.t_s, epoch, rate, quick=quick))
        if epoch:
            spoken = float(event.data.get("end_s", event.t_s)) - float(event.data.get("start_s", event.t_s))
            session = heard_since_move(replace(session, heard_t_s=event.t_s), epoch, max(0.0, spoken))
    if session.state is not CallState.IVR or lone:
        return session, effects
    session = replace(session, company_quiet=False)
    if session.step_wait is StepWait.SEGMENT:
        advanced, more = advance(session, event.at)
        return advanced, effects + more
    if session.step_wait is StepWait.LISTEN:
        if stored_choice:
            sending, more = send_digits(session, stored_choice)
            return sending, effects + more
        if not session.policy.can_navigate or event.audio is None:
            # Nothing can choose for us: skip the step rather than stall the call.
            advanced, more = advance(session, event.at)
            return advanced, effects + more
    return session, effects


def _on_partial(session: CallSession, event: Observed) -> Result:
    """Speech still going on in the queue: transcribe it so far, for the detector's early look at the words."""
    if event.audio is None or session.state not in LISTENING:
        return session, []
    if event.data.get("context") == "menu":
        return session, greeting_partial(session, event)
    rate = int(event.data.get("sample_rate", 8000))
    wanted = words_wanted(Observation(event.kind, event.t_s, audio=event.audio, data=event.data))
    if wanted is None:
        return session, []
    return session, [Transcribe(event.audio, event.t_s, 0, rate, partial=wanted.partial, quick=wanted.quick)]


def _on_speak_done(session: CallSession, event: SpeakDone) -> Result:
    if event.ticket != session.ticket:
        return session, []
    if session.closing:
        return finish_user_missed(session, event.at)
    if session.state is CallState.PROBING:
        return _probe_said(session, event)
    if session.state is CallState.IVR and session.step_wait is StepWait.SPEAK:
        return advance(session, event.at)
    return on_courtesy_said(session, event)  # a courtesy line to the person while the user's phone rings


def _probe_said(session: CallSession, event: SpeakDone) -> Result:
    if not event.ok:
        return _probe_over(session, event.at)
    return session, [NotifyDetector(DetectorNote.PROBE_SENT), StartTimer(Timer.PROBE, session.policy.probe_wait_s)]


def _on_timer(session: CallSession, event: TimerFired) -> Result:
    handler = _TIMERS.get(Timer(event.name))
    return handler(session, event.at) if handler is not None else (session, [])


def _ring_timeout(session: CallSession, at: float) -> Result:
    if session.state not in BEFORE_ANSWER:
        return session, []
    reason = f"no answer after {session.policy.max_ring_s:.0f} s"
    return finish(session, at, CallState.FAILED, CallOutcome.FAILED, reason)


def _ivr_timeout(session: CallSession, at: float) -> Result:
    if session.state is not CallState.IVR:
        return session, []
    return enter_hold(session, at)  # the menu took too long: wait for a person anyway


def _step_timeout(session: CallSession, at: float) -> Result:
    if session.state is not CallState.IVR or session.step_wait is not StepWait.TIMER:
        return session, []
    return advance(session, at)


def _hold_timeout(session: CallSession, at: float) -> Result:
    if session.state not in AWAITING_HUMAN:
        return session, []
    reason = f"no person answered within {session.policy.max_hold_s / 60:.0f} min"
    return finish(session, at, CallState.ENDED, CallOutcome.NO_HUMAN, reason)


def _ring_user_timeout(session: CallSession, at: float) -> Result:
    if session.state not in (CallState.HUMAN, CallState.RINGING_USER):
        return session, []
    return user_missed(session, at, f"the user did not answer within {session.policy.ring_user_s:.0f} s")


def _settle_timeout(session: CallSession, at: float) -> Result:
    if session.state is not CallState.HOLD or not session.ivr_done_pending:
        return session, []
    return ivr_done(session)


def _closing_timeout(session: CallSession, at: float) -> Result:
    return finish_user_missed(session, at) if session.closing else (session, [])


_TIMERS: dict[Timer, Callable[[CallSession, float], Result]] = {
    Timer.RING: _ring_timeout,
    Timer.IVR: _ivr_timeout,
    Timer.STEP: _step_timeout,
    Timer.HOLD: _hold_timeout,
    Timer.PROBE: _probe_over,
    Timer.RING_USER: _ring_user_timeout,
    Timer.CLOSING: _closing_timeout,
    Timer.SETTLE: _settle_timeout,
    Timer.PROBE_SAY: _probe_over,  # the speaker never paused for an answer: not a person waiting for us
    Timer.COURTESY: still_connecting,
    Timer.PAUSE: pause_lasted,
    Timer.TURN_GAP: turn_gap_lasted,
}


_OBSERVATIONS: dict[ObservationKind, Callable[[CallSession, Observed], Result]] = {
    ObservationKind.HUMAN_DETECTED: human,
    ObservationKind.SPEECH_SEGMENT: _on_segment,
    ObservationKind.SPEECH_PARTIAL: _on_partial,
    ObservationKind.HOLD_STARTED: _on_hold_heard,
    ObservationKind.HUMAN_UNCERTAIN: _on_uncertain,
    ObservationKind.MUSIC: _on_queue_sound,
    ObservationKind.SILENCE: _on_queue_sound,
    ObservationKind.IVR_PROMPT: _on_menu_speech,
    ObservationKind.PROBE_COLLIDED: _on_probe_collided,
    ObservationKind.ANNOUNCEMENT: _on_announcement,
}


_HANDLERS: dict[type, Callable[[CallSession, Any], Result]] = {
    Start: _start,
    Dialed: _on_dialed,
    DialFailed: _on_dial_failed,
    CompanyRinging: _on_company_ringing,
    CompanyAnswered: _on_company_answered,
    CompanyDisconnected: _on_company_gone,
    Observed: _on_observation,
    DtmfDone: on_dtmf_done,
    SpeakDone: _on_speak_done,
    Transcribed: _on_transcribed,
    Decided: on_decision,
    UserDialed: on_user_dialed,
    UserDialFailed: _on_user_dial_failed,
    UserAnswered: on_user_answered,
    UserDisconnected: on_user_gone,
    BridgeDone: on_bridged,
    TimerFired: _on_timer,
    HangUpRequested: _on_hang_up_requested,
    DtmfRequested: _on_dtmf_requested,
    RecordingStarted: _on_recording,
}

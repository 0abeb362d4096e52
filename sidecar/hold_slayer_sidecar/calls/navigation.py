"""The call state machine in the menus: stored flow steps and the listen-decide loop with the navigator."""

from __future__ import annotations

from dataclasses import replace

from ..nav.api import NavAction
from ..nav.flows import FlowStep, FlowStepKind
from ..nav.parser import offers_choice
from ..protocol import CallState, EventType
from .events import (
    CancelTimer,
    Decide,
    Decided,
    DetectorNote,
    DtmfDone,
    Effect,
    Emit,
    EmitCallState,
    NoteTranscript,
    NotifyDetector,
    SendDtmf,
    Speak,
    StartTimer,
    Timer,
    Transcribed,
)
from .queue import enter_hold
from .session import CallSession, StepWait
from .transitions import LISTENING, Result, goto

QUEUE_WORDS_KEPT = 4  # segments of the queue's speech read together: a submenu's options come one per segment


def current_step(session: CallSession) -> FlowStep | None:
    """Return the flow step in progress, or None when there is no flow or it is done."""
    if session.flow is None or session.step_index >= len(session.flow.steps):
        return None
    return session.flow.steps[session.step_index]


def run_flow(session: CallSession, at: float) -> Result:
    """Start the current flow step."""
    current = current_step(session)
    if current is None or current.kind in (FlowStepKind.HOLD, FlowStepKind.TRANSFER):
        # TRANSFER also waits for HUMAN_DETECTED: the user is never rung for a recording.
        return enter_hold(session, at)
    if current.kind is FlowStepKind.DTMF:
        return send_digits(session, current.digits or "")
    if current.kind is FlowStepKind.LISTEN:
        return listen(session)
    if current.kind is FlowStepKind.SPEAK:
        ticket = session.ticket + 1
        return replace(session, step_wait=StepWait.SPEAK, ticket=ticket), [Speak(current.text or "", ticket)]
    if current.seconds is not None:  # WAIT for a time
        return replace(session, step_wait=StepWait.TIMER), [StartTimer(Timer.STEP, current.seconds)]
    return replace(session, step_wait=StepWait.SEGMENT), []  # WAIT for the end of the next prompt


def advance(session: CallSession, at: float) -> Result:
    """Finish the current step: move on (flow) or listen to the next menu (navigator)."""
    if session.flow is None:
        return listen(session)
    return run_flow(replace(session, step_index=session.step_index + 1, step_wait=StepWait.NONE), at)


def listen(session: CallSession) -> Result:
    """Listen to the next menu prompt."""
    fresh = replace(
        session,
        step_wait=StepWait.LISTEN,
        listen_epoch=session.listen_epoch + 1,
        prompt="",
        decided_prompt="",
        company_quiet=False,
        settled_prompt="",
        quiet_t_s=0.0,
    )
    return fresh, []


def send_digits(session: CallSession, digits: str) -> Result:
    """Send digits as the current navigation step (the detector first cuts the speech going on: see KEY_SENT)."""
    ticket = session.ticket + 1
    sending = replace(session, step_wait=StepWait.DTMF, ticket=ticket, earlier_hearings=())
    return sending, [NotifyDetector(DetectorNote.KEY_SENT), SendDtmf(digits, ticket)]


def on_transcript(session: CallSession, event: Transcribed) -> Result:
    """Use a transcript: publish it, give it to the detector, and feed the menu prompt being heard."""
    if event.partial:  # words of speech still going on: the segment's own transcript is published when it ends
        cue = event.text and session.state in LISTENING
        return session, [NoteTranscript(event.text, event.t_s, partial=True)] if cue else []
    effects: list[Effect] = []
    if event.text:
        offset = round(event.at - session.started_at, 2)
        # audio_end_s: where the words ended in the company's audio (stream time), so a client can tell the lag.
        data = {"speaker": "company", "text": event.text, "offset_s": offset, "audio_end_s": round(event.t_s, 2)}
        effects.append(Emit(EventType.TRANSCRIPT, data))
        if session.state in LISTENING:
            effects.append(NoteTranscript(event.text, event.t_s))
    elif session.state is CallState.PROBING and session.direct and event.epoch == 0:
        # An answer to our "Hello?" in the menus with no words found in it: the detector still needs to know its
        # words are in (none against a person), so that the pause after it can decide (audio/judge.py).
        effects.append(NoteTranscript("", event.t_s))
    if event.text and session.state in (CallState.HOLD, CallState.PROBING):
        again, more = menu_in_queue(session, event)
        return again, effects + more
    usable = (
        event.epoch != 0
        and event.epoch == session.listen_epoch
        and session.state is CallState.IVR
        and session.step_wait in (StepWait.LISTEN, StepWait.DECIDE)
    )
    if not usable:
        return session, effects
    session = replace(session, transcribed_t_s=max(session.transcribed_t_s, event.t_s))
    if not (event.text or event.prompt):  # nothing new, but it may have been the transcript a re-ask waited for
        settled, more = ask_if_settled(session)
        return settled, effects + more
    # A whole-prompt transcript replaces the text so far (it may correct earlier words); a segment's adds to it.
    prompt = event.prompt if event.prompt is not None else f"{session.prompt} {event.text}".strip()
    heard = replace(session, prompt=prompt)
    if heard.step_wait is StepWait.DECIDE:
        return heard, effects  # asked again when the pending decision says "wait"
    asked, more = ask(heard)
    return asked, effects + more


def menu_in_queue(session: CallSession, event: Transcribed) -> Result:
    """Navigate again when the queue's words are a menu (the wait was a pause between menus).

    After a spoken reason a company's recogniser can take long enough for the line to read as a silent hold,
    and then a submenu plays ("To make a payment, press 1. To ask about a charge, press 2."). Left unanswered,
    the company hangs up. Only a menu of two keys or more that are not queue offers (callback, voicemail,
    keep holding) counts, and only while a navigator can answer it and no stored flow step is pending.
    """
    words = (*session.queue_words, event.text)[-QUEUE_WORDS_KEPT:]
    heard = replace(session, queue_words=words)
    prompt = " ".join(words)
    navigable = session.policy.can_navigate and bool(session.intent) and current_step(session) is None
    if not navigable or not offers_choice(prompt):
        return heard, []
    # Not a hold after all: its time does not count as queue time, and the detector judges menus as menus.
    back = replace(
        goto(heard, CallState.IVR, event.at),
        queue_words=(),
        earlier_hearings=(),
        hold_started_at=None,
        ivr_done_pending=False,
        probe_pending=False,
        direct=False,
    )
    listening, _ = listen(back)
    asked, effects = ask(replace(listening, prompt=prompt, heard_t_s=event.t_s, transcribed_t_s=event.t_s))
    return asked, [
        *(CancelTimer(t) for t in (Timer.HOLD, Timer.PROBE, Timer.PROBE_SAY, Timer.SETTLE)),
        StartTimer(Timer.IVR, session.policy.max_ivr_s),
        NotifyDetector(DetectorNote.MENU_AGAIN),
        EmitCallState(),
        *effects,
    ]


def ask(session: CallSession) -> Result:
    """Ask the navigator about the prompt heard so far."""
    ticket = session.ticket + 1
    asking = replace(session, step_wait=StepWait.DECIDE, ticket=ticket, decided_prompt=session.prompt)
    behind = max(0.0, session.heard_t_s - session.transcribed_t_s)
    decide = Decide(
        session.prompt, session.intent or "", session.history, ticket, behind_s=behind, earlier=session.earlier_hearings
    )
    return asking, [decide]


def on_decision(session: CallSession, event: Decided) -> Result:
    """Act on the navigator's decision."""
    if event.ticket != session.ticket or session.step_wait is not StepWait.DECIDE:
        return session, []
    decision = event.decision
    remembered = replace(session, history=(*session.history, session.prompt))
    if decision is not None and decision.action is NavAction.DTMF and decision.digits:
        return send_digits(remembered, decision.digits)
    if decision is not None and decision.action is NavAction.SPEAK and decision.text:
        ticket = session.ticket + 1
        speaking = replace(remembered, step_wait=StepWait.SPEAK, ticket=ticket, earlier_hearings=())
        return speaking, [Speak(decision.text, ticket)]
    # WAIT (or a failed navigator): keep listening; ask again if more of the prompt arrived meanwhile.
    if session.prompt != session.decided_prompt:
        return ask(session)
    return ask_if_settled(replace(session, step_wait=StepWait.LISTEN))


def ask_if_settled(session: CallSession) -> Result:
    """Ask once more when the company went quiet after a prompt the navigator waited on.

    The same prompt asked twice tells a per-call navigator the menu has ended (see MenuNavigator.decide),
    so it chooses now instead of letting the company's no-input timeout run out and replay the menu.
    """
    quiet_now = session.company_quiet and session.transcribed_t_s >= session.heard_t_s  # nothing still on its way
    # Speech-to-text behind the company: the menu up to the quiet point is complete when its words are all in,
    # even if the company has begun its replay meanwhile (its words would come after its no-input timeout).
    quiet_reached = session.quiet_t_s > 0 and session.transcribed_t_s >= session.quiet_t_s
    settled = (
        session.state is CallState.IVR
        and session.step_wait is StepWait.LISTEN
        and (quiet_now or quiet_reached)
        and bool(session.prompt)
        and session.prompt == session.decided_prompt
        and session.prompt != session.settled_prompt
    )
    if not settled:
        return session, []
    return ask(replace(session, settled_prompt=session.prompt, quiet_t_s=0.0))  # a quiet point settles once


def on_dtmf_done(session: CallSession, event: DtmfDone) -> Result:
    """Record digits that went out and move on to the next step."""
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
    advanced, more = advance(sent, event.at)
    return advanced, effects + more

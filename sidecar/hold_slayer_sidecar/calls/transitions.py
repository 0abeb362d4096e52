"""Shared pieces of the call state machine: the result type, state groups, moving and finishing."""

from __future__ import annotations

from dataclasses import replace

from ..protocol import CallOutcome, CallState, EventType
from .events import Effect, Emit, EmitCallState, HangUp, Leg
from .session import CallSession, StepWait

type Result = tuple[CallSession, list[Effect]]

# States in which the company's audio is still judged (navigation, queue, probing).
LISTENING = frozenset({CallState.IVR, CallState.HOLD, CallState.PROBING})
BEFORE_ANSWER = frozenset({CallState.DIALING, CallState.RINGING})
AWAITING_HUMAN = LISTENING


def goto(session: CallSession, state: CallState, at: float) -> CallSession:
    """Move to ``state`` at ``at``."""
    return replace(session, state=state, state_since=at)


def finish(session: CallSession, at: float, state: CallState, outcome: CallOutcome, reason: str) -> Result:
    """End the call: hang up what is still up, emit call_ended. Timers are cancelled by the manager."""
    effects: list[Effect] = []
    if session.company_leg is not None and (session.company_up or session.state in BEFORE_ANSWER):
        effects.append(HangUp(Leg.COMPANY))
    if session.user_leg is not None and (
        session.user_up or session.early_ring or session.state is CallState.RINGING_USER
    ):
        effects.append(HangUp(Leg.USER))
    hold_ended = session.hold_ended_at
    if session.hold_started_at is not None and hold_ended is None:
        hold_ended = at
    done = replace(
        goto(session, state, at),
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

"""The state of one call as the state machine sees it: an immutable value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from ..nav.flows import CallFlow
from ..protocol import CallInfo, CallState


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """Timeouts and spoken lines that shape one call (taken from the settings)."""

    max_ring_s: float = 60.0
    max_ivr_s: float = 300.0
    max_hold_s: float = 7200.0
    ring_user_s: float = 30.0
    probe_wait_s: float = 6.0
    probe_cooldown_s: float = 20.0
    greeting_probe_cooldown_s: float = 8.0  # probe_wait_s and then some: the last answer window is over
    probe_quiet_wait_s: float = 15.0  # give up probing when the speaker never pauses for an answer
    max_probes: int = 5
    probe_text: str = "Hello?"
    # Said to the person who answered when the user does not pick up, so they are not left in silence.
    user_missed_text: str = "Sorry, the caller is not available right now. Goodbye."
    # Said to the person as soon as they are detected, then every ``still_connecting_every_s`` after the last line
    # ended while the user's phone rings: agents hang up on a silent line, and a real user takes 5-20 s to pick up.
    courtesy_text: str = "Hi, thanks for picking up. I'm connecting you now, one moment please."
    still_connecting_text: str = "Still connecting you, one moment please."
    # A person on a silent line says "Hello?" after 3-5 s and gives up after 10-20 s; a line every 7 s (plus its own
    # 2 s) keeps the gaps under that without talking over every word the agent says back.
    still_connecting_every_s: float = 7.0
    closing_s: float = 8.0
    # Ring the user's phone as soon as a greeting heard in the menus is probed (calls/greeting.py), not only once the
    # answer confirms a person; the bridge still waits for the confirmation. Only on a person's words ("you're
    # speaking with Priya", "how can I help"): a long greeting is rung while it is spoken, where waiting for its end,
    # the probe and the answer rang heldout4's "Good afternoon, thank you for calling Millbrook Dental, you're speaking
    # with Priya ..." 23 s after its first word.
    ring_on_greeting: bool = True
    # Also ring early on a short turn then a pause whose garbled words read as neither a menu nor a recording. Off: a
    # pause is no evidence of a person, and such a ring is a ring for a recording when it was one (issue #22 counts a
    # ring before any person as a false transfer): heldout7 (never tuned) rang for "Your call is being connected."
    ring_on_pause: bool = False
    # Ring the user's phone with the probe when the hold's music left the line for a short turn (calls/queue.py
    # ring_while_probing). It was off while the detector missed a bed ducked 16 dB on a mu-law line with 6 % loss in the
    # pause of a message that opens "Yes, hello," (issue #22's heldout6: rang for that recording in 2 of 2 runs); the
    # bed's notes are now seen under and after the words (audio/judge.py BED_UNDER_VOICE_DB), which close such a turn.
    ring_when_music_left: bool = True
    settle_s: float = 12.0  # longest wait for music or silence after the last menu step
    can_speak: bool = True  # a text-to-speech engine is available
    can_navigate: bool = False  # a navigator is available (menus without a stored flow)


class StepWait(StrEnum):
    """What the navigation part of the call is waiting for."""

    NONE = "none"
    DTMF = "dtmf"  # digits being sent
    TIMER = "timer"  # a WAIT step with seconds
    SEGMENT = "segment"  # a WAIT step without seconds: the end of the next prompt
    LISTEN = "listen"  # the end of the next prompt, then choose
    DECIDE = "decide"  # the navigator is choosing
    SPEAK = "speak"  # a SPEAK step is playing


@dataclass(frozen=True, slots=True)
class CallSession:
    """Everything the call logic knows about one call. Times are Unix seconds from the injected clock."""

    call_id: str
    target: str
    transfer_to: str
    started_at: float
    policy: CallPolicy = field(default_factory=CallPolicy)
    company: str | None = None
    intent: str | None = None
    department: str | None = None
    flow: CallFlow | None = None
    state: CallState = CallState.DIALING
    state_since: float = 0.0
    company_leg: str | None = None
    company_up: bool = False
    user_leg: str | None = None
    user_up: bool = False
    hold_started_at: float | None = None
    hold_ended_at: float | None = None
    human_detected_at: float | None = None
    digits_sent: str = ""
    outcome: str | None = None
    reason: str | None = None
    step_index: int = 0
    step_wait: StepWait = StepWait.NONE
    ticket: int = 0  # ties async completions (DtmfDone, SpeakDone, Decided) to the request they answer
    listen_epoch: int = 0  # bumped for every new menu, so late transcripts of old prompts are ignored
    prompt: str = ""  # text of the current menu prompt heard so far
    decided_prompt: str = ""  # the prompt text the pending decision was asked about
    heard_t_s: float = 0.0  # stream time of the latest menu segment sent to speech-to-text
    transcribed_t_s: float = 0.0  # stream time of the latest menu segment whose transcript arrived
    greeting_t_s: float = 0.0  # ... whose unbiased greeting decode arrived (calls/greeting.py)
    # Where the company last went quiet after menu speech (stream time of that speech's end), until the transcripts
    # reach it: the menu heard up to there is complete even if the company has started its replay meanwhile.
    quiet_t_s: float = 0.0
    company_quiet: bool = False  # the company stopped talking after the prompt (detector SILENCE)
    settled_prompt: str = ""  # the prompt last re-asked about because the company went quiet after it
    history: tuple[str, ...] = ()
    # The company's earlier turns since our last move, oldest first: each ended with TURN_GAP_S of quiet and no key
    # from us (calls/greeting.py turn_gap_lasted), so a menu replayed after its no-input timeout arrives with its
    # first hearing (the navigator reads both together). Emptied when we press or speak: another menu follows.
    earlier_hearings: tuple[str, ...] = ()
    probes: int = 0
    probe_pending: bool = False  # "Hello?" waits for a pause after the uncertain speech
    direct: bool = False  # probing a greeting heard in the menus (calls/greeting.py), not speech in the queue
    early_ring: bool = False  # the user's phone was rung for a greeting before the probe's answer confirmed a person
    early_rings_cancelled: int = 0  # a cancelled ring makes the next greeting wait for its confirmation
    no_greeting_epoch: int = -1  # the listen epoch whose words already read as a menu, a recording or a welcome
    company_epoch: int = -1  # the listen epoch whose greeting decode read as a menu or a recording
    move_speech: tuple[int, float] = (0, 0.0)  # (listen epoch, seconds of speech heard in it since our last move)
    last_probe_at: float | None = None
    previous_probe_at: float | None = None  # last_probe_at before the latest probe (restored if that one collided)
    probes_collided: int = 0  # probes said over the far side's speech, not counted (queue.MAX_COLLIDED_PROBES)
    closing: bool = False  # saying goodbye before hanging up
    ivr_done_pending: bool = False  # in the queue, but the company may still be finishing its IVR sentence
    queue_words: tuple[str, ...] = ()  # the latest transcripts heard in the queue since music (a menu again?)
    recordings: tuple[str, ...] = ()

    @property
    def final(self) -> bool:
        """True once the call has ended or failed."""
        return self.state in (CallState.ENDED, CallState.FAILED)

    def hold_seconds(self, now: float) -> float:
        """Time spent waiting in the queue so far."""
        if self.hold_started_at is None:
            return 0.0
        end = self.hold_ended_at if self.hold_ended_at is not None else now
        return max(0.0, end - self.hold_started_at)


def iso(ts: float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC string."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def call_info(session: CallSession, now: float) -> CallInfo:
    """Build the wire view of a session."""
    return CallInfo(
        call_id=session.call_id,
        target=session.target,
        company=session.company,
        intent=session.intent,
        department=session.department,
        state=session.state.value,
        started_at=iso(session.started_at) or "",
        state_since=iso(session.state_since) or "",
        hold_started_at=iso(session.hold_started_at),
        hold_seconds=round(session.hold_seconds(now), 2),
        human_detected_at=iso(session.human_detected_at),
        transfer_to=session.transfer_to,
        digits_sent=session.digits_sent,
        outcome=session.outcome,
        reason=session.reason,
        recordings=list(session.recordings),
    )

"""Inputs and effects of the call state machine: frozen values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..audio.types import ObservationKind, Pcm
from ..nav.api import NavDecision

# ---------------------------------------------------------------- inputs (things that happened)


@dataclass(frozen=True, slots=True)
class Start:
    """The call was accepted: dial the company."""

    at: float


@dataclass(frozen=True, slots=True)
class Dialed:
    """The company INVITE went out; ``leg_id`` names the new leg."""

    at: float
    leg_id: str


@dataclass(frozen=True, slots=True)
class DialFailed:
    """The company could not be dialled at all (bad URI, no trunk, engine down)."""

    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class CompanyRinging:
    """180/183 from the company."""

    at: float


@dataclass(frozen=True, slots=True)
class CompanyAnswered:
    """200 OK from the company: media is up."""

    at: float


@dataclass(frozen=True, slots=True)
class CompanyDisconnected:
    """The company leg ended (BYE, CANCEL, or a final error response)."""

    at: float
    status_code: int = 0
    reason: str = ""
    lost: bool = False  # the media worker carrying the leg died (reason says how)


@dataclass(frozen=True, slots=True)
class Observed:
    """A detector observation on the company leg."""

    at: float
    kind: ObservationKind
    t_s: float
    confidence: float = 1.0
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    audio: Pcm | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class DtmfDone:
    """Digits finished sending (``ticket`` 0 marks digits a client asked for by hand)."""

    at: float
    ticket: int
    digits: str
    ok: bool = True
    error: str = ""


@dataclass(frozen=True, slots=True)
class SpeakDone:
    """A spoken line finished playing (or failed: ``ok`` False)."""

    at: float
    ticket: int
    ok: bool = True


@dataclass(frozen=True, slots=True)
class Transcribed:
    """The text of one company speech segment ('' when speech-to-text failed)."""

    at: float
    text: str
    t_s: float
    epoch: int  # the listen epoch the segment was heard in (0: informational only)
    prompt: str | None = None  # the whole prompt of the epoch re-transcribed at once (replaces the text so far)
    partial: bool = False  # the words so far of speech still going on (for the detector only)
    greeting: bool = False  # the quick decode of a segment that may be a person's greeting (Transcribe.greeting)


@dataclass(frozen=True, slots=True)
class Decided:
    """The navigator's answer (None when it failed)."""

    at: float
    ticket: int
    decision: NavDecision | None


@dataclass(frozen=True, slots=True)
class UserDialed:
    """The INVITE to the user's phone went out."""

    at: float
    leg_id: str


@dataclass(frozen=True, slots=True)
class UserDialFailed:
    """The user's phone could not be dialled."""

    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class UserAnswered:
    """The user picked up."""

    at: float


@dataclass(frozen=True, slots=True)
class UserDisconnected:
    """The user leg ended (declined, busy, or hung up)."""

    at: float
    status_code: int = 0
    reason: str = ""
    lost: bool = False  # the media worker carrying the leg died (reason says how)


@dataclass(frozen=True, slots=True)
class BridgeDone:
    """Both legs' audio are connected (or the bridge failed)."""

    at: float
    ok: bool = True
    error: str = ""


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer started with StartTimer expired."""

    at: float
    name: str


@dataclass(frozen=True, slots=True)
class HangUpRequested:
    """A client asked to end the call."""

    at: float


@dataclass(frozen=True, slots=True)
class DtmfRequested:
    """A client asked to send digits by hand."""

    at: float
    digits: str


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    """A recording file was opened for this call."""

    at: float
    path: str


type Input = (
    Start
    | Dialed
    | DialFailed
    | CompanyRinging
    | CompanyAnswered
    | CompanyDisconnected
    | Observed
    | DtmfDone
    | SpeakDone
    | Transcribed
    | Decided
    | UserDialed
    | UserDialFailed
    | UserAnswered
    | UserDisconnected
    | BridgeDone
    | TimerFired
    | HangUpRequested
    | DtmfRequested
    | RecordingStarted
)

# ---------------------------------------------------------------- effects (things to do)


class Leg(StrEnum):
    """Which of the call's legs an effect targets."""

    COMPANY = "company"
    USER = "user"
    MIX = "mix"  # recordings only: both legs mixed


class Timer(StrEnum):
    """Timer names; starting a timer again replaces the running one."""

    RING = "ring"  # company must answer within max_ring_s
    IVR = "ivr"  # navigation must finish within max_ivr_s
    HOLD = "hold"  # give up after max_hold_s in the queue
    STEP = "step"  # a WAIT step of a call flow
    PROBE = "probe"  # how long to judge the reply to "Hello?"
    PROBE_SAY = "probe_say"  # stop waiting for a pause to say "Hello?" into
    RING_USER = "ring_user"  # the user must answer within ring_user_s
    CLOSING = "closing"  # the goodbye line may not take longer than this
    SETTLE = "settle"  # after the last menu step, tell the detector navigation is over at the latest now
    COURTESY = "courtesy"  # while the user's phone rings: time for the next "still connecting" line
    PAUSE = "pause"  # the quiet after a short turn in the menus has lasted long enough to probe (calls/greeting.py)
    TURN_GAP = "turn_gap"  # the company has been quiet in the menus long enough that its next words are a new turn


class DetectorNote(StrEnum):
    """Facts the detector is told."""

    IVR_DONE = "ivr_done"
    PROBE_SENT = "probe_sent"
    MENU_AGAIN = "menu_again"  # the queue turned out to be a pause in the menus: navigating again
    KEY_SENT = "key_sent"  # a menu was answered: the speech going on is that menu's last words


@dataclass(frozen=True, slots=True)
class Dial:
    """Call the company."""

    target: str


@dataclass(frozen=True, slots=True)
class SendDtmf:
    """Send digits on the company leg; answer with DtmfDone(ticket)."""

    digits: str
    ticket: int


@dataclass(frozen=True, slots=True)
class Speak:
    """Say ``text`` to the company; answer with SpeakDone(ticket)."""

    text: str
    ticket: int


@dataclass(frozen=True, slots=True)
class StopSpeaking:
    """Stop whatever is being said to the company at once (its SpeakDone never comes)."""


@dataclass(frozen=True, slots=True)
class Transcribe:
    """Transcribe a company speech segment; answer with Transcribed(epoch)."""

    audio: Pcm = field(compare=False)
    t_s: float
    epoch: int
    sample_rate: int = 8000  # segment audio rate (detectors work at 8 kHz unless they say otherwise)
    partial: bool = False  # speech still going on: the text goes to the detector only
    quick: bool = False  # queue speech: its words are the detector's cues, wanted soon (QuickTranscriber)
    # The first short segment since our last move, heard once more without the menu prompt (calls/greeting.py).
    greeting: bool = False


@dataclass(frozen=True, slots=True)
class NoteTranscript:
    """Give the detector a transcript as a content cue."""

    text: str
    t_s: float
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Decide:
    """Ask the navigator what to do after ``prompt``; answer with Decided(ticket)."""

    prompt: str
    intent: str
    history: tuple[str, ...]
    ticket: int
    behind_s: float = 0.0  # menu speech the company said after ``prompt`` that is not transcribed yet
    earlier: tuple[str, ...] = ()  # the company's earlier turns since our last move (CallSession.earlier_hearings)


@dataclass(frozen=True, slots=True)
class DialUser:
    """Ring the user's phone."""

    target: str


@dataclass(frozen=True, slots=True)
class Bridge:
    """Connect the company and user legs."""


@dataclass(frozen=True, slots=True)
class HangUp:
    """End one leg."""

    leg: Leg


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Record one leg (or the mix of both)."""

    leg: Leg


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Fire TimerFired(name) after ``seconds``."""

    name: Timer
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Stop a timer if it runs."""

    name: Timer


@dataclass(frozen=True, slots=True)
class NotifyDetector:
    """Tell the detector a fact it needs to judge what follows."""

    note: DetectorNote


@dataclass(frozen=True, slots=True)
class Emit:
    """Publish a protocol event (``call_id`` is added by the manager)."""

    event: str
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class EmitCallState:
    """Publish the call's full CallInfo."""


type Effect = (
    Dial
    | SendDtmf
    | Speak
    | StopSpeaking
    | Transcribe
    | NoteTranscript
    | Decide
    | DialUser
    | Bridge
    | HangUp
    | StartRecording
    | StartTimer
    | CancelTimer
    | NotifyDetector
    | Emit
    | EmitCallState
)

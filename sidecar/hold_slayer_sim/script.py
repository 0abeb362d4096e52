"""The company's call logic as a pure state machine: events in, effects out, no I/O and no clock.

The SIP glue (``runtime.py``) turns what happens on the line into events and carries out the
effects (play audio, stop it for barge-in, run timers, transcribe the caller, write the report, hang up).
Timers and playback are the only notion of time, so tests drive whole calls from tables of events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .hold import HoldAnnouncement, HoldAudio, HoldCursor, HoldSegment, advance, next_segment
from .model import Agent, Clip, Company, Goto, Menu, Voice

# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Answered:
    """The call was answered: the script starts."""


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """Playback ``tag`` ran to its end after ``played_s`` seconds (a stopped playback sends nothing)."""

    tag: int
    played_s: float


@dataclass(frozen=True, slots=True)
class DigitReceived:
    """A DTMF key from the caller: ``via`` is "event" (RFC 4733 / SIP INFO) or "inband" (tones in the audio)."""

    digit: str
    via: str = "event"


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer started with StartTimer ran out (a restarted or cancelled one never fires)."""

    name: str


@dataclass(frozen=True, slots=True)
class CallerSpeechStarted:
    """Speech energy from the caller began."""


@dataclass(frozen=True, slots=True)
class CallerSpeechEnded:
    """The caller stopped speaking (after a hangover of silence)."""

    duration_s: float


@dataclass(frozen=True, slots=True)
class TranscriptReady:
    """The words of the caller's last speech segment; None when no transcriber is available."""

    text: str | None


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller ended the call."""


Event = (
    Answered
    | PlaybackFinished
    | DigitReceived
    | TimerFired
    | CallerSpeechStarted
    | CallerSpeechEnded
    | TranscriptReady
    | CallerHungUp
)

# ---------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class Play:
    """Play a clip (spoken with ``voice``) or hold audio; report PlaybackFinished(tag) at its end.

    ``mark`` names a report line the runtime writes at the moment the first word is heard
    (the clip's speech onset), which is the ground truth for "agent_started".
    """

    source: Clip | HoldAudio
    voice: Voice | None
    tag: int
    mark: str = ""
    mark_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StopPlayback:
    """Stop what is playing at once (barge-in)."""


@dataclass(frozen=True, slots=True)
class StartTimer:
    """(Re)start a named timer."""

    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Cancel a named timer if it runs."""

    name: str


@dataclass(frozen=True, slots=True)
class Transcribe:
    """Transcribe the caller's last speech segment and answer with TranscriptReady."""


@dataclass(frozen=True, slots=True)
class Report:
    """Write one report line."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HangUp:
    """The company ends the call."""

    why: str


Effect = Play | StopPlayback | StartTimer | CancelTimer | Transcribe | Report | HangUp


class Phase(StrEnum):
    """Where the call is."""

    WAITING = "waiting"
    GREETING = "greeting"
    MENU = "menu"
    MESSAGE = "message"
    QUEUE = "queue"
    AGENT = "agent"
    ENDED = "ended"


_AGENT_TIMERS = ("hello", "silence_hangup", "reply")


def keyword_in(text: str, keyword: str) -> bool:
    """Tell whether ``keyword`` starts a word of ``text`` ("charge" matches "charged"), ignoring case."""
    words = " ".join(re.findall(r"[a-z0-9']+", text.lower()))
    phrase = " ".join(re.findall(r"[a-z0-9']+", keyword.lower()))
    return bool(phrase) and re.search(rf"\b{re.escape(phrase)}", words) is not None


class CallScript:
    """One call through a company: greeting, menu tree, queue, agent."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.phase = Phase.WAITING
        self.menu_id = company.start
        self.department = ""
        self._tag = 0
        self._playing: int | None = None
        self._playing_kind = ""
        self._listening = False
        self._no_input = 0
        self._invalid = 0
        self._awaiting_transcript = False
        self._hold = HoldCursor()
        self._segment: HoldSegment | None = None
        self._hold_reported = False
        self._agent: Agent | None = None
        self._replies_done = 0
        self._hellos_back = 0  # caller speech answered with the hello line after the replies ran out
        self._heard_user = False
        self._caller_speaking = False
        self._reply_pending = False

    @property
    def listening(self) -> bool:
        """True when a menu prompt has finished and the menu waits for a key or speech."""
        return self.phase is Phase.MENU and self._listening

    # ------------------------------------------------------------ entry point

    def handle(self, event: Event) -> list[Effect]:  # noqa: PLR0911 - one return per event kind
        """Advance the call by one event and return what the runtime must do."""
        if self.phase is Phase.ENDED:
            return []
        match event:
            case Answered():
                return self._start()
            case PlaybackFinished(tag=tag, played_s=played_s):
                if tag != self._playing:
                    return []  # a playback that was superseded
                self._playing = None
                return self._on_playback_done(played_s)
            case DigitReceived(digit=digit, via=via):
                report = Report("dtmf", {"digit": digit, "phase": self.phase.value, "via": via})
                return [report, *self._on_digit(digit)]
            case TimerFired(name=name):
                return self._on_timer(name)
            case CallerSpeechStarted():
                return self._on_speech_started()
            case CallerSpeechEnded(duration_s=duration_s):
                return self._on_speech_ended(duration_s)
            case TranscriptReady(text=text):
                return self._on_transcript(text)
            case CallerHungUp():
                self.phase = Phase.ENDED
                return [StopPlayback(), *self._cancel_all()]
        return []

    # ------------------------------------------------------------ helpers

    def _play(self, source: Clip | HoldAudio, kind: str, voice: Voice | None = None, **mark: Any) -> Play:
        self._tag += 1
        self._playing = self._tag
        self._playing_kind = kind
        name = mark.pop("mark", "")
        return Play(source, voice if voice is not None else self.company.voice, self._tag, name, mark)

    def _stop(self) -> list[Effect]:
        if self._playing is None:
            return []
        self._playing = None
        return [StopPlayback()]

    def _cancel_all(self) -> list[Effect]:
        return [CancelTimer(n) for n in ("input", "max_call", *_AGENT_TIMERS)]

    def _hang_up(self, why: str) -> list[Effect]:
        self.phase = Phase.ENDED
        return [*self._stop(), *self._cancel_all(), HangUp(why)]

    @property
    def _menu(self) -> Menu:
        return self.company.menus[self.menu_id]

    # ------------------------------------------------------------ greeting and menus

    def _start(self) -> list[Effect]:
        effects: list[Effect] = [Report("answered", {"company": self.company.id})]
        if self.company.greeting is None:
            return effects + self._begin()
        self.phase = Phase.GREETING
        text = self.company.greeting.label
        return [
            *effects,
            Report("prompt_started", {"node": "greeting", "text": text}),
            self._play(self.company.greeting, "greeting"),
        ]

    def _begin(self) -> list[Effect]:
        """Go to the first menu, or straight to the queue of a company without menus."""
        if self.company.start in self.company.queues and self.company.start not in self.company.menus:
            return self._enter_queue(self.company.start)
        return self._enter_menu(self.company.start, fresh=True)

    def _enter_menu(self, menu_id: str, *, fresh: bool) -> list[Effect]:
        self.phase = Phase.MENU
        self.menu_id = menu_id
        self._listening = False
        self._awaiting_transcript = False
        if fresh:
            self._no_input = self._invalid = 0
        menu = self._menu
        return [
            CancelTimer("input"),
            Report("prompt_started", {"node": menu_id, "text": menu.prompt.label}),
            self._play(menu.prompt, "prompt"),
        ]

    def _goto(self, goto: Goto) -> list[Effect]:
        if goto.menu is not None:
            return self._enter_menu(goto.menu, fresh=True)
        if goto.queue is not None:
            return self._enter_queue(goto.queue)
        if goto.message is not None:
            self.phase = Phase.MESSAGE
            return [
                CancelTimer("input"),
                Report("prompt_started", {"node": "message", "text": goto.message.label}),
                self._play(goto.message, "message"),
            ]
        return self._enter_menu(self.menu_id, fresh=False)  # repeat

    def _retry(self, kind: str) -> list[Effect]:
        menu = self._menu
        retry = menu.invalid if kind == "invalid" else menu.no_input
        if kind == "invalid":
            self._invalid += 1
            count = self._invalid
        else:
            self._no_input += 1
            count = self._no_input
        self._listening = False
        if count > retry.repeats:
            return [Report("menu_gave_up", {"node": self.menu_id, "reason": kind}), *self._goto(retry.then)]
        if retry.prompt is None:
            return self._enter_menu(self.menu_id, fresh=False)
        return [
            Report("prompt_started", {"node": self.menu_id, "kind": kind, "text": retry.prompt.label}),
            self._play(retry.prompt, "retry"),
        ]

    def _on_digit(self, digit: str) -> list[Effect]:
        if self.phase is Phase.GREETING and self.company.start not in self.company.menus:
            return []  # no menu to barge into
        if self.phase is Phase.GREETING:  # barge-in through the greeting straight into the first menu
            self.phase, self.menu_id = Phase.MENU, self.company.start
            self._no_input = self._invalid = 0
        if self.phase is not Phase.MENU:
            return []
        effects = [*self._stop(), CancelTimer("input")]
        self._awaiting_transcript = False
        option = self._menu.options.get(digit)
        if option is None:
            return effects + self._retry("invalid")
        return effects + self._goto(option)

    # ------------------------------------------------------------ speech

    def _on_speech_started(self) -> list[Effect]:
        if self.phase is Phase.AGENT:
            self._caller_speaking = True
            effects: list[Effect] = [CancelTimer(n) for n in _AGENT_TIMERS]
            if not self._heard_user:
                self._heard_user = True
                effects.insert(0, Report("heard_user", {}))
            return effects
        if self.phase is Phase.MENU and self._menu.listens_for_speech:
            return [*self._stop(), CancelTimer("input")]  # barge-in by voice
        return []

    def _on_speech_ended(self, duration_s: float) -> list[Effect]:
        report = Report("caller_speech", {"phase": self.phase.value, "duration_s": round(duration_s, 2)})
        if self.phase is Phase.AGENT:
            self._caller_speaking = False
            if self._agent is not None and self._answers_left(self._agent):
                if self._playing is not None:  # answer once the agent has finished the current sentence
                    self._reply_pending = True
                    return [report]
                return [report, StartTimer("reply", self._agent.reply_gap_s)]
            return [report] if self._playing is not None else [report, *self._agent_silence_timers()]
        if self.phase is Phase.MENU and self._menu.listens_for_speech and not self._awaiting_transcript:
            self._awaiting_transcript = True
            return [report, Transcribe()]
        return [report]

    def _on_transcript(self, text: str | None) -> list[Effect]:
        if self.phase is not Phase.MENU or not self._awaiting_transcript:
            return []
        self._awaiting_transcript = False
        menu = self._menu
        effects: list[Effect] = [Report("caller_said", {"node": self.menu_id, "text": text})]
        if menu.reason is not None:
            for route in menu.reason.routes:
                if text is not None and any(keyword_in(text, k) for k in route.keywords):
                    return effects + self._goto(route.goto)
            # Without a transcriber any speech counts as a reason: the default department takes it.
            return effects + self._goto(menu.reason.default)
        for option in menu.options.values():
            if text is not None and any(keyword_in(text, k) for k in option.keywords):
                return effects + self._goto(option)
        return effects + self._retry("invalid")

    # ------------------------------------------------------------ playback and timers

    def _on_playback_done(self, played_s: float) -> list[Effect]:  # noqa: PLR0911 - one return per clip kind
        kind = self._playing_kind
        if kind == "greeting":
            return self._begin()
        if kind == "prompt":
            self._listening = True
            return [StartTimer("input", self._menu.timeout_s)]
        if kind == "retry":
            return self._enter_menu(self.menu_id, fresh=False)
        if kind == "message":
            return self._hang_up("message_end")
        if kind in ("intro", "hold"):
            return self._continue_hold(played_s)
        if kind == "agent_goodbye":
            return self._hang_up("agent_silence")
        if kind == "agent_closing":
            return self._hang_up("max_call")
        if kind in ("agent_greeting", "agent_reply", "agent_hello"):
            if self._caller_speaking:
                return []
            if self._reply_pending and self._agent is not None:
                self._reply_pending = False
                return [StartTimer("reply", self._agent.reply_gap_s)]
            return self._agent_silence_timers(restart_hangup=kind != "agent_hello")
        return []

    def _on_timer(self, name: str) -> list[Effect]:  # noqa: PLR0911 - one return per timer
        if name == "input" and self.phase is Phase.MENU and self._listening:
            return self._retry("no_input")
        if self.phase is not Phase.AGENT or self._agent is None:
            return []
        agent = self._agent
        if name == "reply" and not self._caller_speaking and self._answers_left(agent):
            if self._replies_done < len(agent.replies):
                clip = agent.replies[self._replies_done]
                self._replies_done += 1
            else:
                clip = agent.hello
                self._hellos_back += 1
            return [Report("agent_said", {"text": clip.label}), self._play(clip, "agent_reply", agent.voice)]
        if name == "hello" and self._playing is None:
            return [
                Report("agent_said", {"text": agent.hello.label}),
                self._play(agent.hello, "agent_hello", agent.voice),
            ]
        if name == "silence_hangup":
            effects: list[Effect] = [*self._stop(), *[CancelTimer(n) for n in _AGENT_TIMERS]]
            if agent.goodbye is None:
                return effects + self._hang_up("agent_silence")
            return [
                *effects,
                Report("agent_said", {"text": agent.goodbye.label}),
                self._play(agent.goodbye, "agent_goodbye", agent.voice),
            ]
        if name == "max_call":
            clip = Clip(text="Thank you for calling. Goodbye.")
            return [
                *self._stop(),
                Report("agent_said", {"text": clip.text}),
                self._play(clip, "agent_closing", agent.voice),
            ]
        return []

    # ------------------------------------------------------------ queue and agent

    def _enter_queue(self, queue_id: str) -> list[Effect]:
        self.phase = Phase.QUEUE
        self.department = queue_id
        queue = self.company.queues[queue_id]
        self._hold = HoldCursor()
        effects: list[Effect] = [
            CancelTimer("input"),
            Report("department_reached", {"department": queue_id, "name": queue.name}),
        ]
        if queue.intro is not None:
            self._segment = None
            return [*effects, Report("queue_intro", {"text": queue.intro.label}), self._play(queue.intro, "intro")]
        return effects + self._next_hold()

    def _continue_hold(self, played_s: float) -> list[Effect]:
        if self._segment is None:  # the intro counts towards the wait
            self._hold = HoldCursor(self._hold.now_s + played_s, self._hold.music_pos_s, self._hold.announced)
        else:
            self._hold = advance(self._hold, self._segment, played_s)
        return self._next_hold()

    def _next_hold(self) -> list[Effect]:
        queue = self.company.queues[self.department]
        segment = next_segment(queue, self._hold)
        self._segment = segment
        if segment is None:
            return self._start_agent()
        if isinstance(segment, HoldAnnouncement):
            return [Report("announcement", {"text": segment.text}), self._play(segment.clip, "hold")]
        effects: list[Effect] = []
        if not self._hold_reported:
            self._hold_reported = True
            effects.append(Report("hold_started", {"kind": segment.kind, "music": segment.piece}))
        return [*effects, self._play(segment, "hold")]

    def _start_agent(self) -> list[Effect]:
        self.phase = Phase.AGENT
        agent = self.company.agent_for(self.department)
        self._agent = agent
        mark = {"department": self.department, "agent": agent.name, "text": agent.greeting.label}
        play = self._play(agent.greeting, "agent_greeting", agent.voice, mark="agent_started", **mark)
        return [StartTimer("max_call", agent.max_call_s), play]

    def _answers_left(self, agent: Agent) -> bool:
        """Whether the agent still answers caller speech: a reply, or its hello line said back (hellos_back)."""
        return self._replies_done < len(agent.replies) or self._hellos_back < agent.hellos_back

    def _agent_silence_timers(self, *, restart_hangup: bool = True) -> list[Effect]:
        assert self._agent is not None
        effects: list[Effect] = [StartTimer("hello", self._agent.hello_after_s)]
        if restart_hangup:
            effects.append(StartTimer("silence_hangup", self._agent.hangup_after_s))
        return effects

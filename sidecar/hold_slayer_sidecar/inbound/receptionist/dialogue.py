"""The receptionist: greets the caller on an answered leg, listens, asks once more if needed, and concludes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ...audio.types import AudioFrame, Pcm
from ...sip.api import LegEvent, LegEventKind, SipError, Unsubscribe
from ...voice.api import ChatModel, SpeechToText, TextToSpeech, VoiceEngineError
from ..ports import Screening, ScreeningContext, ScreeningOutcome
from . import decide
from .config import ReceptionistSettings
from .hearing import WORK_RATE, CallerHearing
from .listen import CallerEars, HearingFactory, TurnEnd
from .llm import merged, understand_caller
from .robocall import (
    MONOLOGUE_S,
    Prompt,
    RobocallEvidence,
    RobocallMemory,
    answered,
    longest_run_s,
    music_under,
    recording_wording,
    talked_through,
    turn_bands,
)
from .understanding import Understanding
from .wording import tidy_phrase

_LOGGER = logging.getLogger(__name__)
SAY_TIMEOUT_S = 30.0  # synthesis and playback of one line; longer means the engine is stuck
PROMPT_CACHE = 16  # the greeting and the few fixed lines, synthesised once per sidecar
SHORT_ANSWER_WORDS = 6  # an answer to "who's calling?" this short is the name itself ("Dana.", "Your mum.")
MAX_RESUMES = 2  # a turn that went on after its pause is heard out this many times (each within max_listen_s)


class ReceptionistSip(Protocol):
    """The part of the SIP engine (sip/api.py ``SipEngine``) the receptionist uses."""

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Unsubscribe:
        """Receive every leg event."""
        ...

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Unsubscribe:
        """Receive the leg's incoming audio."""
        ...

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        """Play audio into the leg until it has finished."""
        ...


class _Gone(Exception):
    """The caller hung up (or the leg failed) while the receptionist spoke."""


@dataclass(slots=True)
class _Screening:
    """What one screening has gathered so far (what a CALLER_GONE result still reports)."""

    context: ScreeningContext
    ears: CallerEars
    prompts: list[Prompt] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    listened_until_s: float = 0.0  # the caller's stream time when the last turn was heard (a turn's speech is after it)
    understanding: Understanding = field(default_factory=Understanding)


class Receptionist:
    """Implements ``inbound.ports.Screener`` with injected engines (built in ``__main__``)."""

    def __init__(
        self,
        *,
        sip: ReceptionistSip,
        tts: TextToSpeech,
        stt: SpeechToText | None,
        llm: ChatModel | None = None,
        settings: ReceptionistSettings | None = None,
        hearing: HearingFactory = CallerHearing,
        memory: RobocallMemory | None = None,
        sample_rate: int = 8000,
    ) -> None:
        self._sip = sip
        self._tts = tts
        self._stt = stt
        self.settings = settings or ReceptionistSettings()
        self._llm = llm if self.settings.use_llm else None
        self._hearing = hearing
        self.memory = memory if memory is not None else RobocallMemory()
        self._rate = sample_rate
        self._lines: OrderedDict[str, Pcm] = OrderedDict()

    async def screen(self, context: ScreeningContext) -> Screening:
        """Talk to the caller until a conclusion; never raises for a caller's behaviour (hang-up included)."""
        state = _Screening(context, CallerEars(self._hearing))

        def on_event(event: LegEvent) -> None:
            if event.leg_id == context.leg_id and event.kind is LegEventKind.DISCONNECTED:
                state.ears.gone.set()

        unsubscribes = [
            self._sip.subscribe_events(on_event),
            self._sip.subscribe_audio(context.leg_id, state.ears.on_frame),
        ]
        talk = asyncio.ensure_future(self._converse(state))
        gone = asyncio.ensure_future(state.ears.gone.wait())
        try:
            await asyncio.wait({talk, gone}, return_when=asyncio.FIRST_COMPLETED)
            if talk.done() and not state.ears.gone.is_set():
                return self._result(talk, state)
            return self._gone(state)
        finally:
            for task in (talk, gone):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for unsubscribe in unsubscribes:
                unsubscribe()

    def _result(self, talk: asyncio.Future[Screening], state: _Screening) -> Screening:
        try:
            return talk.result()
        except _Gone:
            return self._gone(state)
        except Exception as err:  # the receptionist failing must not drop the call: the caller leaves a message
            _LOGGER.exception("receptionist failed on call %s", state.context.call_id)
            return Screening(ScreeningOutcome.TAKE_MESSAGE, f"the receptionist failed ({type(err).__name__}): message")

    @staticmethod
    def _gone(state: _Screening) -> Screening:
        u = state.understanding
        return Screening(
            ScreeningOutcome.CALLER_GONE,
            "the caller hung up during screening",
            caller_name=u.caller_name,
            purpose=u.purpose,
            urgency=u.urgency,
            heard=" ".join(state.heard).strip(),
            refused_requests=u.refused_requests,
        )

    async def _converse(self, state: _Screening) -> Screening:
        """Greet, listen, perhaps ask once more, conclude, and say the closing line."""
        settings = self.settings
        greeting = settings.greeting_text(state.context.owner_name)
        first = await self._turn(state, greeting)
        understanding = state.understanding = await self._understand(state, first)
        evidence = self._evidence(state)
        question = None if evidence.robocall or not settings.follow_up else decide.follow_up(understanding, first)
        if question is not None:
            second = await self._turn(state, question)
            again = await self._understand(state, second)
            state.understanding = merged(understanding, self._answer_to(question, again, second))
            evidence = self._evidence(state)
        heard = " ".join(state.heard).strip()
        screening = decide.decide(state.understanding, evidence, heard)
        if screening.outcome is ScreeningOutcome.ROBOCALL:
            self._remember(state)
        if line := decide.closing(screening):
            with contextlib.suppress(_Gone):  # the decision stands; the race in screen() reports a hang-up
                await self._say(state, line)
        return screening

    async def _turn(self, state: _Screening, line: str) -> str:
        """Say ``line``, listen to the answer, and return its words ('' when none were understood)."""
        since = state.listened_until_s
        prompt = await self._say(state, line)
        settings = self.settings
        ears = state.ears
        text = ""
        for _ in range(1 + MAX_RESUMES):
            ended = await ears.listen(
                prompt,
                since_s=since,
                end_of_turn_s=settings.end_of_turn_s,
                no_answer_s=settings.no_answer_s,
                max_s=settings.max_listen_s,
            )
            _LOGGER.debug("call %s: turn after %r ended: %s", state.context.call_id, line, ended)
            hearing = ears.hearing
            state.listened_until_s = ears.now()
            if ended is TurnEnd.SILENT or hearing is None:
                break
            heard_until = hearing.t_s
            text = await self._transcribe(hearing.speech_pcm(since))
            # The caller went on while their words were read (a longer pause between two sentences): hear them out.
            if ended is not TurnEnd.TURN or not (hearing.speaking or any(t > heard_until for t in hearing.onsets)):
                break
        state.heard.append(text)
        return text

    async def _say(self, state: _Screening, line: str) -> Prompt:
        """Speak one line into the leg; return when it was said, in the caller's stream time."""
        pcm = await self._synthesise(line)
        start = state.ears.now()
        if pcm is not None:
            try:
                await asyncio.wait_for(self._sip.play(state.context.leg_id, pcm, self._rate), SAY_TIMEOUT_S)
            except (SipError, TimeoutError) as err:
                raise _Gone(str(err)) from err
        prompt = Prompt(start, max(state.ears.now(), start))
        state.prompts.append(prompt)
        return prompt

    async def _synthesise(self, line: str) -> Pcm | None:
        """Speech for a line (cached); None when TTS fails: the receptionist then listens without having spoken."""
        if (cached := self._lines.get(line)) is not None:
            self._lines.move_to_end(line)
            return cached
        try:
            speech = await asyncio.wait_for(self._tts.synthesize(line, self._rate), SAY_TIMEOUT_S)
        except (VoiceEngineError, TimeoutError) as err:
            _LOGGER.warning("receptionist cannot speak %r: %s", line, err)
            return None
        self._lines[line] = speech.pcm
        while len(self._lines) > PROMPT_CACHE:
            self._lines.popitem(last=False)
        return speech.pcm

    async def _transcribe(self, pcm: Pcm) -> str:
        if self._stt is None or pcm.size == 0:
            return ""
        try:
            transcript = await asyncio.wait_for(self._stt.transcribe(pcm, WORK_RATE), self.settings.stt_timeout_s)
        except (VoiceEngineError, TimeoutError) as err:
            _LOGGER.warning("receptionist could not transcribe the caller: %s", str(err) or type(err).__name__)
            return ""
        return transcript.text.strip()

    async def _understand(self, state: _Screening, text: str) -> Understanding:
        return await understand_caller(text, state.context.device_names, self._llm, self.settings.llm_budget_s)

    @staticmethod
    def _answer_to(question: str, understanding: Understanding, text: str) -> Understanding:
        """Take a short answer to the follow-up as the name or purpose it was asked for ("Dana.", "The car.")."""
        words = tidy_phrase(text)
        if not words or understanding.kind != "unknown" or understanding.refused_requests:
            return understanding
        short = len(words.split()) <= SHORT_ANSWER_WORDS
        if question == decide.FOLLOW_UP_NAME and understanding.caller_name is None and short:
            return replace(understanding, caller_name=words)
        if question == decide.FOLLOW_UP_PURPOSE and understanding.purpose is None:
            return replace(understanding, purpose=words[:200])
        return understanding

    def _evidence(self, state: _Screening) -> RobocallEvidence:
        """Run the recording test over every prompt so far and all the caller's words."""
        hearing = state.ears.hearing
        if hearing is None or not state.prompts:
            return RobocallEvidence()
        frames = hearing.frames
        eot = self.settings.end_of_turn_s
        return RobocallEvidence(
            talked_through=any(talked_through(frames, p) for p in state.prompts),
            monologue=longest_run_s(frames, 0.0, eot) >= MONOLOGUE_S,  # everything heard since the answer
            music=music_under(frames, 0.0),
            wording=recording_wording(" ".join(state.heard)),
            replay=self.memory.replays(self._first_turn(hearing)),
            answered=any(answered(hearing.onsets, frames, p, eot) for p in state.prompts),
        )

    @staticmethod
    def _first_turn(hearing: CallerHearing) -> npt.NDArray[np.float64]:
        """Return the spectra of the caller's first words since the answer (a recording may start before we speak)."""
        onsets = hearing.onsets
        return turn_bands(hearing.frames, onsets[0]) if onsets else turn_bands([], 0.0)

    def _remember(self, state: _Screening) -> None:
        if state.ears.hearing is not None and state.prompts:
            self.memory.remember(self._first_turn(state.ears.hearing))

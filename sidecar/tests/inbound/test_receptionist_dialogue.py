"""The receptionist's dialogue on synthesised callers (simulator voices and music) over a simulated line.

The audio is real (rendered speech, music beds, line noise) and heard by the real VAD and detector parts; the
speech-to-text is a fake that returns the words the script says, so these tests judge the acoustic evidence and the
dialogue, not whisper. The real whisper is in the end-to-end test and the benchmark.
"""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame, Pcm
from hold_slayer_sidecar.inbound.ports import Screening, ScreeningContext, ScreeningOutcome
from hold_slayer_sidecar.inbound.receptionist.config import ReceptionistSettings
from hold_slayer_sidecar.inbound.receptionist.dialogue import Receptionist
from hold_slayer_sidecar.inbound.receptionist.robocall import RobocallMemory
from hold_slayer_sidecar.voice.api import SpeechAudio, Transcript, VoiceEngineError
from hold_slayer_tools.bench.callers import DEV, CallerScript
from hold_slayer_tools.bench.sim_line import SimulatedLine

SPEED = 3.0  # the line runs three times faster than real time (decisions are taken in the caller's stream time)
PROMPT_S = 3.5
SCRIPTS = {s.name: s for s in DEV}


class Tts:
    """Every line takes PROMPT_S of (silent) audio; the lines said are kept."""

    def __init__(self, fail: bool = False, delay_s: float = 0.0) -> None:
        self.said: list[str] = []
        self.fail = fail
        self.delay_s = delay_s

    async def synthesize(self, text: str, sample_rate: int) -> SpeechAudio:
        self.said.append(text)
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise VoiceEngineError("tts down")
        return SpeechAudio(np.zeros(round(PROMPT_S * sample_rate), np.int16), sample_rate)

    async def health(self) -> str:
        return "ok"


class Stt:
    """Returns the given words for each transcription in turn ('' after them), or fails."""

    def __init__(self, *texts: str, fail: bool = False, delay_s: float = 0.0) -> None:
        self.texts = list(texts)
        self.fail = fail
        self.delay_s = delay_s
        self.heard_s: list[float] = []

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        self.heard_s.append(pcm.size / sample_rate)
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise VoiceEngineError("stt down")
        return Transcript(self.texts.pop(0) if self.texts else "")

    async def health(self) -> str:
        return "ok"


async def screen(
    script: CallerScript, stt: Stt, *, tts: Tts | None = None, memory: RobocallMemory | None = None
) -> tuple[Screening, Tts, SimulatedLine]:
    tts = tts or Tts()
    line = SimulatedLine(script, speed=SPEED)
    receptionist = Receptionist(
        sip=line, tts=tts, stt=stt, settings=ReceptionistSettings(owner_name="Alex"), memory=memory
    )
    context = ScreeningContext("call-1", line.leg_id, "+15550100", None, None, None, {"k": "Kitchen"})
    line.start()
    try:
        return await receptionist.screen(context), tts, line
    finally:
        await line.stop()


pytestmark = pytest.mark.slow


async def test_a_person_who_says_who_and_why_is_put_through() -> None:
    words = "This is the dentist, about tomorrow's appointment."
    result, tts, _ = await screen(SCRIPTS["dentist"], Stt(words))
    assert result.outcome is ScreeningOutcome.RING, result
    assert result.caller_name == "the dentist" and result.purpose == "about tomorrow's appointment"
    assert tts.said == [
        "Hi, you've reached Alex's line. Who's calling, and what's it about?",
        "Thanks, putting you through.",
    ]


async def test_a_recording_that_talks_through_the_greeting_is_a_robocall() -> None:
    result, tts, _ = await screen(SCRIPTS["robo_benefits"], Stt(""))
    assert result.outcome is ScreeningOutcome.ROBOCALL, result
    assert "talked on through the greeting" in result.reason
    assert len(tts.said) == 1  # no follow-up and no closing line for a recording


async def test_a_recording_over_music_is_a_robocall_and_says_so() -> None:
    result, _, _ = await screen(SCRIPTS["robo_rate_music"], Stt(""))
    assert result.outcome is ScreeningOutcome.ROBOCALL, result
    assert "music played under the voice" in result.reason


async def test_press_one_after_the_greeting_is_a_robocall_by_its_words() -> None:
    script = SCRIPTS["robo_warranty_amd"]
    result, _, _ = await screen(script, Stt(script.message))
    assert result.outcome is ScreeningOutcome.ROBOCALL, result
    assert "press one" in result.reason


async def test_a_campaign_heard_before_is_recognised_when_it_plays_again() -> None:
    memory = RobocallMemory()
    first, _, _ = await screen(SCRIPTS["robo_benefits"], Stt(""), memory=memory)
    assert first.outcome is ScreeningOutcome.ROBOCALL and len(memory) == 1
    # The same recording, now started after the greeting and with no wording that gives it away.
    again, _, _ = await screen(SCRIPTS["robo_benefits_again"], Stt("Hello, this is Amy."), memory=memory)
    assert again.outcome is ScreeningOutcome.ROBOCALL, again
    assert "earlier robocall" in again.reason


async def test_a_person_who_talks_over_the_greeting_then_answers_is_not_a_robocall() -> None:
    script = SCRIPTS["talks_over"]
    result, _, _ = await screen(script, Stt(script.answers[0]))
    assert result.outcome is ScreeningOutcome.RING, result
    assert result.caller_name is not None and "Priya" in result.caller_name


async def test_a_person_with_music_behind_them_is_not_a_robocall() -> None:
    script = SCRIPTS["radio_behind"]
    result, _, _ = await screen(script, Stt(script.answers[0]))
    assert result.outcome is ScreeningOutcome.RING, result


async def test_a_person_who_gives_no_name_is_asked_once() -> None:
    script = SCRIPTS["follow_up"]
    result, tts, _ = await screen(script, Stt(*script.answers))
    assert result.outcome is ScreeningOutcome.RING, result
    assert result.caller_name == "Sam"
    assert tts.said[1] == "Sorry, I didn't catch that. Who's calling, and what's it about?"
    assert len(tts.said) == 3


async def test_a_silent_caller_is_asked_once_then_leaves_a_message() -> None:
    result, tts, _ = await screen(SCRIPTS["silent"], Stt())
    assert result.outcome is ScreeningOutcome.TAKE_MESSAGE, result
    assert tts.said[-1] == "I'll take a message."


async def test_a_caller_who_hangs_up_mid_screening_is_gone() -> None:
    result, _, _ = await screen(SCRIPTS["hangs_up"], Stt())
    assert result.outcome is ScreeningOutcome.CALLER_GONE
    assert result.reason == "the caller hung up during screening"


async def test_a_caller_who_hangs_up_during_the_greeting_is_gone() -> None:
    script = dataclasses.replace(SCRIPTS["dentist"], hang_up_after_s=1.0)
    result, _, _ = await screen(script, Stt("unused"))
    assert result.outcome is ScreeningOutcome.CALLER_GONE


async def test_dead_speech_engines_never_drop_the_call() -> None:
    result, _, _ = await screen(SCRIPTS["dentist"], Stt(fail=True), tts=Tts(fail=True))
    assert result.outcome is ScreeningOutcome.TAKE_MESSAGE, result


async def test_an_outside_number_request_is_refused_on_the_line() -> None:
    script = SCRIPTS["outside_number"]
    result, tts, _ = await screen(
        script, Stt(script.answers[0].replace("five five five, zero one zero zero", "555-0100"))
    )
    assert result.outcome is ScreeningOutcome.TAKE_MESSAGE
    assert result.refused_requests == ("5550100",)
    assert tts.said[-1] == "I can't connect calls to other numbers, but I'll take a message."


class BrokenLine(SimulatedLine):
    """A line whose frames are malformed (wrong size and rate): the receptionist must not crash on them."""

    def subscribe_audio(self, leg_id: str, callback: object) -> object:  # type: ignore[override]
        def garble(frame: AudioFrame) -> None:
            callback(AudioFrame(np.ones(7, np.int16), 44100, frame.t_s))  # type: ignore[operator]
            callback(AudioFrame(frame.pcm[:80], 8000, frame.t_s))  # type: ignore[operator]

        return super().subscribe_audio(leg_id, garble)


async def test_malformed_audio_frames_are_survived() -> None:
    line = BrokenLine(SCRIPTS["dentist"], speed=SPEED)
    settings = ReceptionistSettings(max_listen_s=4.0, no_answer_s=2.0)
    receptionist = Receptionist(sip=line, tts=Tts(), stt=Stt(), settings=settings)
    line.start()
    try:
        result = await receptionist.screen(ScreeningContext("c", line.leg_id, "x", None, None, None, {}))
    finally:
        await line.stop()
    assert result.outcome is ScreeningOutcome.TAKE_MESSAGE


async def test_a_caller_who_goes_on_after_a_pause_is_heard_out() -> None:
    script = dataclasses.replace(
        SCRIPTS["dana_office"], answers=("Hi, this is Dana. | I'm calling about your appointment.",)
    )
    # Reading the first sentence takes long enough (3 s of the line's time) for the caller to go on meanwhile.
    stt = Stt("Hi, this is Dana.", "Hi, this is Dana. I'm calling about your appointment.", delay_s=1.0)
    result, tts, _ = await screen(script, stt)
    assert result.outcome is ScreeningOutcome.RING, result
    assert result.purpose == "about your appointment"
    assert len(tts.said) == 2  # no follow-up question was needed
    assert result.heard == "Hi, this is Dana. I'm calling about your appointment."


async def test_a_recording_that_starts_before_the_greeting_is_still_heard() -> None:
    script = SCRIPTS["robo_warranty_amd"]
    script = dataclasses.replace(script, start="answer")
    # Synthesis takes 1.5 s (4.5 s of the line's time): the message is well under way when the greeting starts.
    result, _, _ = await screen(script, Stt(script.message), tts=Tts(delay_s=1.5))
    assert result.outcome is ScreeningOutcome.ROBOCALL, result
    assert "press one" in result.reason

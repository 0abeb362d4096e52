"""The call state machine from tables of recorded inputs: pure, no engines, no clock."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.calls.events import (
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
    DialUser,
    DtmfDone,
    Effect,
    Emit,
    HangUp,
    HangUpRequested,
    Input,
    Leg,
    NoteTranscript,
    NotifyDetector,
    Observed,
    SendDtmf,
    Speak,
    SpeakDone,
    Start,
    StartTimer,
    Timer,
    TimerFired,
    Transcribe,
    Transcribed,
    UserAnswered,
    UserDialed,
    UserDisconnected,
)
from hold_slayer_sidecar.calls.machine import step
from hold_slayer_sidecar.calls.session import CallPolicy, CallSession, StepWait, call_info
from hold_slayer_sidecar.nav.api import NavAction, NavDecision
from hold_slayer_sidecar.nav.flows import CallFlow, FlowStep, FlowStepKind
from hold_slayer_sidecar.protocol import CallState

AUDIO = np.zeros(160, dtype=np.int16)


def session(flow: CallFlow | None = None, **policy: object) -> CallSession:
    return CallSession(
        call_id="c1",
        target="sip:bank@127.0.0.1",
        transfer_to="sip:me@127.0.0.1",
        started_at=0.0,
        policy=replace(CallPolicy(), **policy),  # type: ignore[arg-type]
        flow=flow,
        intent="billing",
    )


def flow(*steps: FlowStep) -> CallFlow:
    return CallFlow(id="bank", name="Bank", steps=list(steps))


def dtmf(digits: str) -> FlowStep:
    return FlowStep(kind=FlowStepKind.DTMF, digits=digits)


HOLD = FlowStep(kind=FlowStepKind.HOLD)


def run(s: CallSession, inputs: list[Input]) -> tuple[CallSession, list[CallState], list[Effect]]:
    states: list[CallState] = []
    effects: list[Effect] = []
    for event in inputs:
        s, out = step(s, event)
        effects += out
        if not states or states[-1] is not s.state:
            states.append(s.state)
    return s, states, effects


def obs(at: float, kind: K, audio: bool = False) -> Observed:
    return Observed(at, kind, at, audio=AUDIO if audio else None)


def emitted(effects: list[Effect]) -> list[str]:
    return [e.event for e in effects if isinstance(e, Emit)]


ANSWER = [Start(0.0), Dialed(0.1, "leg-c"), CompanyRinging(0.5), CompanyAnswered(2.0)]


def test_stored_flow_reaches_a_person_and_bridges() -> None:
    s, states, effects = run(
        session(flow(dtmf("1"), dtmf("2"), HOLD)),
        [
            *ANSWER,
            DtmfDone(3.0, 1, "1"),
            DtmfDone(4.0, 2, "2"),
            obs(10.0, K.HOLD_STARTED),
            obs(60.0, K.HUMAN_DETECTED),
            UserDialed(60.1, "leg-u"),
            UserAnswered(65.0),
            BridgeDone(65.1),
            UserDisconnected(200.0, 200, "BYE"),
        ],
    )
    assert states == [
        CallState.DIALING,
        CallState.RINGING,
        CallState.IVR,
        CallState.HOLD,
        CallState.HUMAN,
        CallState.RINGING_USER,
        CallState.BRIDGED,
        CallState.ENDED,
    ]
    assert [e for e in effects if isinstance(e, SendDtmf)] == [SendDtmf("1", 1), SendDtmf("2", 2)]
    assert s.digits_sent == "12"
    assert s.outcome == "connected"
    assert s.hold_seconds(999) == pytest.approx(60.0 - 4.0)
    assert emitted(effects) == [
        "dtmf_sent",
        "dtmf_sent",
        "hold_started",
        "hold_ended",
        "human_detected",
        "user_ringing",
        "bridged",
        "call_ended",
    ]
    assert Dial("sip:bank@127.0.0.1") in effects and Bridge() in effects and HangUp(Leg.COMPANY) in effects


def test_the_user_is_never_rung_before_a_person_is_detected() -> None:
    """Music, announcements, uncertain speech and prompts never dial the user; only HUMAN_DETECTED does."""
    noise = [
        obs(5.0, K.IVR_PROMPT),
        obs(8.0, K.SPEECH_SEGMENT, audio=True),
        obs(10.0, K.HOLD_STARTED),
        obs(11.0, K.MUSIC),
        obs(30.0, K.ANNOUNCEMENT),
        obs(31.0, K.SPEECH_SEGMENT, audio=True),
        obs(40.0, K.HUMAN_UNCERTAIN),
        obs(42.0, K.SILENCE),
        SpeakDone(44.5, 1),
        TimerFired(47.0, Timer.PROBE),
        obs(50.0, K.MUSIC),
        obs(55.0, K.HOLD_ENDED),
        obs(56.0, K.SILENCE),
        obs(57.0, K.BEEP),
    ]
    s, states, effects = run(session(), [*ANSWER, *noise])
    assert not any(isinstance(e, DialUser) for e in effects)
    assert CallState.PROBING in states
    assert s.state is CallState.HOLD
    s, out = step(s, obs(70.0, K.HUMAN_DETECTED))
    assert out[0] == DialUser("sip:me@127.0.0.1")  # the very first effect: no time lost
    assert s.state is CallState.HUMAN


def test_probe_says_hello_in_the_pause_after_the_speech_then_tells_the_detector() -> None:
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    s, out = step(s, obs(20.0, K.HUMAN_UNCERTAIN))
    assert s.state is CallState.PROBING
    assert not any(isinstance(e, Speak) for e in out)  # never talk over the speaker
    s, out = step(s, obs(22.5, K.SPEECH_SEGMENT, audio=True))
    assert not any(isinstance(e, Speak) for e in out)  # a sentence ended: a recording may go on
    s, out = step(s, obs(23.5, K.SILENCE))  # the speaker waits: say hello
    assert Speak("Hello?", s.ticket) in out
    s, out = step(s, SpeakDone(24.0, s.ticket))
    assert NotifyDetector(DetectorNote.PROBE_SENT) in out
    assert StartTimer(Timer.PROBE, 6.0) in out
    s, _ = step(s, obs(25.0, K.HUMAN_DETECTED))
    assert s.state is CallState.HUMAN


@pytest.mark.parametrize("ending", [obs(24.0, K.MUSIC), TimerFired(35.0, Timer.PROBE_SAY)])
def test_an_announcement_that_never_pauses_gets_no_hello(ending: Input) -> None:
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN)])
    s, out = step(s, ending)
    assert s.state is CallState.HOLD
    assert not any(isinstance(e, Speak) for e in out)


def test_probe_cooldown_counts_spoken_probes_only_and_no_tts() -> None:
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN), obs(21.0, K.MUSIC)])
    s, _ = step(s, obs(25.0, K.HUMAN_UNCERTAIN))  # nothing was said yet: probing again is fine
    assert s.state is CallState.PROBING
    s, _ = step(s, obs(27.0, K.SILENCE))  # "Hello?"
    s, _ = step(s, TimerFired(33.0, Timer.PROBE))
    assert s.state is CallState.HOLD
    s, out = step(s, obs(34.0, K.HUMAN_UNCERTAIN))  # within the cooldown of the spoken probe
    assert s.state is CallState.HOLD and out == []
    mute, _, _ = run(session(can_speak=False), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN)])
    assert mute.state is CallState.HOLD


def paused(at: float, onset: float) -> Observed:
    """The detector heard a short turn that began at ``onset`` end in a hush: "Hello?" now (stream time = call time)."""
    return Observed(at, K.HUMAN_UNCERTAIN, at, 0.5, {"onset_s": onset, "pause": True, "reason": "spoke briefly"})


def probed_once() -> CallSession:
    """On hold, one "Hello?" said at 27.0 s into an announcement that never answered (its window closed at 33.0 s)."""
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN)])
    s, _ = step(s, obs(27.0, K.SILENCE))
    s, _ = step(s, SpeakDone(27.5, s.ticket))
    s, _ = step(s, TimerFired(33.5, Timer.PROBE))
    assert s.state is CallState.HOLD and s.probes == 1
    return s


def test_a_new_short_turn_that_waits_after_the_last_answer_window_is_probed_within_the_cooldown() -> None:
    """A person who picks up after a probed announcement: their turn began after its window; "Hello?" at once."""
    s, out = step(probed_once(), paused(37.0, onset=35.0))
    assert said_probe(out) and s.probes == 2


@pytest.mark.parametrize(
    "event",
    [
        paused(35.0, onset=31.0),  # began within the probe's answer window: the stretch it probed
        obs(37.0, K.HUMAN_UNCERTAIN),  # speech that may be a person, not yet waiting: the cooldown holds
    ],
)
def test_the_cooldown_still_holds_for_the_probed_stretch_and_for_speech_not_yet_waiting(event: Observed) -> None:
    s, out = step(probed_once(), event)
    assert s.state is CallState.HOLD and out == []


def said_probe(effects: list[Effect]) -> bool:
    return any(isinstance(e, Speak) and e.text == "Hello?" for e in effects)


def test_music_inside_a_stored_flow_does_not_end_navigation() -> None:
    s, _, _ = run(session(flow(dtmf("1"), dtmf("2"), HOLD)), [*ANSWER, obs(2.5, K.HOLD_STARTED)])
    assert s.state is CallState.IVR
    s, out = step(s, DtmfDone(3.0, 1, "1"))
    assert SendDtmf("2", 2) in out


def test_listen_step_uses_the_stored_choice_after_the_prompt() -> None:
    listen = FlowStep(kind=FlowStepKind.LISTEN, choice="3")
    s, _, effects = run(session(flow(listen, HOLD)), [*ANSWER])
    assert not any(isinstance(e, SendDtmf) for e in effects)
    s, out = step(s, obs(6.0, K.SPEECH_SEGMENT, audio=True))
    assert SendDtmf("3", 1) in out
    s, _ = step(s, DtmfDone(7.0, 1, "3"))
    assert s.state is CallState.HOLD


def test_wait_steps() -> None:
    timed = FlowStep(kind=FlowStepKind.WAIT, seconds=2.5)
    prompt = FlowStep(kind=FlowStepKind.WAIT)
    s, _, effects = run(session(flow(timed, prompt, dtmf("9"), HOLD)), [*ANSWER])
    assert StartTimer(Timer.STEP, 2.5) in effects
    s, _ = step(s, TimerFired(4.5, Timer.STEP))
    s, out = step(s, obs(8.0, K.SPEECH_SEGMENT, audio=True))
    assert SendDtmf("9", 1) in out


def test_navigator_loop_without_a_flow() -> None:
    s, _, _ = run(session(can_navigate=True), [*ANSWER])
    s, out = step(s, obs(6.0, K.SPEECH_SEGMENT, audio=True))
    transcribe = next(e for e in out if isinstance(e, Transcribe) and not e.greeting)
    assert not transcribe.quick  # a menu prompt gets the careful decode
    s, out = step(s, Transcribed(7.0, "For billing press 2.", 6.0, transcribe.epoch))
    decide = next(e for e in out if isinstance(e, Decide))
    assert decide.prompt == "For billing press 2." and decide.intent == "billing"
    assert "transcript" in emitted(out)
    s, out = step(s, Decided(8.0, decide.ticket, NavDecision(NavAction.DTMF, digits="2")))
    assert SendDtmf("2", s.ticket) in out
    s, _ = step(s, DtmfDone(9.0, s.ticket, "2"))
    assert s.history == ("For billing press 2.",)
    assert s.state is CallState.IVR  # listening to the next menu
    s, _ = step(s, obs(20.0, K.HOLD_STARTED))
    assert s.state is CallState.HOLD


def test_navigator_wait_accumulates_the_prompt_and_a_failed_navigator_keeps_listening() -> None:
    s, _, _ = run(session(can_navigate=True), [*ANSWER])
    epoch = s.listen_epoch
    s, out = step(s, Transcribed(7.0, "Welcome to the bank.", 6.0, epoch))
    first = next(e for e in out if isinstance(e, Decide))
    s, _ = step(s, Transcribed(8.0, "For cards press 1.", 7.5, epoch))  # arrives while deciding
    s, out = step(s, Decided(9.0, first.ticket, NavDecision(NavAction.WAIT)))
    again = next(e for e in out if isinstance(e, Decide))
    assert again.prompt == "Welcome to the bank. For cards press 1."
    s, out = step(s, Decided(10.0, again.ticket, None))
    assert s.state is CallState.IVR and out == []


def test_user_missed_apologises_then_hangs_up() -> None:
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_DETECTED), UserDialed(20.1, "u")])
    s, out = step(s, TimerFired(50.1, Timer.RING_USER))
    assert HangUp(Leg.USER) in out
    speak = next(e for e in out if isinstance(e, Speak))
    s, out = step(s, SpeakDone(53.0, speak.ticket))
    assert s.state is CallState.ENDED and s.outcome == "user_missed"
    assert HangUp(Leg.COMPANY) in out


def test_company_hangs_up_in_the_queue() -> None:
    s, _, effects = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), CompanyDisconnected(99.0, 200, "BYE")])
    assert s.state is CallState.ENDED and s.outcome == "no_human"
    ended = [e for e in effects if isinstance(e, Emit) and e.event == "call_ended"]
    assert ended[0].data["hold_seconds"] == pytest.approx(89.0)


@pytest.mark.parametrize(
    ("inputs", "state", "outcome"),
    [
        ([Start(0), Dialed(0.1, "c"), CompanyDisconnected(1, 486, "Busy Here")], CallState.FAILED, "failed"),
        ([Start(0), Dialed(0.1, "c"), TimerFired(60, Timer.RING)], CallState.FAILED, "failed"),
        ([*ANSWER, HangUpRequested(5)], CallState.ENDED, "cancelled"),
        ([*ANSWER, obs(3, K.HOLD_STARTED), TimerFired(7203, Timer.HOLD)], CallState.ENDED, "no_human"),
        ([*ANSWER, TimerFired(302, Timer.IVR)], CallState.HOLD, None),
    ],
)
def test_endings(inputs: list[Input], state: CallState, outcome: str | None) -> None:
    s, _, _ = run(session(), inputs)
    assert s.state is state
    assert s.outcome == outcome


def test_final_sessions_ignore_everything_and_call_info_is_complete() -> None:
    s, _, _ = run(session(), [*ANSWER, HangUpRequested(5)])
    again, out = step(s, obs(6, K.HUMAN_DETECTED))
    assert again is s and out == []
    info = call_info(s, 10.0)
    assert info["state"] == "ended" and info["outcome"] == "cancelled"
    assert info["started_at"] == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize("queue_sound", [K.MUSIC, K.SILENCE, K.HOLD_STARTED])
def test_navigation_is_over_for_the_detector_only_once_the_company_stops_talking(queue_sound: K) -> None:
    s, _, effects = run(session(flow(dtmf("1"), HOLD)), [*ANSWER, DtmfDone(3.0, 1, "1")])
    assert s.state is CallState.HOLD
    assert NotifyDetector(DetectorNote.IVR_DONE) not in effects  # "Please hold for a representative" may follow
    assert StartTimer(Timer.SETTLE, 12.0) in effects
    s, out = step(s, obs(4.0, K.SPEECH_SEGMENT))
    assert NotifyDetector(DetectorNote.IVR_DONE) not in out
    s, out = step(s, obs(5.0, queue_sound))
    assert NotifyDetector(DetectorNote.IVR_DONE) in out
    s, out = step(s, obs(6.0, K.SILENCE))
    assert NotifyDetector(DetectorNote.IVR_DONE) not in out  # once


def test_settle_timer_ends_navigation_when_the_queue_is_never_heard() -> None:
    s, _, _ = run(session(flow(dtmf("1"), HOLD)), [*ANSWER, DtmfDone(3.0, 1, "1")])
    s, out = step(s, TimerFired(15.0, Timer.SETTLE))
    assert NotifyDetector(DetectorNote.IVR_DONE) in out


def test_hold_heard_by_the_detector_tells_it_at_once() -> None:
    s, _, effects = run(session(), [*ANSWER, obs(8.0, K.HOLD_STARTED)])
    assert s.state is CallState.HOLD
    assert NotifyDetector(DetectorNote.IVR_DONE) in effects


def test_a_whole_prompt_transcript_replaces_the_prompt_heard_so_far() -> None:
    s, _, _ = run(session(can_navigate=True), [*ANSWER])
    epoch = s.listen_epoch
    s, out = step(s, Transcribed(7.0, "Welcome. For cars press 1.", 6.0, epoch, prompt="Welcome. For cars press 1."))
    first = next(e for e in out if isinstance(e, Decide))
    s, out = step(s, Decided(8.0, first.ticket, NavDecision(NavAction.WAIT)))
    # The next whole transcript corrects an earlier word and says nothing new: still asked again.
    s, out = step(s, Transcribed(9.0, "", 8.5, epoch, prompt="Welcome. For cards press 1."))
    again = next(e for e in out if isinstance(e, Decide))
    assert again.prompt == "Welcome. For cards press 1."
    assert "transcript" not in emitted(out)  # nothing new to show


def test_silence_after_a_prompt_the_navigator_waited_on_asks_it_once_more() -> None:
    s, _, _ = run(session(can_navigate=True), [*ANSWER])
    s, out = step(s, obs(6.0, K.SPEECH_SEGMENT, audio=True))
    epoch = next(e for e in out if isinstance(e, Transcribe)).epoch
    s, out = step(s, obs(7.5, K.SILENCE))  # quiet before the transcript arrived: nothing to ask yet
    assert not any(isinstance(e, Decide) for e in out)
    s, out = step(s, Transcribed(8.0, "Press 1 for cards.", 6.0, epoch))
    first = next(e for e in out if isinstance(e, Decide))
    s, out = step(s, Decided(8.5, first.ticket, NavDecision(NavAction.WAIT)))
    again = next(e for e in out if isinstance(e, Decide))  # the company is quiet: the menu has ended
    assert again.prompt == "Press 1 for cards."
    s, out = step(s, Decided(9.0, again.ticket, NavDecision(NavAction.WAIT)))
    assert out == [] and s.step_wait is StepWait.LISTEN  # asked once per prompt, not in a loop
    s, out = step(s, obs(12.0, K.SILENCE))
    assert not any(isinstance(e, Decide) for e in out)


def test_speech_still_going_on_in_the_queue_is_transcribed_for_the_detector_only() -> None:
    """A partial transcript goes to the detector as a partial cue; it is neither published nor navigated on."""
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    s, out = step(s, obs(20.0, K.SPEECH_PARTIAL, audio=True))
    assert [(type(e), getattr(e, "partial", None), getattr(e, "epoch", None)) for e in out] == [(Transcribe, True, 0)]
    assert all(e.quick for e in out if isinstance(e, Transcribe))  # the detector's words, wanted soon
    s, out = step(s, Transcribed(20.4, "Thanks for holding, this is Dana.", 20.0, 0, partial=True))
    assert out == [NoteTranscript("Thanks for holding, this is Dana.", 20.0, partial=True)]
    assert s.state is CallState.HOLD
    _, out = step(s, Transcribed(20.4, "", 20.0, 0, partial=True))  # speech-to-text failed: nothing to note
    assert out == []


def test_a_partial_before_the_call_was_answered_is_ignored() -> None:
    s, _ = step(session(), Start(0.0))
    _, out = step(s, obs(1.0, K.SPEECH_PARTIAL, audio=True))
    assert out == []


def _silent_hold_after_speaking() -> CallSession:
    """A navigating call that said its reason, then heard nothing long enough for the detector to call it a hold."""
    s, _, _ = run(session(can_navigate=True), [*ANSWER, obs(20.0, K.HOLD_STARTED)])
    assert s.state is CallState.HOLD
    return s


def test_a_submenu_heard_in_the_queue_sends_the_call_back_to_navigating() -> None:
    s = _silent_hold_after_speaking()
    s, out = step(s, Transcribed(24.0, "Billing. To make a payment, say payment or press 1.", 23.5, 0))
    assert s.state is CallState.HOLD and not any(isinstance(e, Decide) for e in out)  # one key: not yet a menu
    s, out = step(s, Transcribed(27.0, "To ask about a charge on your bill, say charge or press 2.", 26.5, 0))
    assert s.state is CallState.IVR and s.hold_started_at is None  # the pause was no hold
    decide = next(e for e in out if isinstance(e, Decide))
    assert decide.prompt.startswith("Billing. To make a payment") and decide.prompt.endswith("or press 2.")
    assert NotifyDetector(DetectorNote.MENU_AGAIN) in out
    assert StartTimer(Timer.IVR, 300.0) in out
    s, out = step(s, Decided(28.0, decide.ticket, NavDecision(NavAction.DTMF, digits="2")))
    assert SendDtmf("2", s.ticket) in out
    # The next segments are navigation segments again (a listen epoch, not 0).
    s, _ = step(s, DtmfDone(28.5, s.ticket, "2"))
    _, out = step(s, obs(30.0, K.SPEECH_SEGMENT, audio=True))
    assert next(e for e in out if isinstance(e, Transcribe)).epoch == s.listen_epoch != 0


@pytest.mark.parametrize(
    "words",
    [
        ["If you would like to keep holding, press 1.", "To request a callback, press 2."],
        ["Press 1 to leave a voicemail. Press 2 for billing."],
        ["Your call is important to us. Please stay on the line."],
    ],
)
def test_queue_offers_in_the_hold_are_never_navigated(words: list[str]) -> None:
    s = _silent_hold_after_speaking()
    for k, text in enumerate(words):
        s, out = step(s, Transcribed(24.0 + k, text, 23.5 + k, 0))
        assert not any(isinstance(e, (Decide, SendDtmf)) for e in out)
    assert s.state is CallState.HOLD


def test_music_between_announcements_keeps_their_keys_apart() -> None:
    s = _silent_hold_after_speaking()
    s, _ = step(s, Transcribed(24.0, "For our app, press 1.", 23.5, 0))
    s, _ = step(s, obs(25.0, K.MUSIC))
    s, out = step(s, Transcribed(60.0, "For a survey after this call, stay on and press 2.", 59.5, 0))
    assert s.state is CallState.HOLD and not any(isinstance(e, Decide) for e in out)


def test_a_menu_in_the_queue_is_only_navigated_with_a_navigator_and_no_pending_flow_step() -> None:
    menu = "For billing press 1. For support press 2."
    s, _, _ = run(session(), [*ANSWER, obs(20.0, K.HOLD_STARTED)])  # no navigator
    s, _ = step(s, Transcribed(24.0, menu, 23.5, 0))
    assert s.state is CallState.HOLD
    s, _, _ = run(session(flow(dtmf("1"), HOLD), can_navigate=True), [*ANSWER, DtmfDone(3.0, 1, "1")])
    s, _ = step(s, Transcribed(24.0, menu, 23.5, 0))  # the flow's HOLD step is where the call should be
    assert s.state is CallState.HOLD


def test_a_key_press_first_cuts_the_speech_going_on() -> None:
    """The company cuts its prompt short for the next one: the detector ends the segment so the two do not merge."""
    s, _, _ = run(session(can_navigate=True), [*ANSWER])
    s, out = step(s, Transcribed(7.0, "For cards press 1.", 6.0, s.listen_epoch))
    decide = next(e for e in out if isinstance(e, Decide))
    _, out = step(s, Decided(8.0, decide.ticket, NavDecision(NavAction.DTMF, digits="1")))
    assert out.index(NotifyDetector(DetectorNote.KEY_SENT)) < next(
        k for k, e in enumerate(out) if isinstance(e, SendDtmf)
    )


def test_speech_heard_in_the_queue_gets_the_quick_decode() -> None:
    """A finished segment in the hold is heard for the detector's sake: a person's "Yes?" should not wait."""
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    hold = Observed(20.0, K.SPEECH_SEGMENT, 20.0, data={"context": "hold"}, audio=AUDIO)
    _, out = step(s, hold)
    assert [e.quick for e in out if isinstance(e, Transcribe)] == [True]
    ivr = Observed(20.0, K.SPEECH_SEGMENT, 20.0, data={"context": "ivr"}, audio=AUDIO)
    _, out = step(s, ivr)
    assert [e.quick for e in out if isinstance(e, Transcribe)] == [False]


def test_a_lone_burst_is_heard_for_its_words_only() -> None:
    """A short sound the VAD missed (audio/burst.py): transcribed quickly; it never moves a flow or a menu on."""
    wait = FlowStep(kind=FlowStepKind.WAIT)
    s, _, _ = run(session(flow(wait, dtmf("9"), HOLD), can_navigate=True), [*ANSWER])
    lone = Observed(8.0, K.SPEECH_SEGMENT, 8.0, data={"context": "hold", "lone": True}, audio=AUDIO)
    s, out = step(s, lone)
    assert [(e.quick, e.epoch) for e in out if isinstance(e, Transcribe)] == [(True, 0)]
    assert not any(isinstance(e, SendDtmf) for e in out)
    _, out = step(s, obs(9.0, K.SPEECH_SEGMENT, audio=True))
    assert SendDtmf("9", 1) in out  # the prompt the flow waits for still moves it on


def test_a_menu_whose_words_reach_the_quiet_point_is_settled_though_the_replay_has_begun() -> None:
    """Speech-to-text behind the company: the first hearing ends where the company went quiet, not at the replay."""
    s, _, _ = run(session(can_navigate=True), [*ANSWER])
    s, out = step(s, obs(6.0, K.SPEECH_SEGMENT, audio=True))
    epoch = next(e for e in out if isinstance(e, Transcribe)).epoch
    s, _ = step(s, obs(7.5, K.SILENCE))  # the menu ended at 6.0 s; its words are still on their way
    s, _ = step(s, obs(12.0, K.SPEECH_SEGMENT, audio=True))  # the company's replay, 4.5 s after the menu
    s, _ = step(s, obs(16.0, K.SPEECH_SEGMENT, audio=True))
    s, out = step(s, Transcribed(17.0, "Press 1 for cards.", 6.0, epoch))  # the first hearing's words, late
    first = next(e for e in out if isinstance(e, Decide))
    assert first.behind_s == pytest.approx(10.0)  # the replay's 10 s of speech are not transcribed yet
    s, out = step(s, Decided(17.5, first.ticket, NavDecision(NavAction.WAIT)))
    again = next(e for e in out if isinstance(e, Decide))  # complete: the words reached the quiet point
    assert again.prompt == "Press 1 for cards." and again.behind_s == pytest.approx(10.0)
    s, out = step(s, Decided(18.0, again.ticket, NavDecision(NavAction.WAIT)))
    assert out == []  # a quiet point settles once
    s, out = step(s, Transcribed(19.0, "Press 1 for cards.", 12.0, epoch))  # the replay's words: not settled yet
    s, out = step(s, Decided(19.5, next(e for e in out if isinstance(e, Decide)).ticket, NavDecision(NavAction.WAIT)))
    assert out == []


def test_the_person_found_event_names_the_detectors_rule() -> None:
    """A false transfer is traced to the rule that rang from the events alone."""
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    found = Observed(40.0, K.HUMAN_DETECTED, 39.5, 0.8, {"reason": "greeted, then waited in quiet: 'Hello?'"})
    _, out = step(s, found)
    event = next(e for e in out if isinstance(e, Emit) and e.event == "human_detected")
    assert event.data["rule"] == "greeted, then waited in quiet: 'Hello?'"


def test_a_probe_that_collided_with_the_far_side_s_speech_is_said_again_at_the_next_pause() -> None:
    """Said at a pause but played late (a loaded machine): it ended over their next sentence, which cannot answer it.

    Not counted and no cooldown: the next pause gets a "Hello?" at once, and the cooldown runs from that one.
    """
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN)])
    s, _ = step(s, obs(23.5, K.SILENCE))
    s, _ = step(s, SpeakDone(25.0, s.ticket))  # 1.5 s late: the speaker had gone on meanwhile
    assert s.probes == 1
    s, out = step(s, obs(25.02, K.PROBE_COLLIDED))
    assert s.state is CallState.PROBING and s.probe_pending and s.probes == 0 and s.last_probe_at is None
    assert CancelTimer(Timer.PROBE) in out and StartTimer(Timer.PROBE_SAY, 15.0) in out
    s, out = step(s, obs(28.0, K.SILENCE))  # their next pause: within the cooldown of the collided probe, said anyway
    assert Speak("Hello?", s.ticket) in out
    s, out = step(s, SpeakDone(28.6, s.ticket))
    assert NotifyDetector(DetectorNote.PROBE_SENT) in out and s.probes == 1 and s.last_probe_at == 28.0
    s, _ = step(s, obs(29.5, K.HUMAN_DETECTED))
    assert s.state is CallState.HUMAN


def test_a_recording_that_talks_over_every_probe_gets_a_bounded_number_of_them() -> None:
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN)])
    said = 0
    for k in range(6):
        at = 21.0 + 3 * k
        s, out = step(s, obs(at, K.SILENCE))
        said += sum(isinstance(e, Speak) for e in out)
        s, _ = step(s, SpeakDone(at + 0.6, s.ticket))
        s, _ = step(s, obs(at + 0.62, K.PROBE_COLLIDED))
    assert said == 4  # the first and the three said again (MAX_COLLIDED_PROBES); the fourth collision counts
    assert s.probes == 1 and not s.probe_pending


def test_a_collision_report_outside_probing_changes_nothing() -> None:
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    assert step(s, obs(12.0, K.PROBE_COLLIDED)) == (s, [])


def test_a_wordless_answer_gets_a_second_hello_at_once() -> None:
    """The detector waited in quiet after an answer with no words: "Hello?" again now (counted), its answer decides."""
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.0, K.HUMAN_UNCERTAIN)])
    s, _ = step(s, obs(23.5, K.SILENCE))
    s, _ = step(s, SpeakDone(24.0, s.ticket))
    again = Observed(27.5, K.HUMAN_UNCERTAIN, 27.5, data={"again": True, "reason": "a wordless answer"})
    s, out = step(s, again)
    assert CancelTimer(Timer.PROBE) in out and Speak("Hello?", s.ticket) in out
    assert s.state is CallState.PROBING and s.probes == 2 and s.last_probe_at == 27.5
    s, out = step(s, SpeakDone(28.0, s.ticket))
    assert NotifyDetector(DetectorNote.PROBE_SENT) in out
    held, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    assert step(held, again) == (held, [])  # only while probing


def test_a_speaker_who_waits_gets_hello_at_once_even_without_silence() -> None:
    """The detector heard the hush after short words (babble may go on: no SILENCE): probe and say it now."""
    s, _, _ = run(session(), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    s, out = step(s, Observed(20.0, K.HUMAN_UNCERTAIN, 20.0, data={"pause": True, "reason": "spoke briefly"}))
    assert s.state is CallState.PROBING and Speak("Hello?", s.ticket) in out and s.probes == 1


def music_left(at: float, onset: float) -> Observed:
    """The detector: the hold's music stopped for a short turn that began at ``onset`` and stayed off after it."""
    data = {"onset_s": onset, "ring": True, "reason": "the music left the line for a short turn"}
    return Observed(at, K.HUMAN_UNCERTAIN, at, 0.6, data)


def rung_while_probing() -> CallSession:
    """On hold; a short turn 20.0-21.5 s, the music gone for 1.6 s after it: "Hello?" and the user's phone rings."""
    s, _, _ = run(
        session(ring_when_music_left=True), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.5, K.HUMAN_UNCERTAIN)]
    )
    s, out = step(s, music_left(23.1, onset=20.0))
    assert said_probe(out) and DialUser("sip:me@127.0.0.1") in out
    assert s.state is CallState.PROBING and s.early_ring
    s, _ = step(s, UserDialed(23.2, "leg-u"))
    s, out = step(s, SpeakDone(23.7, s.ticket))
    assert NotifyDetector(DetectorNote.PROBE_SENT) in out
    return s


def test_the_users_phone_rings_with_the_probe_and_the_answer_bridges_without_a_second_dial() -> None:
    s, out = step(rung_while_probing(), obs(25.0, K.HUMAN_DETECTED))
    assert s.state is CallState.RINGING_USER and not any(isinstance(e, DialUser) for e in out)
    s, out = step(s, UserAnswered(30.0))
    assert Bridge() in out


def test_a_user_who_picks_up_before_the_answer_is_bridged_only_at_the_confirmation() -> None:
    s, out = step(rung_while_probing(), UserAnswered(24.0))
    assert s.user_up and not any(isinstance(e, Bridge) for e in out)
    s, out = step(s, obs(25.0, K.HUMAN_DETECTED))
    assert Bridge() in out


@pytest.mark.parametrize(
    "ending",
    [
        TimerFired(29.7, Timer.PROBE),  # nobody answered "Hello?"
        obs(24.5, K.MUSIC),  # the hold's music came back
        obs(24.5, K.ANNOUNCEMENT),  # its words turned out to be a hold message's
    ],
)
def test_a_turn_nobody_answers_stops_the_ring_and_never_bridges(ending: Input) -> None:
    s, out = step(rung_while_probing(), ending)
    assert s.state is CallState.HOLD and not s.early_ring and s.early_rings_cancelled == 1
    assert HangUp(Leg.USER) in out
    s, out = step(s, UserAnswered(31.0))
    assert not any(isinstance(e, Bridge) for e in out)


def test_no_ring_without_a_probe_to_settle_it() -> None:
    """The probe cooldown holds for this stretch (it began inside the last probe's answer window): no ring either."""
    s, out = step(probed_once(), music_left(34.0, onset=31.0))
    assert s.state is CallState.HOLD and out == []
    mute, _, _ = run(session(can_speak=False), [*ANSWER, obs(10.0, K.HOLD_STARTED)])
    mute, out = step(mute, music_left(23.1, onset=20.0))
    assert mute.state is CallState.HOLD and out == []


def test_switched_off_the_music_leaving_only_has_the_pending_probe_said() -> None:
    """With CallPolicy.ring_when_music_left off: the speaker waits, so "Hello?" now, but no ring yet."""
    s, _, _ = run(
        session(ring_when_music_left=False), [*ANSWER, obs(10.0, K.HOLD_STARTED), obs(20.5, K.HUMAN_UNCERTAIN)]
    )
    s, out = step(s, music_left(23.1, onset=20.0))
    assert said_probe(out) and not any(isinstance(e, DialUser) for e in out) and not s.early_ring

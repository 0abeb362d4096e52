"""A person who greets in the menus (after ringback, after the last key) is probed and settled by the answer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.calls.events import (
    Bridge,
    CancelTimer,
    CompanyAnswered,
    CompanyDisconnected,
    CompanyRinging,
    Decide,
    Decided,
    DetectorNote,
    Dialed,
    DialUser,
    DtmfDone,
    Effect,
    HangUp,
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
    UserDialFailed,
    UserDisconnected,
)
from hold_slayer_sidecar.calls.greeting import may_be_person
from hold_slayer_sidecar.calls.machine import step
from hold_slayer_sidecar.calls.session import CallPolicy, CallSession, StepWait
from hold_slayer_sidecar.nav.api import NavAction, NavDecision
from hold_slayer_sidecar.protocol import CallState

AUDIO = np.zeros(800, dtype=np.int16)
ANSWER = [Start(0.0), Dialed(0.1, "c"), CompanyRinging(0.2), CompanyAnswered(6.0)]


def new(*, navigate: bool = True, **policy: object) -> CallSession:
    return CallSession(
        "c1",
        "sip:co@127.0.0.1",
        "sip:me@127.0.0.1",
        0.0,
        policy=replace(CallPolicy(can_navigate=navigate), **policy),  # type: ignore[arg-type]
        intent="billing" if navigate else None,
    )


def run(s: CallSession, inputs: list[Input]) -> tuple[CallSession, list[Effect]]:
    effects: list[Effect] = []
    for event in inputs:
        s, out = step(s, event)
        effects += out
    return s, effects


def heard(s: CallSession, at: float, text: str) -> Transcribed:
    """The transcript of a segment that ended 0.8 s before, as the call asked for it."""
    s, out = step(s, Observed(at - 0.8, K.SPEECH_SEGMENT, at - 0.8, audio=AUDIO, data={"context": "ivr"}))
    epoch = next(e for e in out if isinstance(e, Transcribe)).epoch
    return Transcribed(at, text, at - 0.8, epoch)


def said(effects: list[Effect]) -> list[str]:
    return [e.text for e in effects if isinstance(e, Speak)]


@pytest.mark.parametrize("navigate", [True, False])
def test_a_greeting_after_ringback_is_probed_in_the_pause_then_the_answer_rings_the_user(navigate: bool) -> None:
    s, _ = run(new(navigate=navigate, ring_on_greeting=False), ANSWER)
    s, _ = step(s, Observed(7.9, K.SPEECH_SEGMENT, 7.9, audio=AUDIO, data={"context": "ivr"}))
    s, out = step(s, Transcribed(8.4, "Hi, this is Sam.", 7.9, s.listen_epoch if navigate else 0))
    assert s.state is CallState.PROBING and said(out) == []  # the speaker may still be talking: wait for a pause
    assert not any(isinstance(e, Decide) for e in out)  # nothing is pressed on a person's greeting
    assert NoteTranscript("Hi, this is Sam.", 7.9) in out  # the detector hears the words too
    s, out = step(s, Observed(8.9, K.SILENCE, 7.9))
    assert said(out) == ["Hello?"]
    s, out = step(s, SpeakDone(9.5, s.ticket))
    assert NotifyDetector(DetectorNote.PROBE_SENT) in out  # the detector judges the answer (audio/judge.py)
    s, out = step(s, Transcribed(10.9, "Yes, hello?", 10.6, 0))
    assert NoteTranscript("Yes, hello?", 10.6) in out
    s, out = step(s, Observed(11.0, K.HUMAN_DETECTED, 10.7))
    assert isinstance(out[0], DialUser) and s.state is CallState.HUMAN


def test_the_probe_is_said_at_once_when_the_pause_came_before_the_words() -> None:
    s, _ = run(new(), ANSWER)
    event = heard(s, 8.4, "Hello, you're speaking with Priya.")
    s, _ = step(s, Observed(7.6, K.SPEECH_SEGMENT, 7.6, audio=AUDIO, data={"context": "ivr"}))
    s, _ = step(s, Observed(8.6, K.SILENCE, 7.6))  # quiet for a second already
    s, out = step(s, replace(event, at=9.0))
    assert said(out) == ["Hello?"]


@pytest.mark.parametrize(
    "ending",
    [
        TimerFired(24.0, Timer.PROBE),  # nobody answered the probe
        TimerFired(24.0, Timer.PROBE_SAY),  # the speaker never paused
        Observed(12.0, K.MUSIC, 11.0),  # music: the greeting was the company's
    ],
)
def test_no_answer_goes_back_to_the_menus(ending: Input) -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, heard(s, 8.4, "Hi, this is Sam."))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, _ = step(s, SpeakDone(9.5, s.ticket))
    epoch = s.listen_epoch
    s, out = step(s, ending)
    assert s.state is CallState.IVR and not s.direct
    assert s.listen_epoch == epoch + 1  # a new menu is listened to from its start
    assert not any(isinstance(e, DialUser) for e in out)
    # ... and navigation goes on: the next menu gets a decision and its key.
    s, out = step(s, heard(s, 30.0, "For billing, press 2. For support, press 3."))
    decide = next(e for e in out if isinstance(e, Decide))
    s, out = step(s, Decided(31.0, decide.ticket, NavDecision(NavAction.DTMF, digits="2")))
    assert SendDtmf("2", s.ticket) in out


def test_hold_after_the_greeting_is_a_queue() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, heard(s, 8.4, "Hi there."))
    s, out = step(s, Observed(11.0, K.HOLD_STARTED, 10.0))
    assert s.state is CallState.HOLD and not s.direct
    assert NotifyDetector(DetectorNote.IVR_DONE) in out


def test_a_navigator_decision_on_its_way_is_void_while_probing() -> None:
    s, _ = run(new(), ANSWER)
    s, out = step(s, heard(s, 7.5, "Thank you for calling."))
    decide = next(e for e in out if isinstance(e, Decide))
    s, _ = step(s, heard(s, 8.4, "Hi, this is Sam."))
    s, out = step(s, Decided(8.6, decide.ticket, NavDecision(NavAction.DTMF, digits="0")))
    assert out == [] and s.state is CallState.PROBING


def test_after_the_last_key_the_agent_who_greets_is_probed() -> None:
    s, _ = run(new(), ANSWER)
    s, out = step(s, heard(s, 9.0, "For billing, press 2."))
    decide = next(e for e in out if isinstance(e, Decide))
    s, _ = step(s, Decided(9.5, decide.ticket, NavDecision(NavAction.DTMF, digits="2")))
    s, _ = step(s, DtmfDone(10.0, s.ticket, "2"))
    s, _ = step(s, heard(s, 14.0, "Billing, this is Dana."))
    assert s.state is CallState.PROBING


@pytest.mark.parametrize(
    ("words", "probed"),
    [
        ("Hi, this is Sam.", True),
        ("Hello?", True),
        ("Yes?", True),
        ("Good morning, Acme Plumbing.", True),
        ("Thanks for calling Acme, this is Sam, how can I help you today?", True),
        ("Thank you for calling Acme Bank.", False),  # a welcome: no greeting of a person
        ("Hi, I'm Ava, your virtual assistant.", False),  # an automated assistant says what it is
        ("Hello! Please listen carefully, as our menu options have changed.", False),
        ("For billing, press 1.", False),
        ("Hi, this is Sam. Please say the reason for your call.", False),  # a menu listening for speech
        ("Your call is important to us.", False),
        ("", False),
    ],
)
def test_which_words_are_probed(words: str, probed: bool) -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, heard(s, 8.4, words))
    assert (s.state is CallState.PROBING) is probed
    assert may_be_person(words, words) is probed


def test_a_greeting_cut_or_garbled_before_its_last_words_is_still_probed() -> None:
    s, _ = run(new(), ANSWER)
    for at, words in ((7.0, "Bye."), (7.8, "This is F.")):  # garbled "Hi, this is Sam."
        s, _ = step(s, heard(s, at, words))
        assert s.state is CallState.IVR
    s, _ = step(s, heard(s, 12.0, "Hello."))
    assert s.state is CallState.PROBING


def test_a_menu_that_listens_for_speech_is_not_probed_after_its_prompt() -> None:
    """A "Hello?" said while a menu that accepts speech may be listening would be an answer to that menu."""
    s, _ = run(new(), ANSWER)
    s, out = step(s, heard(s, 8.0, "In a few words, please say why you are calling."))
    decide = next(e for e in out if isinstance(e, Decide))
    s, _ = step(s, Decided(8.2, decide.ticket, NavDecision(NavAction.WAIT)))
    s, _ = step(s, heard(s, 11.0, "Hello?"))  # the IVR's own re-prompt after its timeout
    assert s.state is CallState.IVR


@pytest.mark.parametrize(
    "policy",
    [{"can_speak": False}, {"max_probes": 0}],
)
def test_no_probe_without_a_voice_or_with_probes_used_up(policy: dict[str, object]) -> None:
    s, _ = run(new(**policy), ANSWER)
    s, _ = step(s, heard(s, 8.4, "Hi, this is Sam."))
    assert s.state is CallState.IVR


def test_the_probe_cooldown_applies() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, heard(s, 8.4, "Hi, this is Sam."))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, _ = step(s, SpeakDone(9.5, s.ticket))
    s, _ = step(s, TimerFired(14.0, Timer.PROBE))
    s, _ = step(s, heard(s, 16.0, "Hi, this is Sam."))  # the same words again while the last answer window was open
    assert s.state is CallState.IVR
    s, _ = step(s, heard(s, 19.0, "Hello, are you there?"))  # a person who was not heard asks again: probe again
    assert s.state is CallState.PROBING and s.probes == 1


@pytest.mark.parametrize("wait", [StepWait.DTMF, StepWait.SPEAK])
def test_no_probe_while_our_key_or_reason_answers_the_menu(wait: StepWait) -> None:
    s, _ = run(new(), ANSWER)
    event = heard(s, 8.4, "Hi, this is Sam.")
    s, _ = step(replace(s, step_wait=wait), event)
    assert s.state is CallState.IVR


def greeted(**policy: object) -> CallSession:
    """A call whose greeting "Hi, this is Sam." is being probed; the user's phone was rung for it."""
    s, _ = run(new(**policy), ANSWER)
    s, out = step(s, heard(s, 8.4, "Hi, this is Sam."))
    assert s.state is CallState.PROBING
    assert (DialUser("sip:me@127.0.0.1") in out) is s.policy.ring_on_greeting
    return s


def test_the_users_phone_rings_for_a_greeting_and_the_confirmed_person_is_bridged_without_a_second_dial() -> None:
    s = greeted()
    assert s.early_ring
    s, out = step(s, UserDialed(8.6, "u"))
    assert s.state is CallState.PROBING and s.user_leg == "u"  # ringing, but still probing: nothing is bridged
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, _ = step(s, SpeakDone(9.5, s.ticket))
    s, out = step(s, Observed(11.0, K.HUMAN_DETECTED, 10.7))
    assert s.state is CallState.RINGING_USER and not s.early_ring
    assert not any(isinstance(e, DialUser) for e in out)
    assert said(out) == [s.policy.courtesy_text]  # the person is kept on the line while the phone rings on
    s, out = step(s, UserAnswered(14.0))
    assert Bridge() in out


def test_a_user_who_picks_up_before_the_person_is_confirmed_is_bridged_only_at_the_confirmation() -> None:
    s = greeted()
    s, _ = step(s, UserDialed(8.6, "u"))
    s, out = step(s, UserAnswered(9.0))
    assert s.user_up and s.state is CallState.PROBING and Bridge() not in out
    s, _ = step(s, Observed(9.2, K.SILENCE, 7.9))
    s, _ = step(s, SpeakDone(9.8, s.ticket))
    s, out = step(s, Observed(11.0, K.HUMAN_DETECTED, 10.7))
    assert Bridge() in out and said(out) == []


@pytest.mark.parametrize(
    "ending",
    [TimerFired(24.0, Timer.PROBE), TimerFired(24.0, Timer.PROBE_SAY), Observed(12.0, K.MUSIC, 11.0)],
)
def test_a_greeting_that_was_a_recording_cancels_the_ring_and_never_bridges(ending: Input) -> None:
    s = greeted()
    s, _ = step(s, UserDialed(8.6, "u"))
    s, _ = step(s, UserAnswered(9.0))  # even a user who already picked up is never connected to the recording
    s, out = step(s, ending)
    assert HangUp(Leg.USER) in out and Bridge() not in out
    assert s.user_leg is None and not s.early_ring and not s.user_up


def test_a_ring_still_on_its_way_when_the_probe_fails_is_hung_up_when_it_lands() -> None:
    s = greeted()
    s, out = step(s, TimerFired(24.0, Timer.PROBE_SAY))
    assert not any(isinstance(e, HangUp) for e in out)
    s, out = step(s, UserDialed(24.2, "u"))
    assert HangUp(Leg.USER) in out and s.state is CallState.IVR


def test_a_declined_or_failed_early_ring_is_tried_again_for_a_confirmed_person() -> None:
    for failure in (UserDisconnected(9.0, 486, "Busy Here"), UserDialFailed(9.0, "503")):
        s = greeted()
        if isinstance(failure, UserDisconnected):
            s, _ = step(s, UserDialed(8.6, "u"))
        s, out = step(s, failure)
        assert s.state is CallState.PROBING and not s.early_ring and out == []
        s, _ = step(s, Observed(9.2, K.SILENCE, 7.9))
        s, _ = step(s, SpeakDone(9.8, s.ticket))
        s, out = step(s, Observed(11.0, K.HUMAN_DETECTED, 10.7))
        assert DialUser("sip:me@127.0.0.1") in out and s.state is CallState.HUMAN


def test_the_company_hanging_up_during_the_probe_hangs_up_the_early_ring() -> None:
    s = greeted()
    s, _ = step(s, UserDialed(8.6, "u"))
    s, out = step(s, CompanyDisconnected(10.0))
    assert HangUp(Leg.USER) in out and s.final


def test_no_early_ring_when_turned_off() -> None:
    s = greeted(ring_on_greeting=False)
    assert not s.early_ring


def test_the_first_short_segment_is_also_decoded_quickly_for_a_greeting_and_that_decode_probes() -> None:
    s, _ = run(new(), ANSWER)
    s, out = step(s, Observed(7.9, K.SPEECH_SEGMENT, 7.9, audio=AUDIO, data={"context": "ivr"}))
    quick = [e for e in out if isinstance(e, Transcribe) and e.greeting]
    assert len(quick) == 1 and quick[0].quick and quick[0].epoch == s.listen_epoch
    assert out.index(quick[0]) < next(i for i, e in enumerate(out) if isinstance(e, Transcribe) and not e.greeting)
    s, out = step(s, Transcribed(8.3, "Hi, this is Sam.", 7.9, s.listen_epoch, greeting=True))
    assert s.state is CallState.PROBING and DialUser("sip:me@127.0.0.1") in out
    # The menu decode, biased to menu words, comes later and says nothing more about the greeting.
    s, out = step(s, Transcribed(9.0, "Press the same.", 7.9, s.listen_epoch))
    assert s.state is CallState.PROBING and out == []


def test_a_quick_decode_that_is_no_greeting_leaves_the_menu_to_its_own_decode() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, Observed(7.9, K.SPEECH_SEGMENT, 7.9, audio=AUDIO, data={"context": "ivr"}))
    before = s
    s, out = step(s, Transcribed(8.3, "Thank you for calling Acme.", 7.9, s.listen_epoch, greeting=True))
    assert replace(s, greeting_t_s=before.greeting_t_s) == before and out == []
    assert s.greeting_t_s == 7.9  # its words are in (probe_pause rings with the probe)


def test_a_long_or_later_segment_gets_no_greeting_decode() -> None:
    s, _ = run(new(), ANSWER)
    long = np.zeros(8000 * 6, dtype=np.int16)  # 6 s: a welcome, not a greeting
    _, out = step(s, Observed(7.9, K.SPEECH_SEGMENT, 7.9, audio=long, data={"context": "ivr"}))
    assert not any(isinstance(e, Transcribe) and e.greeting for e in out)
    s, _ = step(s, heard(s, 8.4, "Welcome to Acme. For billing, press 2."))
    _, out = step(s, Observed(9.9, K.SPEECH_SEGMENT, 9.9, audio=AUDIO, data={"context": "ivr"}))
    assert not any(isinstance(e, Transcribe) and e.greeting for e in out)


def test_a_quick_decode_that_reads_as_a_welcome_stops_further_greeting_decodes_in_that_menu() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, Observed(7.9, K.SPEECH_SEGMENT, 7.9, audio=AUDIO, data={"context": "ivr"}))
    s, _ = step(
        s,
        Transcribed(
            8.3, "Thank you for calling Acme Bank and Trust, your local bank.", 7.9, s.listen_epoch, greeting=True
        ),
    )
    _, out = step(s, Observed(9.9, K.SPEECH_SEGMENT, 9.9, audio=AUDIO, data={"context": "ivr"}))
    assert not any(isinstance(e, Transcribe) and e.greeting for e in out)


def test_a_greeting_decode_that_ends_in_a_bare_greeting_is_probed() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, Observed(7.9, K.SPEECH_SEGMENT, 7.9, audio=AUDIO, data={"context": "ivr"}))
    s, _ = step(s, Transcribed(8.3, "Service test. For you. Hello?", 7.9, s.listen_epoch, greeting=True))
    assert s.state is CallState.PROBING


def test_after_one_cancelled_early_ring_the_next_greeting_rings_only_at_its_confirmation() -> None:
    s = greeted()
    s, _ = step(s, UserDialed(8.6, "u"))
    s, _ = step(s, TimerFired(24.0, Timer.PROBE_SAY))  # cancelled
    assert s.early_rings_cancelled == 1
    s, out = step(s, heard(s, 40.0, "Hello? Anybody there?"))
    assert s.state is CallState.PROBING and not any(isinstance(e, DialUser) for e in out)
    s, _ = step(s, Observed(40.5, K.SILENCE, 39.2))
    s, _ = step(s, SpeakDone(41.0, s.ticket))
    s, out = step(s, Observed(42.5, K.HUMAN_DETECTED, 42.0))
    assert DialUser("sip:me@127.0.0.1") in out and s.state is CallState.HUMAN


def spoke(at: float, seconds: float) -> Observed:
    """A menu segment of ``seconds`` of speech that ended at ``at`` (its words not in yet)."""
    return Observed(
        at, K.SPEECH_SEGMENT, at, audio=AUDIO, data={"context": "ivr", "start_s": at - seconds, "end_s": at}
    )


def test_a_short_turn_then_a_second_of_quiet_is_probed_before_its_words_are_in() -> None:
    """A noisy line or a loaded machine: the words come late or garbled; the pause itself is probed."""
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.7))
    s, out = step(s, Observed(8.9, K.SILENCE, 7.9, data={"quiet_s": 1.0}))
    assert StartTimer(Timer.PAUSE, 1.0) in out and said(out) == []  # an IVR may pause 1.5 s before its menu
    s, out = step(s, TimerFired(9.9, Timer.PAUSE))
    assert s.state is CallState.PROBING and s.direct and said(out) == ["Hello?"]
    assert not any(isinstance(e, DialUser) for e in out)  # its words are not in: they may yet read as a recording
    s, out = step(s, SpeakDone(9.5, s.ticket))
    assert NotifyDetector(DetectorNote.PROBE_SENT) in out
    # The words come in meanwhile and greet: the user's phone rings while the answer settles it.
    s, out = step(s, Transcribed(10.0, "Glenview Plumbing, Ewan here.", 7.9, s.listen_epoch, greeting=True))
    assert DialUser("sip:me@127.0.0.1") in out and s.early_ring


def test_a_pause_after_a_turn_whose_garbled_words_are_in_is_probed_and_rings_only_at_the_answer() -> None:
    """An accent on a lossy line, or a recorded "Your call is being connected." then a pause: the words read as
    nothing, and a pause is no evidence of a person; by default the user's phone rings only once the answer confirms."""
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.2))
    s, _ = step(s, Transcribed(8.6, "That's the best we kill.", 7.9, s.listen_epoch, greeting=True))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9, data={"quiet_s": 1.0}))
    s, out = step(s, TimerFired(9.9, Timer.PAUSE))
    assert said(out) == ["Hello?"] and not any(isinstance(e, DialUser) for e in out) and not s.early_ring
    s, out = step(s, Observed(11.5, K.HUMAN_DETECTED, 11.4))
    assert s.state is CallState.HUMAN and DialUser("sip:me@127.0.0.1") in out


def test_a_pause_after_a_turn_whose_garbled_words_are_in_rings_with_the_probe_when_asked() -> None:
    """CallPolicy.ring_on_pause: the phone rings with the probe; the answer still decides the bridge."""
    s, _ = run(new(ring_on_pause=True), ANSWER)
    s, _ = step(s, spoke(7.9, 1.2))
    s, _ = step(s, Transcribed(8.6, "That's the best we kill.", 7.9, s.listen_epoch, greeting=True))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9, data={"quiet_s": 1.0}))
    s, out = step(s, TimerFired(9.9, Timer.PAUSE))
    assert said(out) == ["Hello?"] and DialUser("sip:me@127.0.0.1") in out and s.early_ring
    s, out = step(s, Observed(11.5, K.HUMAN_DETECTED, 11.4))
    assert s.state is CallState.HUMAN


def test_words_garbled_past_a_greeting_still_leave_the_bridge_to_the_answer() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.7))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, _ = step(s, TimerFired(9.9, Timer.PAUSE))
    assert s.state is CallState.PROBING
    s, out = step(s, Transcribed(10.0, "You're going to be plumbing.", 7.9, s.listen_epoch))
    assert out == [] and not s.early_ring  # no ring on words that do not greet
    s, _ = step(s, SpeakDone(10.1, s.ticket))
    s, out = step(s, TimerFired(16.1, Timer.PROBE))  # nobody answered: back to the menus
    assert s.state is CallState.IVR and not any(isinstance(e, DialUser) for e in out)


@pytest.mark.parametrize(
    ("words", "seconds", "wait"),
    [
        ("Please enter your account number.", 2.0, StepWait.LISTEN),  # a menu that waits for input says so
        ("Your call is important to us.", 2.0, StepWait.LISTEN),  # hold wording: a recording
        ("", 4.5, StepWait.LISTEN),  # a welcome and a menu's first options, words not in yet
        ("", 1.5, StepWait.DTMF),  # our key answers the menu: the quiet is the menu's
    ],
)
def test_a_pause_is_not_probed_after_a_menu_a_recording_a_long_turn_or_our_own_key(
    words: str, seconds: float, wait: StepWait
) -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, seconds))
    if words:
        s, _ = step(s, Transcribed(8.5, words, 7.9, s.listen_epoch))
    s = replace(s, step_wait=wait)
    s, out = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, more = step(s, TimerFired(9.9, Timer.PAUSE))
    assert s.state is CallState.IVR and said(out + more) == []


def test_speech_again_before_the_pause_lasted_is_the_company_going_on() -> None:
    """A welcome, 1.5 s of quiet, then the menu: no "Hello?" over the menu."""
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.2))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, out = step(s, Observed(9.4, K.IVR_PROMPT, 9.4))
    assert CancelTimer(Timer.PAUSE) in out
    s, out = step(s, TimerFired(9.9, Timer.PAUSE))  # fired before the cancel reached it
    assert s.state is CallState.IVR and said(out) == []


@pytest.mark.parametrize(
    ("decoded", "probed"),
    [
        ("I will be right behind you, but we are speaking. I'll tell you, but may.", True),  # a talker misheard
        ("Welcome to Acme. For billing, press 1.", False),  # a menu's words
    ],
)
def test_a_quick_decode_with_many_words_keeps_the_pause_probe_unless_it_reads_as_the_company(
    decoded: str, probed: bool
) -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 2.8))
    s, _ = step(s, Transcribed(8.3, decoded, 7.9, s.listen_epoch, greeting=True))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, out = step(s, TimerFired(9.9, Timer.PAUSE))
    assert (said(out) == ["Hello?"]) is probed


def test_a_pause_after_speech_before_our_last_move_is_not_probed() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.5))
    s = replace(s, listen_epoch=s.listen_epoch + 1)  # we pressed a key since: nothing heard in this menu yet
    s, out = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, more = step(s, TimerFired(9.9, Timer.PAUSE))
    assert s.state is CallState.IVR and said(out + more) == []


def test_an_answer_to_the_probe_with_no_words_still_reaches_the_detector() -> None:
    """Speech-to-text found nothing in the answer: the detector is told its words are in, so the pause decides."""
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.7))
    s, _ = step(s, Observed(8.9, K.SILENCE, 7.9))
    s, _ = step(s, TimerFired(9.9, Timer.PAUSE))
    s, _ = step(s, SpeakDone(10.4, s.ticket))
    s, out = step(s, Transcribed(12.0, "", 11.6, 0))
    assert NoteTranscript("", 11.6) in out
    s, out = step(s, Observed(13.3, K.HUMAN_DETECTED, 13.2))
    assert s.state is CallState.HUMAN and any(isinstance(e, DialUser) for e in out)


def test_an_empty_transcript_in_the_menus_is_not_given_to_the_detector() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(7.9, 1.7))
    s, out = step(s, Transcribed(8.5, "", 7.9, s.listen_epoch))
    assert not any(isinstance(e, NoteTranscript) for e in out)


def menu_then_quiet(wait: StepWait = StepWait.LISTEN) -> CallSession:
    """A menu (two segments, words in), then the company falls quiet; no key from us."""
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(8.0, 2.0))
    s, _ = step(s, Transcribed(8.4, "Welcome to Brightline Heating.", 8.0, s.listen_epoch))
    s, _ = step(s, spoke(12.5, 4.0))
    s, _ = step(s, Transcribed(13.0, "For installations, press 1. For repairs, press 2.", 12.5, s.listen_epoch))
    return replace(s, step_wait=wait)


def test_a_menu_quiet_for_the_turn_gap_ends_its_turn_and_a_person_after_it_is_probed() -> None:
    """The menu timed out and put a person through by itself: their greeting is judged alone, not with the menu."""
    s = menu_then_quiet()
    epoch = s.listen_epoch
    s, out = step(s, Observed(13.5, K.SILENCE, 12.5, data={"quiet_s": 1.0}))
    assert StartTimer(Timer.TURN_GAP, 2.0) in out
    s, out = step(s, TimerFired(15.5, Timer.TURN_GAP))
    assert s.listen_epoch == epoch + 1 and s.prompt == "" and s.state is CallState.IVR
    # The person greets and waits: the short turn's pause is probed (its words garbled or not in yet).
    s, _ = step(s, Observed(20.0, K.IVR_PROMPT, 20.0))
    s, _ = step(s, spoke(21.4, 1.4))
    s, _ = step(s, Observed(22.4, K.SILENCE, 21.4, data={"quiet_s": 1.0}))
    s, out = step(s, TimerFired(23.4, Timer.PAUSE))
    assert s.state is CallState.PROBING and said(out) == ["Hello?"]


def test_the_turn_a_menu_ended_without_our_key_goes_with_its_replay_to_the_navigator() -> None:
    """The replay after the company's no-input timeout is asked about with the first hearing (issue #21)."""
    s = menu_then_quiet()
    first = s.prompt
    s, _ = step(s, Observed(13.5, K.SILENCE, 12.5, data={"quiet_s": 1.0}))
    s, _ = step(s, TimerFired(15.5, Timer.TURN_GAP))
    assert s.earlier_hearings == (first,) and s.prompt == ""
    s, _ = step(s, spoke(20.0, 4.0))
    s, out = step(s, Transcribed(20.4, "For installations, press 1. For repairs, press 2.", 20.0, s.listen_epoch))
    asked = [e for e in out if isinstance(e, Decide)]
    assert asked and asked[-1].earlier == (first,)
    # A key went out: the next menu is another one, heard for the first time.
    decision = NavDecision(NavAction.DTMF, digits="2")
    s, out = step(s, Decided(20.6, asked[-1].ticket, decision))
    assert any(isinstance(e, SendDtmf) for e in out) and s.earlier_hearings == ()


def test_speech_before_the_turn_gap_keeps_the_menus_turn() -> None:
    s = menu_then_quiet()
    epoch = s.listen_epoch
    s, _ = step(s, Observed(13.5, K.SILENCE, 12.5, data={"quiet_s": 1.0}))
    s, out = step(s, Observed(14.0, K.IVR_PROMPT, 14.0))
    assert CancelTimer(Timer.TURN_GAP) in out
    s, _ = step(s, TimerFired(15.5, Timer.TURN_GAP))  # fired before the cancel reached it
    assert s.listen_epoch == epoch and s.prompt


@pytest.mark.parametrize("wait", [StepWait.DTMF, StepWait.DECIDE, StepWait.SPEAK])
def test_no_turn_gap_while_our_move_is_under_way(wait: StepWait) -> None:
    s = menu_then_quiet(wait)
    epoch = s.listen_epoch
    s, out = step(s, Observed(13.5, K.SILENCE, 12.5, data={"quiet_s": 1.0}))
    s, _ = step(s, TimerFired(15.5, Timer.TURN_GAP))
    assert s.listen_epoch == epoch and not any(isinstance(e, StartTimer) and e.name is Timer.TURN_GAP for e in out)


def test_no_turn_gap_before_the_words_of_the_menu_are_in() -> None:
    """A loaded machine: the navigator has not had the menu's last words; a new turn would throw them away."""
    s, _ = run(new(), ANSWER)
    s, _ = step(s, spoke(8.0, 2.0))
    s, _ = step(s, Transcribed(8.4, "Welcome to Brightline Heating.", 8.0, s.listen_epoch))
    s, _ = step(s, spoke(12.5, 4.0))  # its words are still being decoded
    s, epoch = replace(s, step_wait=StepWait.LISTEN), s.listen_epoch
    s, _ = step(s, Observed(13.5, K.SILENCE, 12.5, data={"quiet_s": 1.0}))
    s, _ = step(s, TimerFired(15.5, Timer.TURN_GAP))
    assert s.listen_epoch == epoch


# A person's long opening: the words so far of a menu segment still going on (audio/detector.py MENU_PARTIAL_*).
def menu_partial(at: float) -> Observed:
    return Observed(at, K.SPEECH_PARTIAL, at, audio=AUDIO, data={"context": "menu", "start_s": 6.3})


def partial_decode(s: CallSession, at: float, text: str) -> Transcribed:
    return Transcribed(at + 0.3, text, at, s.listen_epoch, greeting=True, partial=True)


def test_a_menu_segment_still_going_on_is_decoded_unbiased_and_marked_partial() -> None:
    s, _ = run(new(), ANSWER)
    _, out = step(s, menu_partial(7.3))
    assert out == [Transcribe(AUDIO, 7.3, s.listen_epoch, 8000, partial=True, quick=True, greeting=True)]


@pytest.mark.parametrize("wait", [StepWait.DTMF, StepWait.SPEAK])
def test_no_partial_decode_while_our_key_or_reason_answers_the_menu(wait: StepWait) -> None:
    s, _ = run(new(), ANSWER)
    assert step(replace(s, step_wait=wait), menu_partial(7.3))[1] == []


@pytest.mark.parametrize(
    "words",
    [
        "Good afternoon, thank you for calling Millbrook Dental, you're speaking with Priya",
        "Hi there, thanks for calling Redline Bikes, this is Carla,",
        "Claims, could I take your policy number",
        "Hello, how can I help",
    ],
)
def test_a_long_opening_rings_the_user_while_the_person_still_speaks_and_is_probed_at_their_pause(words: str) -> None:
    s, _ = run(new(), ANSWER)
    s, out = step(s, partial_decode(s, 8.3, words))
    assert s.state is CallState.PROBING and s.early_ring and s.probe_pending
    assert DialUser("sip:me@127.0.0.1") in out and said(out) == []  # never "Hello?" over the person's words
    s, out = step(s, Observed(12.0, K.SILENCE, 11.0))  # the pause after the opening: now the probe
    assert said(out) == ["Hello?"]


@pytest.mark.parametrize(
    "words",
    [
        "Thank you for calling Millbrook",  # a welcome so far: nobody named, nothing asked
        "Hello, this is",  # the start of a message reads the same until its next words are in
        "This is Northwind Bank",  # a company's name, not a person's
        "Hi, this is Nova, please stay on the line",  # hold wording
        "Hi, this is Nova. For billing, press 1",  # a menu
        "Hello",  # a bare greeting needs the pause after it (the segment's own decode)
    ],
)
def test_words_so_far_that_name_no_person_or_read_as_the_company_are_not_probed(words: str) -> None:
    s, _ = run(new(), ANSWER)
    s2, out = step(s, partial_decode(s, 8.3, words))
    assert s2.state is CallState.IVR and out == []


def test_menu_words_in_a_partial_stop_further_greeting_decodes_in_that_menu() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, partial_decode(s, 8.3, "Welcome to Acme, for billing press 1"))
    assert s.no_greeting_epoch == s.listen_epoch
    assert step(s, menu_partial(9.3))[1] == []


def test_a_recording_probed_on_its_first_words_is_left_before_the_probe_when_its_words_give_it_away() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, partial_decode(s, 7.3, "Hi, this is Nova,"))
    assert s.state is CallState.PROBING and s.early_ring
    s, out = step(
        s,
        Transcribed(
            8.6,
            "Hi, this is Nova, Beacon's virtual assistant.",
            8.2,
            s.listen_epoch,
            prompt="Hi, this is Nova, Beacon's virtual assistant.",
            greeting=True,
        ),
    )
    assert s.state is CallState.IVR and not s.early_ring and said(out) == []
    assert s.early_rings_cancelled == 1


def test_a_later_partial_of_the_turn_being_probed_changes_nothing() -> None:
    s, _ = run(new(), ANSWER)
    s, _ = step(s, partial_decode(s, 8.3, "Hi, this is Carla,"))
    before = s
    s, out = step(s, partial_decode(s, 9.3, "Hi, this is Carla, what can I do for you"))
    assert s == before and out == []


def test_no_partial_probe_when_probes_are_used_up_or_cooling() -> None:
    s, _ = run(new(max_probes=0), ANSWER)
    assert step(s, partial_decode(s, 8.3, "Hi, this is Carla,"))[0].state is CallState.IVR
    s, _ = run(new(), ANSWER)
    s = replace(s, last_probe_at=7.0)
    assert step(s, partial_decode(s, 8.3, "Hi, this is Carla,"))[0].state is CallState.IVR

"""The courtesy line: the person who answered hears a short line, then "still connecting", until the user answers."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from conftest import FakeSip, Rig, settle
from hold_slayer_sidecar.audio.types import Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.calls.events import (
    Bridge,
    BridgeDone,
    CancelTimer,
    CompanyAnswered,
    CompanyRinging,
    Dialed,
    DialUser,
    Effect,
    Input,
    Observed,
    Speak,
    SpeakDone,
    Start,
    StartTimer,
    StopSpeaking,
    Timer,
    TimerFired,
    UserAnswered,
    UserDialed,
)
from hold_slayer_sidecar.calls.machine import step
from hold_slayer_sidecar.calls.session import CallPolicy, CallSession
from hold_slayer_sidecar.protocol import CallState
from hold_slayer_sidecar.settings import CourtesyLines
from pydantic import ValidationError

GREETING = "Hi, thanks for picking up. I'm connecting you to Alex now, one moment please."
STILL = "Still connecting you, one moment please."
POLICY = CallPolicy(courtesy_text=GREETING, still_connecting_text=STILL, still_connecting_every_s=7.0)
ANSWER_AT_53 = [TimerFired(51.0, Timer.COURTESY), UserAnswered(53.0)]
REACHED = [
    Start(0.0),
    Dialed(0.1, "c"),
    CompanyRinging(0.2),
    CompanyAnswered(1.0),
    Observed(5.0, K.HOLD_STARTED, 4.0),
    Observed(30.0, K.HUMAN_DETECTED, 29.0),
]


def new(**policy: object) -> CallSession:
    return CallSession("c1", "sip:co@127.0.0.1", "sip:me@127.0.0.1", 0.0, policy=replace(POLICY, **policy))  # type: ignore[arg-type]


def run(s: CallSession, inputs: list[Input]) -> tuple[CallSession, list[Effect]]:
    effects: list[Effect] = []
    for event in inputs:
        s, out = step(s, event)
        effects += out
    return s, effects


def speak(effects: list[Effect]) -> Speak:
    return next(e for e in effects if isinstance(e, Speak))


def test_the_person_hears_the_greeting_right_after_the_user_is_rung() -> None:
    s, _ = run(new(), REACHED[:-1])
    s, out = step(s, REACHED[-1])
    assert isinstance(out[0], DialUser)  # ringing the user comes first: nothing may delay it
    assert out.index(StopSpeaking()) < out.index(speak(out))  # a probe still playing is cut, not talked over
    assert speak(out).text == GREETING


@pytest.mark.parametrize(
    ("script", "lines", "bridged"),
    [
        # (what happens after the greeting ended at 34 s, what the person hears after the greeting, bridged?)
        ([UserDialed(30.2, "u"), UserAnswered(33.0)], [], True),  # the user answers during the greeting
        ([UserDialed(30.2, "u"), "greeting done", TimerFired(41.0, Timer.COURTESY), UserAnswered(42.0)], [STILL], True),
        (
            [UserDialed(30.2, "u"), "greeting done", TimerFired(41.0, Timer.COURTESY), "still done", *ANSWER_AT_53],
            [STILL, STILL],
            True,
        ),
    ],
)
def test_still_connecting_every_few_seconds_until_the_user_answers(
    script: list[Input | str], lines: list[str], bridged: bool
) -> None:
    s, effects = run(new(), REACHED)
    said: list[str] = []
    for item in script:
        if isinstance(item, str):  # the line playing now ends
            s, out = step(s, SpeakDone(40.0, s.ticket))
            assert StartTimer(Timer.COURTESY, 7.0) in out
        else:
            s, out = step(s, item)
            said += [e.text for e in out if isinstance(e, Speak)]
            effects += out
    assert said == lines
    assert (Bridge() in effects) is bridged
    answered = effects[-len(out) :]
    # The bridge must not carry our line: the line stops and no further line is due before the legs are joined.
    assert answered.index(StopSpeaking()) < answered.index(Bridge())
    assert CancelTimer(Timer.COURTESY) in answered


def test_nothing_more_is_said_once_the_user_answered() -> None:
    s, _ = run(new(), [*REACHED, UserDialed(30.2, "u")])
    greeting_ticket = s.ticket
    s, _ = step(s, UserAnswered(32.0))
    for late in (SpeakDone(33.0, greeting_ticket), TimerFired(40.0, Timer.COURTESY)):
        s, out = step(s, late)
        assert out == []
    s, _ = step(s, BridgeDone(33.0))
    assert s.state is CallState.BRIDGED


def test_the_user_never_answers_the_person_is_told_politely() -> None:
    s, _ = run(new(ring_user_s=30.0), [*REACHED, UserDialed(30.2, "u")])
    s, _ = step(s, SpeakDone(34.0, s.ticket))
    s, out = step(s, TimerFired(41.0, Timer.COURTESY))
    still_ticket = speak(out).ticket
    s, out = step(s, TimerFired(60.2, Timer.RING_USER))
    assert out.index(StopSpeaking()) < out.index(speak(out))  # "still connecting" is cut, not overlapped
    assert speak(out).text.startswith("Sorry")
    s, out = step(s, SpeakDone(61.0, still_ticket))  # the cut line's late completion ends nothing
    assert s.state is CallState.RINGING_USER and out == []
    s, out = step(s, TimerFired(61.5, Timer.COURTESY))
    assert out == []
    s, _ = step(s, SpeakDone(63.0, s.ticket))
    assert s.state is CallState.ENDED and s.outcome == "user_missed"


@pytest.mark.parametrize("policy", [{"can_speak": False}, {"courtesy_text": "", "still_connecting_text": ""}])
def test_no_lines_without_a_voice_or_with_the_lines_turned_off(policy: dict[str, object]) -> None:
    s, effects = run(new(**policy), [*REACHED, UserDialed(30.2, "u"), SpeakDone(34.0, 0)])
    s, out = step(s, TimerFired(41.0, Timer.COURTESY))
    assert not [e for e in effects + out if isinstance(e, Speak)]


@pytest.mark.parametrize(
    ("lines", "greeting", "still"),
    [
        ({}, "Hi, thanks for picking up. I'm connecting you now, one moment please.", STILL),
        ({"name": "Alex"}, GREETING, STILL),
        (
            {"name": "Alex", "greeting": "Hello, {name} will be right with you."},
            "Hello, Alex will be right with you.",
            STILL,
        ),
        ({"greeting": "Hello, {name} will be right with you."}, "Hello, the caller will be right with you.", STILL),
        ({"enabled": False, "name": "Alex"}, "", ""),
    ],
)
def test_courtesy_settings(lines: dict[str, object], greeting: str, still: str) -> None:
    courtesy = CourtesyLines.model_validate(lines)
    assert courtesy.greeting_text() == greeting
    assert courtesy.still_connecting_text() == still


@pytest.mark.parametrize(
    "lines",
    [
        {"greeting": "Hi {caller.__class__}"},  # only {name}: no attribute access into Python objects
        {"greeting": "Hi {0}"},
        {"greeting": "Hi {name"},
        {"name": "Alex {name}"},
        {"name": "Alex\nBYE sip:x"},
        {"name": "x" * 41},
        {"still_connecting_every_s": 0.5},
        {"greeting": "x" * 201},
    ],
)
def test_bad_courtesy_settings_are_refused(lines: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CourtesyLines.model_validate(lines)


async def test_the_bridge_waits_for_the_line_to_stop(rig: Rig) -> None:
    sip: FakeSip = rig.sip
    sip.play_s = 5.0  # the greeting is still playing when the user picks up
    sip.behaviour["sip:me@127.0.0.1"] = "late"
    sip.answer_after_s = 0.2
    await rig.manager.place_call("sip:bank@127.0.0.1")
    await settle()
    leg = sip.dialed[0][0]
    await rig.observe(leg, Observation(K.HOLD_STARTED, 1.0), Observation(K.HUMAN_DETECTED, 2.0))
    await asyncio.sleep(0.4)
    await settle()
    assert rig.states()[-1] == "bridged"
    assert sip.cut == [leg] and not sip.played_into_bridge
    assert any(text.startswith("Hi, thanks for picking up") for text in rig.tts.said)

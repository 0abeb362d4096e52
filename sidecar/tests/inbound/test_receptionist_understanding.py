"""The receptionist's embedded understanding of callers' words: tables of wordings as speech-to-text writes them."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.inbound.ports import ScreeningOutcome
from hold_slayer_sidecar.inbound.receptionist.decide import FOLLOW_UP_BOTH, FOLLOW_UP_NAME, decide, follow_up
from hold_slayer_sidecar.inbound.receptionist.robocall import RobocallEvidence
from hold_slayer_sidecar.inbound.receptionist.understanding import understand

DEVICES = {"dev-k": "Kitchen", "dev-s": "Sam's phone", "dev-o": "Office"}

# (words, caller name must hold, purpose must hold, outcome)
PEOPLE = [
    ("This is the dentist about tomorrow's appointment.", "dentist", "tomorrow's appointment", "ring"),
    ("This is the dentist, about tomorrow's appointment.", "dentist", "appointment", "ring"),
    ("Hi, this is Dana from Dr. Patel's office. I'm calling to confirm your appointment on Tuesday.",
     "Dana from Dr Patel's office", "confirm your appointment", "ring"),
    ("Hello, my name is Tom, I'm the plumber. I'm calling about fixing your sink.", "Tom", "sink", "ring"),
    ("Hi, it's Laura from the vet clinic, regarding Max's vaccination.", "Laura", "vaccination", "ring"),
    ("Yes, hi. This is Priya with Acme Plumbing about the leak you reported.", "Priya", "leak", "ring"),
    ("Hi I'm Priya with Acme Plumbing, about the leak you reported.", "Priya", "leak", "ring"),
    ("Sam here, I wanted to ask about Saturday.", "Sam", "ask about Saturday", "ring"),
    ("It's your neighbour, there's a problem with your fence.", "your neighbour", "problem with your fence", "ring"),
    ("Hi, I have a delivery for you, but nobody's answering the door.", None, "delivery", "ring"),
    ("Good morning, it's Anna Schmidt, calling about the job application.", "Anna Schmidt", "job application", "ring"),
]  # fmt: skip


@pytest.mark.parametrize(("words", "name", "purpose", "outcome"), PEOPLE)
def test_people_who_say_who_and_why_are_put_through(words: str, name: str | None, purpose: str, outcome: str) -> None:
    understood = understand(words, DEVICES)
    if name is not None:
        assert understood.caller_name is not None and name.lower() in understood.caller_name.lower()
    assert understood.purpose is not None and purpose.lower() in understood.purpose.lower()
    screening = decide(understood, RobocallEvidence(answered=True), words)
    assert screening.outcome.value == outcome
    assert screening.urgency == "normal"
    assert not screening.refused_requests


# Outside numbers in many wordings: recorded, never put through (not even to the household's own phones).
OUTSIDE = [
    ("Hello, it's Mike. Can you put me through to 555-0100?", "5550100"),
    ("Can you put me through the five, five, five, zero, one, zero, zero?", "5550100"),
    ("Transfer me to nine one one, please.", "911"),
    ("Please transfer this call to 1-800-555-1212.", "18005551212"),
    ("Could you connect me with 020 7946 0958?", "02079460958"),
    ("Patch me through to my lawyer at 555 0199.", "5550199"),
    ("Dial 911 for me.", "911"),
    ("I need an outside line.", "an outside line"),
    ("Forward my call to 0044 20 7946 0000 please, it's urgent.", "00442079460000"),
]


@pytest.mark.parametrize(("words", "number"), OUTSIDE)
def test_a_request_for_an_outside_number_is_refused_and_never_rings(words: str, number: str) -> None:
    understood = understand(words, DEVICES)
    assert number in understood.refused_requests
    screening = decide(understood, RobocallEvidence(answered=True), words)
    assert screening.outcome is ScreeningOutcome.TAKE_MESSAGE
    assert screening.device_id is None
    assert number in screening.refused_requests
    assert "outside number" in screening.reason


@pytest.mark.parametrize(
    "words",
    [
        "Hi, it's Joe, call me back at 555 0100 when you can.",  # a callback number, not a transfer
        "This is Dana, my number is 555 0100.",
        "I'm calling about your order number 12345.",
    ],
)
def test_numbers_that_are_not_requests_to_be_put_through_are_not_refusals(words: str) -> None:
    assert understand(words, DEVICES).refused_requests == ()


# (words, outcome, urgency)
KINDS = [
    ("Hi, we're doing a short survey about internet service in your area.", "end", "low"),
    ("Good evening, we're conducting a poll about the upcoming election.", "end", "low"),
    ("Congratulations, you've been selected for a free cruise to the Bahamas.", "end", "low"),
    ("Hello, I'm calling about a special offer on home security systems in your neighbourhood.", "end", "low"),
    ("We can lower your credit card interest rate today.", "end", "low"),
    ("Hi, this is Mark from SunPower about solar panels for your home.", "end", "low"),
    ("Oh, sorry, I think I have the wrong number.", "end", "normal"),
    ("Hey, it's Joe. No rush, just tell Alex to call me back when he can.", "take_message", "normal"),
    ("Can you take a message for Alex? It's Kim.", "take_message", "normal"),
    ("It's nothing urgent, I'll leave a message.", "take_message", "normal"),
]


@pytest.mark.parametrize(("words", "outcome", "urgency"), KINDS)
def test_sales_surveys_wrong_numbers_and_messages(words: str, outcome: str, urgency: str) -> None:
    screening = decide(understand(words, DEVICES), RobocallEvidence(answered=True), words)
    assert (screening.outcome.value, screening.urgency) == (outcome, urgency)


URGENT = [
    "Hi, this is Mrs. Green from Lincoln Elementary School. I'm calling about your daughter, she has a fever.",
    "I'm calling from the hospital. Your father was admitted this morning, please call back urgently.",
    "This is Mom, it's urgent, call me back.",
    "There's been an accident, please pick up.",
    "This is Jenny at Little Stars daycare. Your son fell in the playground and hurt his arm.",
    "It's the school nurse about your boy.",
    "This is the police department, we need to reach you right away.",
]


@pytest.mark.parametrize("words", URGENT)
def test_urgent_callers_ring_even_when_they_ask_for_a_call_back(words: str) -> None:
    screening = decide(understand(words, DEVICES), RobocallEvidence(answered=True), words)
    assert screening.urgency == "high"
    assert screening.outcome is ScreeningOutcome.RING
    assert "urgent" in screening.reason


@pytest.mark.parametrize(
    ("words", "device"),
    [
        ("Can you connect me to the kitchen please, it's Grandma.", "dev-k"),
        ("Hi, is Sam there? It's his mum.", "dev-s"),
        ("It's Priya, could I speak to Sam please?", "dev-s"),
        ("Put me through to the office, this is Dave from accounts.", "dev-o"),
        ("This is Dave calling from the office supply store about your order.", None),  # no request
    ],
)
def test_a_device_asked_for_by_name(words: str, device: str | None) -> None:
    screening = decide(understand(words, DEVICES), RobocallEvidence(answered=True), words)
    assert screening.device_id == device
    assert screening.outcome is ScreeningOutcome.RING


@pytest.mark.parametrize(
    ("words", "question"),
    [
        ("", FOLLOW_UP_BOTH),
        ("Hello?", FOLLOW_UP_BOTH),
        ("Hi, is Alex there?", FOLLOW_UP_BOTH),
        ("I'm calling about the car.", FOLLOW_UP_NAME),
        ("This is the dentist about tomorrow's appointment.", None),
        ("Hi, we're doing a short survey.", None),  # a survey is ended, not questioned
        ("Transfer me to 911.", None),  # a refusal is not negotiated
    ],
)
def test_one_follow_up_question_only_when_it_can_help(words: str, question: str | None) -> None:
    assert follow_up(understand(words, DEVICES), words) == question


@pytest.mark.parametrize(
    "words",
    [
        "Hello? Hello? Is anyone there?",
        "um",
        "Hi, is Alex there?",
    ],
)
def test_no_name_and_no_reason_takes_a_message(words: str) -> None:
    screening = decide(understand(words, DEVICES), RobocallEvidence(answered=True), words)
    assert screening.outcome is ScreeningOutcome.TAKE_MESSAGE


@pytest.mark.parametrize(
    "words",
    [
        "This is an important message about your car's extended warranty. Press one now to speak with an agent.",
        "Hi, this is Rachel from card member services. Press 1 to speak to a specialist.",
        "This is a recorded message regarding your student loan.",
        "To be removed from our list, press two.",
        "This is a final notice from the tax resolution department.",
    ],
)
def test_recording_wording_makes_a_robocall_even_after_the_greeting(words: str) -> None:
    from hold_slayer_sidecar.inbound.receptionist.robocall import recording_wording

    evidence = RobocallEvidence(answered=True, wording=recording_wording(words))
    screening = decide(understand(words, DEVICES), evidence, words)
    assert screening.outcome is ScreeningOutcome.ROBOCALL
    assert "it said" in screening.reason


@pytest.mark.parametrize(
    "words",
    [
        "Hi, it's Joe, can you call me back later? I saw your website.",
        "This is Dana from the clinic, I'll call you back online later.",
        "Please hold on, my other line is ringing.",
        "I pressed the button but nothing happened, it's your neighbour.",
    ],
)
def test_what_people_say_is_not_recording_wording(words: str) -> None:
    from hold_slayer_sidecar.inbound.receptionist.robocall import recording_wording

    assert recording_wording(words) is None


def test_an_answering_caller_is_never_a_robocall_on_acoustic_cues_alone() -> None:
    evidence = RobocallEvidence(talked_through=True, monologue=True, music=True, answered=True)
    assert not evidence.robocall
    assert RobocallEvidence(talked_through=True, monologue=True).robocall
    assert not RobocallEvidence(music=True).robocall  # one weak cue is never enough
    assert not RobocallEvidence(talked_through=True).robocall
    assert not RobocallEvidence(monologue=True, music=True).robocall  # a chatty person with the radio on


def test_hostile_transcripts_are_read_in_bounded_time_and_kept_short() -> None:
    endless = "this is " * 20000 + "put me through to " * 5000 + "555 0100 " + "5 " * 5000
    understood = understand(endless, DEVICES)
    screening = decide(understood, RobocallEvidence(), endless)
    assert len(screening.heard) <= 2000
    assert screening.outcome is ScreeningOutcome.TAKE_MESSAGE  # it asked for an outside number
    for words in ("{owner} %s \x00\x1b[31m", "é" * 5000, "." * 10000, "Dr. " * 3000):
        decide(understand(words, DEVICES), RobocallEvidence(), words)  # no error on odd text


def _notes(speaking: str) -> list[object]:
    """Frame notes from a string: one character per 0.1 s, '#' speech, '.' quiet."""
    from hold_slayer_sidecar.inbound.receptionist.hearing import FrameNote

    notes = []
    for i, ch in enumerate(speaking):
        for k in range(5):
            t = round((i * 5 + k + 1) * 0.02, 2)
            notes.append(FrameNote(t, ch == "#", False, False, ch != "#", np.zeros(4)))
    return notes


@pytest.mark.parametrize(
    ("line", "talked"),
    [
        # prompt from 0 to 4 s (40 characters), then 3 s after it
        ("....######################################################################", True),  # plays from the answer
        ("....####....................................##########################", False),  # "Hello?", then answers
        (".....................................#####################################", False),  # jumps in 0.3 s early
        ("." * 30 + "#" * 22 + "." * 10 + "#" * 15, False),  # stops a second for a reply
        ("..................................####..........##########################", False),  # an early "yes?"
    ],
)
def test_talking_through_the_greeting(line: str, talked: bool) -> None:
    from hold_slayer_sidecar.inbound.receptionist.robocall import Prompt, talked_through

    assert talked_through(_notes(line), Prompt(0.0, 4.0)) is talked  # type: ignore[arg-type]

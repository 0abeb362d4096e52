"""Simulated inbound callers for the receptionist: people of several voices and wordings, and several robocalls.

Each script is rendered with the simulator's voices (espeak-ng, piper, flite, festival; never the held-out ones that
``hold_slayer_sim.voices`` refuses) and played by ``SimulatedLine``: a person answers after each of the
receptionist's prompts, as people take turns; a robocall plays on from when it is answered (or after the greeting,
as a dialler with answering-machine detection does), perhaps over music. ``DEV`` is what the receptionist was tuned
on; ``HELD_OUT`` (other voices, other wordings) was only scored.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sim.model import Voice
from hold_slayer_sim.music import render_piece, spec_for
from hold_slayer_sim.speech import synthesize, trim_silence

RATE = 8000
Kind = Literal["person", "robocall"]
# When a robocall's message starts: at once (it talks through the greeting), or once the greeting is over.
Start = Literal["answer", "after_greeting"]


@dataclass(frozen=True, slots=True)
class CallerScript:
    """One simulated caller and what the receptionist should conclude."""

    name: str
    kind: Kind
    voice: Voice
    answers: tuple[str, ...] = ()  # a person's answer to each prompt in turn ("" stays silent)
    message: str = ""  # a robocall's message
    start: Start = "answer"
    music: str | None = None  # a music bed under the caller (a robocall's, or a radio behind a person)
    music_db: float = -8.0  # the bed's level against the voice (a robocall's bed starts 1.5 s before the words)
    interrupt: str = ""  # a person's word said over the greeting ("Hello?") before the answer
    reaction_s: float = 0.6  # a person's gap before answering
    hang_up_after_s: float | None = None  # the caller hangs up this long after the call is answered
    expect: str = "ring"  # the ScreeningOutcome value expected
    expect_name: str | None = None  # a word the caller_name must hold
    expect_purpose: str | None = None  # a word the purpose must hold
    campaign: str = ""  # robocalls of one campaign play the same recording (the replay test across calls)
    tags: tuple[str, ...] = field(default_factory=tuple)


@functools.lru_cache(maxsize=256)
def speech(text: str, voice: Voice) -> Pcm:
    """Render the words in the voice, 8 kHz, trimmed (cached for the process)."""
    return trim_silence(synthesize(text, voice))


@functools.lru_cache(maxsize=8)
def music(name: str) -> Pcm:
    """Render a loop of the simulator's procedural music."""
    return render_piece(spec_for(name))


def with_bed(voice: Pcm, bed_name: str, bed_db: float, lead_s: float = 1.5) -> Pcm:
    """Mix the voice over a music bed from ``lead_s`` before it to ``lead_s`` after it, ``bed_db`` under it."""
    bed = music(bed_name).astype(np.float64)
    lead = round(lead_s * RATE)
    n = voice.size + 2 * lead
    reps = int(np.ceil(n / bed.size))
    bed = np.tile(bed, reps)[:n]
    v_rms = float(np.sqrt(np.mean(voice.astype(np.float64) ** 2))) + 1e-9
    b_rms = float(np.sqrt(np.mean(bed**2))) + 1e-9
    out = bed * (v_rms / b_rms) * 10 ** (bed_db / 20)
    out[lead : lead + voice.size] += voice
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def V(engine: str, voice_id: str, speed: float = 1.0) -> Voice:
    """Make a simulator voice."""
    return Voice(engine=engine, id=voice_id, speed=speed)  # type: ignore[arg-type]


ESPEAK_M = V("espeak", "en-us+m3")
ESPEAK_F = V("espeak", "en-us+f2")
PIPER = V("piper", "joe")
KAL = V("flite", "kal")
AWB = V("flite", "awb")
KED = V("festival", "ked_diphone")
KAL_D = V("festival", "kal_diphone")
ESPEAK_GB = V("espeak", "en-gb+m2")
KAL16 = V("flite", "kal16")

_BENEFITS = (
    "Hello, this is Amy with the benefits enrollment center. We have important information about changes to "
    "your health coverage this year, and we need to reach you before the enrollment deadline on Friday, "
    "because your current plan may no longer cover your prescriptions."
)
_RATE = (
    "Hi, this is Rachel from card member services, calling about your credit card account. Your current "
    "interest rate qualifies for a reduction, but this offer expires today. Press one to speak to a "
    "specialist, or press two to be removed from our list."
)

DEV: tuple[CallerScript, ...] = (
    CallerScript(
        "dentist", "person", KAL, ("This is the dentist, about tomorrow's appointment.",),
        expect="ring", expect_name="dentist", expect_purpose="appointment",
    ),
    CallerScript(
        "dana_office", "person", PIPER,
        ("Hi, this is Dana from Doctor Patel's office. I'm calling to confirm your appointment on Tuesday.",),
        expect="ring", expect_name="Dana", expect_purpose="appointment",
    ),
    CallerScript(
        "outside_number", "person", PIPER,
        ("Hello, it's Mike. Can you put me through to five five five, zero one zero zero?",),
        expect="take_message", expect_name="Mike", tags=("refused",),
    ),
    CallerScript(
        "school", "person", KAL,
        ("Hi, this is Mrs Green from Lincoln Elementary School. I'm calling about your daughter, she has a fever.",),
        expect="ring", expect_purpose="daughter", tags=("urgent",),
    ),
    CallerScript(
        "survey", "person", KAL16,
        ("Hi, we're doing a short survey about internet service in your area. It only takes two minutes.",),
        expect="end",
    ),
    CallerScript(
        "message", "person", PIPER, ("Hey, it's Joe. No rush, just tell Alex to call me back when he can.",),
        expect="take_message", expect_name="Joe",
    ),
    CallerScript(
        "follow_up", "person", PIPER, ("Hi, is Alex there?", "It's Sam, his brother."),
        expect="ring", expect_name="Sam",
    ),
    CallerScript(
        "wrong_number", "person", KAL, ("Oh, sorry, I think I have the wrong number.",), expect="end",
    ),
    CallerScript(
        "talks_over", "person", PIPER, ("Yes, hi, this is Priya with Acme Plumbing, about the leak you reported.",),
        interrupt="Hello?", expect="ring", expect_name="Priya", expect_purpose="leak",
    ),
    CallerScript(
        "radio_behind", "person", KAL16,
        ("Hi, it's Karen from the library. Your books are ready to pick up.",),
        music="pop", music_db=-12.0, expect="ring", expect_name="Karen", tags=("music",),
    ),
    CallerScript("silent", "person", ESPEAK_M, ("", ""), expect="take_message"),
    CallerScript(
        "hospital", "person", KAL,
        ("I'm calling from the hospital. Your father was admitted this morning, please call back urgently.",),
        expect="ring", tags=("urgent",),
    ),
    CallerScript(
        "hangs_up", "person", ESPEAK_F, ("Hi, this is",), hang_up_after_s=5.0, expect="caller_gone",
    ),
    CallerScript("robo_benefits", "robocall", ESPEAK_F, message=_BENEFITS, campaign="benefits", expect="robocall"),
    CallerScript(
        "robo_rate_music", "robocall", PIPER, message=_RATE, music="lounge", expect="robocall", campaign="rate",
    ),
    CallerScript(
        "robo_warranty_amd", "robocall", ESPEAK_M,
        message="This is an important message about your car's extended warranty. Press one now to speak with an "
        "agent, or press two to be removed from our list.",
        start="after_greeting", expect="robocall",
    ),
    CallerScript(
        "robo_benefits_again", "robocall", ESPEAK_F, message=_BENEFITS, campaign="benefits",
        start="after_greeting", expect="robocall", tags=("replay",),
    ),
)  # fmt: skip

HELD_OUT: tuple[CallerScript, ...] = (
    CallerScript(
        "plumber", "person", AWB, ("Hello, my name is Tom, I'm the plumber. I'm calling about fixing your sink.",),
        expect="ring", expect_name="Tom", expect_purpose="sink",
    ),
    CallerScript(
        "vet", "person", KED, ("Hi, it's Laura from the vet clinic, regarding Max's vaccination.",),
        expect="ring", expect_name="Laura", expect_purpose="vaccination",
    ),
    CallerScript(
        "transfer_out", "person", KAL_D, ("Transfer me to nine one one, please.",),
        expect="take_message", tags=("refused",),
    ),
    CallerScript(
        "warranty_person", "person", AWB,
        ("Hello, I'm calling about a special offer on home security systems in your neighbourhood.",),
        expect="end",
    ),
    CallerScript(
        "nursery", "person", AWB,
        ("This is Jenny at Little Stars daycare. Your son fell in the playground and hurt his arm.",),
        expect="ring", expect_name="Jenny", tags=("urgent",),
    ),
    CallerScript(
        "neighbour_follow_up", "person", KED, ("Hello?", "Oh, it's Bob from next door."),
        expect="ring", expect_name="Bob",
    ),
    CallerScript(
        "courier", "person", KED, ("Hi, I have a delivery for you, but nobody's answering the door.",),
        expect="ring", expect_purpose="delivery",
    ),
    CallerScript(
        "poll", "person", KAL_D, ("Good evening, we're conducting a poll about the upcoming election.",),
        expect="end",
    ),
    CallerScript(
        "robo_loan", "robocall", KED,
        message="Attention. This is a recorded message regarding your student loan. You may qualify for forgiveness "
        "under a new federal program. Press one to speak with a live representative today.",
        music="ambient", start="after_greeting", expect="robocall",
    ),
    CallerScript(
        "robo_tax", "robocall", AWB,
        message="This is a final notice from the tax resolution department. There is a problem with your account that "
        "requires immediate attention, and legal action may follow if we do not hear from you by the end of the day.",
        music="baroque", expect="robocall",
    ),
    CallerScript(
        "robo_energy", "robocall", ESPEAK_GB,
        message="Hello homeowner, we are calling residents in your area about new energy savings on your electric "
        "bill, with no cost to install and no obligation, because the utility has approved a new rebate program "
        "that ends this month.",
        expect="robocall",
    ),
)  # fmt: skip

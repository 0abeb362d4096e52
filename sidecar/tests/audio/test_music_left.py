"""Short words on a music hold whose source has left the line: a person without a probe (audio/judge.AT_FLOOR_DB)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import RATE, clip, first, join, kinds, silence
from .test_recording_openings import bed
from .test_turn_taking import ANNOUNCEMENT_WORDS, hold_words, known_hold, stream_with_words

Pcm = npt.NDArray[np.int16]


def first_words() -> Pcm:
    """A person's first breath group ("Hello Joe,", about a second), read by speech-to-text as plain words."""
    return clip("human_07.wav")[: int(1.05 * RATE)]


def test_short_words_after_the_hold_music_left_then_the_line_at_its_floor_is_a_person() -> None:
    """On a music hold the hold's source plays its messages and goes back to the music within 0.7 s; an agent's
    bridge takes it off the line. The music stopped, short words rose out of the quiet, the line stayed at its floor:
    a person, with no probe needed (a recording has nothing to answer with; the corpus can hold no probe)."""
    lead = join(known_hold(), silence(0.5, seed=1))
    obs = stream_with_words(join(lead, first_words(), silence(2.0, seed=2)), hold_words(lead, "Not yet."))
    human = first(obs, K.HUMAN_DETECTED)
    assert human is not None and "the music left for short words" in human.data["reason"]
    assert human.t_s - lead.size / RATE <= 3.0


def test_short_words_over_a_ducked_bed_that_plays_on_are_only_probed() -> None:
    """The same words under a ducked bed that goes on after them (heldout6's lounge hold): the hold's source never
    left the line, so the line never falls to its floor: no ring on the words and the pause."""
    lead = join(known_hold(), bed(0.5))
    pcm = join(lead, bed(0, first_words()), bed(2.5))
    obs = stream_with_words(pcm, hold_words(lead, "Not yet."))
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_short_words_then_the_music_back_are_the_hold_s() -> None:
    """A short recorded line between the music: the music comes back after it, so it never rings."""
    lead = join(known_hold(), silence(0.5, seed=1))
    pcm = join(lead, first_words(), silence(0.4, seed=2), clip("music_05.wav"))
    obs = stream_with_words(pcm, hold_words(lead, "Not yet."))
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_short_words_on_a_hold_that_began_with_beeps_are_only_probed() -> None:
    """No music source to leave (a beep hold, like a silent one, has nothing that must come back): probe only."""
    beeps = join(*(join(clip("beep_00.wav"), silence(3.0, seed=k)) for k in range(4)))
    lead = join(beeps, clip("announcement_02.wav"), silence(1.0), beeps, silence(0.5, seed=9))
    ann_start = beeps.size / RATE
    words = {0.0: "", ann_start: ANNOUNCEMENT_WORDS, ann_start + 3.6: "", lead.size / RATE: "Not yet."}
    obs = stream_with_words(join(lead, first_words(), silence(2.5, seed=3)), words)
    assert K.HUMAN_DETECTED not in kinds(obs)

"""New speech after a known hold loop: a probe decides (issue #22's heldout5 rotations rang the user)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import RATE, clip, first, join, kinds, silence, stream
from .test_recording_openings import bed

Pcm = npt.NDArray[np.int16]


def known_loop() -> Pcm:
    """Hold music with one announcement played twice: the loop has come round, its content is known."""
    m, a = clip("music_05.wav"), clip("announcement_02.wav")
    return join(m, silence(0.4), a, silence(0.4), m, silence(0.4), a, silence(0.4), m)


def test_an_announcement_first_heard_after_the_loop_came_round_never_rings() -> None:
    """A rotation's new announcement between the music: a probe at most, and the music coming back ends it."""
    loop = known_loop()
    obs = stream(join(loop, silence(0.4), clip("announcement_04_humanvoice.wav"), silence(0.4), clip("music_05.wav")))
    assert K.HUMAN_DETECTED not in kinds(obs)
    assert any("new speech after a known hold loop" in str(o.data.get("reason")) for o in obs)


def test_new_speech_over_a_ducked_bed_in_a_known_loop_is_ruled_out_by_the_bed() -> None:
    """The bed plays on in the new speech's pause: nobody switched an agent in, and the turn is closed as the hold's
    (before the music detector, which needs most of a second of the bed, turns on)."""
    loop = known_loop()
    obs = stream(join(loop, bed(0.5), bed(0, clip("human_07.wav")[:RATE]), bed(3.0)))
    assert K.HUMAN_DETECTED not in kinds(obs)
    closed = [o for o in obs if o.kind is K.ANNOUNCEMENT and o.data.get("reason") == "music bed under new speech"]
    music = first([o for o in obs if o.t_s > loop.size / RATE], K.MUSIC)
    assert closed and music is not None and closed[0].t_s < music.t_s


def test_new_speech_after_the_loop_that_answers_our_probe_is_a_person() -> None:
    """The "Hello?" said in the pause is answered right after it: that answer rings the user."""
    det = HoldDetector(RATE)
    lead = join(known_loop(), silence(0.5), clip("human_07.wav"), silence(1.5))
    obs = stream(lead, det)
    assert K.HUMAN_UNCERTAIN in kinds(obs) and K.HUMAN_DETECTED not in kinds(obs)
    probe_s = lead.size / RATE
    det.note_probe_sent(probe_s)
    answer = stream(join(silence(0.6), clip("not_yet_12.wav"), silence(2.0)), det, start_s=probe_s)
    human = first(answer, K.HUMAN_DETECTED)
    assert human is not None and "answered our probe" in human.data["reason"]


def test_new_speech_after_the_loop_that_does_not_answer_never_rings() -> None:
    """Nothing answers the "Hello?" (a recording that paused for good): the turn is forgotten, the user never rung."""
    det = HoldDetector(RATE)
    lead = join(known_loop(), silence(0.5), clip("human_07.wav"), silence(1.5))
    stream(lead, det)
    det.note_probe_sent(lead.size / RATE)
    obs = stream(silence(10.0), det, start_s=lead.size / RATE)
    assert K.HUMAN_DETECTED not in kinds(obs)


# ----------------------------------------------------------------------- a probe said over the far side's speech


def test_a_probe_that_ends_while_the_far_side_speaks_is_reported_collided_and_not_noted() -> None:
    """Our "Hello?" ends 1.1 s into their next sentence: reported PROBE_COLLIDED; that sentence answers nothing."""
    det = HoldDetector(RATE)
    lead = join(known_loop(), silence(0.5), clip("human_07.wav"), silence(1.5))
    stream(lead, det)
    start_s = lead.size / RATE
    going_on = join(clip("not_yet_12.wav"), silence(3.0))
    half = int(1.1 * RATE)
    obs = stream(going_on[:half], det, start_s=start_s)
    det.note_probe_sent(start_s + 1.1)
    obs += stream(going_on[half:], det, start_s=start_s + 1.1)
    collided = first(obs, K.PROBE_COLLIDED)
    assert collided is not None and collided.t_s == start_s + 1.1
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_a_probe_said_in_quiet_is_not_a_collision() -> None:
    det = HoldDetector(RATE)
    lead = join(known_loop(), silence(0.5), clip("human_07.wav"), silence(1.5))
    stream(lead, det)
    det.note_probe_sent(lead.size / RATE)
    obs = stream(join(silence(0.6), clip("not_yet_12.wav"), silence(2.0)), det, start_s=lead.size / RATE)
    assert K.PROBE_COLLIDED not in kinds(obs) and K.HUMAN_DETECTED in kinds(obs)

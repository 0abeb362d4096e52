"""The hold's music left the line for a short turn and stayed off after it: ring the user's phone with the probe."""

from __future__ import annotations

import numpy as np
from hold_slayer_sidecar.audio.judge import ANSWER_WAIT_S
from hold_slayer_sidecar.audio.types import Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import clip, join, kinds, silence, stream


def rings(obs: list[Observation]) -> list[Observation]:
    return [o for o in obs if o.kind is K.HUMAN_UNCERTAIN and o.data.get("ring")]


def test_a_short_turn_after_the_music_then_quiet_asks_to_ring_with_the_probe() -> None:
    music, hello = clip("music_05.wav"), clip("not_yet_12.wav")
    obs = stream(join(music, hello, silence(2.5)))
    asked = rings(obs)
    assert len(asked) == 1
    end_s = (music.size + hello.size) / 8000
    assert asked[0].t_s >= float(asked[0].data["onset_s"]) + ANSWER_WAIT_S  # after the wait, not on the words
    assert asked[0].t_s - end_s <= ANSWER_WAIT_S + 0.6  # the segment's hangover and the last voiced frame
    assert K.HUMAN_DETECTED not in kinds(obs)  # a ring, never a transfer: the answer to "Hello?" decides


def test_the_music_coming_back_after_the_turn_asks_for_no_ring() -> None:
    music = clip("music_05.wav")
    obs = stream(join(music, clip("not_yet_12.wav"), silence(0.5), music, silence(2.0)))
    assert rings(obs) == []


def test_the_hold_recording_played_again_asks_for_no_ring() -> None:
    """A replay of the hold's own recording is known, whatever quiet follows it."""
    music, message = clip("music_05.wav"), clip("announcement_02.wav")
    obs = stream(join(music, silence(0.4), message, silence(0.4), music, silence(0.4), message, silence(2.5)))
    assert K.ANNOUNCEMENT in kinds(obs)
    assert rings(obs) == []


def test_a_short_line_on_a_silent_hold_asks_for_no_ring() -> None:
    """No music ever left the line: a short recorded line and then silence looks just like a person."""
    obs = stream(join(clip("ivr_prompt_00.wav"), silence(9.0), clip("not_yet_12.wav"), silence(2.5)))
    assert rings(obs) == []


def test_speech_that_rises_out_of_a_ducked_bed_asks_for_no_ring() -> None:
    """A ducked announcement: the music goes on, lowered, into the speech; it never stopped for it."""
    music, words = clip("music_05.wav"), clip("not_yet_12.wav")
    bed = (music[: words.size + 4000].astype(np.float64) * 10 ** (-16 / 20)).astype(np.int16)
    under = bed.copy()
    under[4000:] = np.clip(under[4000:].astype(np.int32) + words, -32768, 32767).astype(np.int16)
    obs = stream(join(music, under, silence(2.5)))
    assert rings(obs) == []

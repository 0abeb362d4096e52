"""Call-progress tones and hold beeps on the corpus' synthetic tone clips."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import clip, first, kinds, stream


@pytest.mark.parametrize("name", ["ringback_00_na.wav", "ringback_02_uk.wav"])
def test_ringback_north_american_and_uk(name: str) -> None:
    obs = stream(clip(name))
    ring = first(obs, K.RINGBACK)
    assert ring is not None and ring.t_s < 1.0
    assert K.BUSY not in kinds(obs) and K.HUMAN_DETECTED not in kinds(obs)


@pytest.mark.parametrize("name", ["busy_00_na.wav", "busy_01_uk.wav"])
def test_busy_north_american_and_uk_cadence(name: str) -> None:
    obs = stream(clip(name))
    assert first(obs, K.BUSY) is not None
    assert K.RINGBACK not in kinds(obs) and K.BEEP not in kinds(obs)


def test_periodic_beeps_are_a_hold() -> None:
    obs = stream(clip("beep_00.wav"))
    assert kinds(obs).count(K.BEEP) >= 2
    assert K.HOLD_STARTED in kinds(obs)


def test_comfort_noise_is_silence_not_music() -> None:
    obs = stream(clip("noise_00_pink.wav"))
    assert K.SILENCE in kinds(obs)
    assert K.MUSIC not in kinds(obs) and K.HOLD_STARTED not in kinds(obs)

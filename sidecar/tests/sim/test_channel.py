"""Channel impairments of the simulator: G.711 re-encoding, telephone band, pink noise, bursty packet loss."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sim.channel import g711, impair, lose_packets
from hold_slayer_sim.model import Channel, CompanyFileError, Voice, parse_company
from pydantic import ValidationError

T = np.arange(16000) / 8000
TONE = (8000 * np.sin(2 * np.pi * 440 * T)).astype(np.int16)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    err = noisy.astype(float) - clean.astype(float)
    return float(10 * np.log10(np.mean(clean.astype(float) ** 2) / np.mean(err**2)))


@pytest.mark.parametrize("codec", ["pcma", "pcmu"])
def test_g711_quantises_like_8_bit_companding(codec: str) -> None:
    out = g711(TONE, codec)
    assert 33 < snr_db(TONE, out) < 45  # G.711's signal-to-quantisation ratio is about 38 dB at this level
    assert np.array_equal(g711(out, codec), g711(g711(out, codec), codec))  # decoded values re-encode to themselves


def test_the_telephone_band_removes_what_lies_outside_it() -> None:
    low = (8000 * np.sin(2 * np.pi * 100 * T)).astype(np.int16)
    band = Channel(band_hz=(300, 3400))
    assert np.std(impair(low, band)) < 0.01 * np.std(low)
    assert abs(np.std(impair(TONE, band)) / np.std(TONE) - 1) < 0.01


def test_pink_noise_is_added_at_the_chosen_snr_and_is_the_same_each_time() -> None:
    noisy = impair(TONE, Channel(noise_snr_db=20))
    assert abs(snr_db(TONE, noisy) - 20) < 0.5
    assert np.array_equal(noisy, impair(TONE, Channel(noise_snr_db=20)))  # deterministic: runs can be repeated
    spectrum = np.abs(np.fft.rfft(noisy.astype(float) - TONE)) ** 2
    freqs = np.fft.rfftfreq(TONE.size, 1 / 8000)
    low, high = spectrum[(freqs > 200) & (freqs < 400)].mean(), spectrum[(freqs > 3000) & (freqs < 3800)].mean()
    assert low > 5 * high  # pink: power falls with frequency (1/f gives about 12x between these bands)


@pytest.mark.parametrize("band", [None, (300.0, 3400.0)])
def test_line_noise_lies_in_the_audio_band_and_within_the_channel_s_band(band: tuple[float, float] | None) -> None:
    """A long clip's 1/f noise must not wander below audio frequencies: no telephone line carries that."""
    quiet = np.zeros(8000 * 60, np.int16)
    quiet[:8000] = TONE[:8000]  # something to quote the SNR against
    noise = impair(quiet, Channel(noise_snr_db=20, band_hz=band)).astype(float)[8000:]
    spectrum = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(noise.size, 1 / 8000)
    edge = 100 if band is None else 300 - 50  # the band filter's raised-cosine edge is 100 Hz wide
    assert spectrum[freqs < edge].sum() < 0.01 * spectrum.sum()
    frames = 10 * np.log10((noise[: noise.size // 160 * 160].reshape(-1, 160) ** 2).mean(axis=1))
    assert np.percentile(frames, 95) - np.percentile(frames, 5) < 6  # steady line noise, not a drifting level


def test_packet_loss_has_the_mean_rate_and_is_concealed_by_fading_repeats() -> None:
    steady = np.full(160 * 20000, 1000, np.int16)
    out = lose_packets(steady, 0.07, np.random.default_rng(1)).reshape(-1, 160)[:, 0]
    assert 0.06 < np.mean(out != 1000) < 0.08
    assert set(np.unique(out)) <= {1000, 667, 333, 0}  # a repeat at 2/3, 1/3, then silence (60 ms fade)


def test_no_channel_changes_nothing_and_bad_channels_are_refused() -> None:
    assert impair(TONE, None) is TONE
    with pytest.raises(ValidationError):
        Channel(band_hz=(3400, 300))
    with pytest.raises(ValidationError):
        Channel(loss=0.9)
    with pytest.raises(ValidationError):
        Channel(codecs=("g729",))  # type: ignore[arg-type]


def test_a_company_file_may_name_its_channel() -> None:
    base = {
        "id": "x",
        "name": "X",
        "voice": {"engine": "espeak", "id": "en-us"},
        "start": "q",
        "queues": {"q": {"name": "Q", "hold": "silence", "agent_after_s": 0}},
        "agent": {"voice": {"engine": "espeak", "id": "en-us+f3"}, "greeting": "Hi."},
    }
    company = parse_company({**base, "channel": {"codecs": ["pcma"], "loss": 0.05}}, source="x.yaml")
    assert company.channel == Channel(codecs=("pcma",), loss=0.05)
    with pytest.raises(CompanyFileError):
        parse_company({**base, "channel": {"snr": 3}}, source="x.yaml")


def test_debian_voices_are_accepted() -> None:
    for voice in ({"engine": "flite", "id": "kal"}, {"engine": "festival", "id": "ked_diphone"}):
        Voice(**voice)  # type: ignore[arg-type]
    Voice(engine="espeak", id="en-us-nyc")  # the plain voice is fine

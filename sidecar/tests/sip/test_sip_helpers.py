"""The SIP package's pure helpers: digit strings, tones, resampling, header parsing, frame backlog."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.sip.api import SipError
from hold_slayer_sidecar.sip.calls import request_uri
from hold_slayer_sidecar.sip.core import bare_uri
from hold_slayer_sidecar.sip.dtmf import inband_pcm, parse_digits
from hold_slayer_sidecar.sip.media import MAX_BACKLOG_FRAMES, _Outbox, resample
from tones import spectrum_peaks


def test_digit_strings_are_normalised_and_checked() -> None:
    assert parse_digits("1 2w3,#*abcd") == ["1", "2", ",", "3", ",", "#", "*", "A", "B", "C", "D"]
    with pytest.raises(SipError, match="invalid DTMF"):
        parse_digits("12x")


def test_inband_digits_follow_duration_gap_and_pauses() -> None:
    pcm = inband_pcm(["9", ",", "9"], duration_ms=100, gap_ms=50, sample_rate=8000)
    assert pcm.size == 2 * (800 + 400) + 4000
    assert sorted(round(f) for f in spectrum_peaks(pcm[:800], 8000, 2)) == pytest.approx([852, 1477], abs=15)


def test_resampling_keeps_frequency_and_duration() -> None:
    t = np.arange(16000) / 16000
    pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    out = resample(pcm, 16000, 8000)
    assert out.dtype == np.int16
    assert out.size == 8000
    assert abs(spectrum_peaks(out, 8000, 1)[0] - 440) < 5
    assert resample(pcm, 8000, 8000) is pcm
    with pytest.raises(ValueError, match="sample rate"):
        resample(pcm, 0, 8000)


def test_header_parsing() -> None:
    assert request_uri("INVITE sip:bank@10.0.0.1:5060 SIP/2.0\r\nVia: x\r\n") == "sip:bank@10.0.0.1:5060"
    assert request_uri("SIP/2.0 200 OK\r\n") == ""
    assert bare_uri('"Bob" <sip:bob@host>;tag=1') == "sip:bob@host"
    assert bare_uri("sip:alice@host;tag=2") == "sip:alice@host"


def test_audio_backlog_is_bounded_when_the_loop_stalls() -> None:
    delivered: list[AudioFrame] = []
    outbox = _Outbox(delivered.append)
    assert all(outbox.reserve() for _ in range(MAX_BACKLOG_FRAMES))
    assert not outbox.reserve()  # a stalled loop: the frame is dropped, memory stays bounded
    frame = AudioFrame(pcm=np.zeros(160, np.int16), sample_rate=8000, t_s=0.02)
    outbox.hand_over(frame)
    assert delivered == [frame]
    assert outbox.reserve()  # room again once the loop catches up

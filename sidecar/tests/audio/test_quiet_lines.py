"""A digital line's quiet, and the lead-in of a speech segment whose first word the VAD confirmed late."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.audio.background import DIGITAL_QUIET_S, DROPOUT_DB, NoiseFloor
from hold_slayer_sidecar.audio.speech import MIN_SPEECH_S, PREROLL_S, RISE_LEAD_S, SpeechSegmenter
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import clip, first, join, silence, stream

FRAME_S = 0.02
RATE = 8000
FRAME = 160


def _floor_after(levels: list[float]) -> float:
    floor = NoiseFloor()
    for level in levels:
        floor.update(level, FRAME_S, noise_like=True)
    return floor.db


def test_a_lost_packet_or_two_leaves_the_floor_alone() -> None:
    """PLC can leave a frame or two of digital silence inside music: that is not the line."""
    before = _floor_after([-50.0] * 100)
    after = _floor_after([-50.0] * 100 + [-120.0, -120.0] + [-50.0] * 3)
    assert after == pytest.approx(before, abs=0.5)


def test_a_digital_line_s_quiet_brings_the_floor_down() -> None:
    """Noise below one mu-law step decodes to (near) zeros: after DIGITAL_QUIET_S that is the line's own floor.

    Left where the music had put it, the floor hid a soft voice: a shouted "Hello!" at -42 dBFS was only 13 dB over
    it, below the lone-burst test's 20 dB.
    """
    music = [-45.0, -40.0, -48.0, -42.0] * 50
    frames = round(DIGITAL_QUIET_S / FRAME_S)
    stuck = _floor_after(music + [-90.0] * (frames - 2))
    settled = _floor_after(music + [-90.0] * (frames + 20))
    assert stuck > -70.0
    assert settled == pytest.approx(DROPOUT_DB, abs=0.5)


def _tone(seconds: float, dbfs: float, hz: float = 300.0) -> np.ndarray:
    n = round(seconds * RATE)
    amp = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (amp * np.sin(2 * np.pi * hz * np.arange(n) / RATE)).astype(np.int16)


def _segment(pcm: np.ndarray, hushed: list[bool], probs: list[float]) -> tuple[float, np.ndarray]:
    """Feed frames with the given VAD probabilities; return the onset and the finished segment's PCM."""
    seg = SpeechSegmenter(RATE)
    onset_s = None
    for k in range(pcm.size // FRAME):
        onset, done = seg.process(pcm[k * FRAME : (k + 1) * FRAME], probs[k], (k + 1) * FRAME_S, hushed=hushed[k])
        onset_s = onset if onset is not None else onset_s
        if done is not None:
            assert onset_s is not None
            return onset_s, done.pcm
    raise AssertionError("no segment")


@pytest.mark.parametrize("late_s", [0.2, 0.8])
def test_a_word_the_vad_confirms_late_keeps_its_start(late_s: float) -> None:
    """The clip for speech-to-text starts RISE_LEAD_S before the sound rose out of the quiet, however late the VAD.

    (At +6 dB the VAD took 0.8 s to call "Dang, this nail file ..." speech; the word "Dang" was cut off.)
    """
    quiet_s, word_s, tail_s = 1.5, late_s + 0.6, 0.6
    pcm = np.concatenate((_tone(quiet_s, -80.0), _tone(word_s, -30.0), _tone(tail_s, -80.0)))
    n = pcm.size // FRAME
    rise = round(quiet_s / FRAME_S)
    hushed = [k < rise or k >= rise + round(word_s / FRAME_S) for k in range(n)]
    confirmed = rise + round(late_s / FRAME_S)
    probs = [0.9 if confirmed <= k < rise + round(word_s / FRAME_S) else 0.0 for k in range(n)]
    onset_s, clip = _segment(pcm, hushed, probs)
    assert onset_s == pytest.approx(confirmed * FRAME_S, abs=0.03)
    # The clip: frames kept from before the onset, the speech from the onset on, and the 0.3 s hangover after it.
    kept_before_onset = clip.size / RATE - (quiet_s + word_s - onset_s) - 0.3
    kept_before_rise = kept_before_onset - (onset_s - quiet_s)
    # The whole word and RISE_LEAD_S of quiet before it (or the usual PREROLL_S before the onset, if more).
    assert kept_before_rise == pytest.approx(max(RISE_LEAD_S, PREROLL_S - late_s), abs=0.03)


def test_speech_straight_out_of_music_keeps_the_usual_preroll() -> None:
    """With sound going on right up to the speech there is no rise to look back to: PREROLL_S before the onset."""
    music_s, word_s = 2.0, 1.0
    pcm = np.concatenate((_tone(music_s, -35.0, 440.0), _tone(word_s, -30.0), _tone(0.6, -80.0)))
    n = pcm.size // FRAME
    start = round(music_s / FRAME_S)
    end = start + round(word_s / FRAME_S)
    hushed = [k >= end for k in range(n)]
    confirmed = start + round(0.5 / FRAME_S)
    probs = [0.9 if confirmed <= k < end else 0.0 for k in range(n)]
    onset_s, clip = _segment(pcm, hushed, probs)
    kept_before_onset = clip.size / RATE - (end * FRAME_S - onset_s) - 0.3
    assert kept_before_onset == pytest.approx(PREROLL_S, abs=0.03)
    assert MIN_SPEECH_S < PREROLL_S


def test_a_live_detector_hands_speech_to_text_the_sound_from_its_rise() -> None:
    """Through the whole detector (real VAD): a noisy first sound the VAD does not call speech, then words.

    The VAD's onset is at the words, 0.7 s after the sound rose out of the line's quiet; the segment's audio still
    starts RISE_LEAD_S before that rise (with only PREROLL_S it would start 0.3 s after it).
    """
    sound = (clip("noise_00_pink.wav")[: int(0.4 * RATE)].astype(np.float64) * 10).astype(np.int16)
    lead = join(clip("music_05.wav"), silence(1.5))
    obs = stream(join(lead, sound, clip("human_07.wav"), silence(1.0)))
    segment = first(obs, K.SPEECH_SEGMENT)
    assert segment is not None and segment.audio is not None
    rise_s = lead.size / RATE
    assert float(segment.data["start_s"]) > rise_s + 0.5  # the VAD's onset: well after the rise
    # The segment's audio ends with the 0.3 s hangover after its last voiced frame.
    audio_from_s = float(segment.data["end_s"]) + 0.3 - segment.audio.size / RATE
    assert audio_from_s == pytest.approx(rise_s - RISE_LEAD_S, abs=0.05)


def test_a_soft_voice_after_the_music_on_a_digital_line_reaches_the_vad() -> None:
    """Music, then a line that decodes to zeros, then a voice at -60 dBFS: it is speech.

    With the floor left at the music's quiet (-69 dBFS) the voice was within 6 dB of it, and such frames skip the VAD.
    """
    voice = (clip("human_07.wav").astype(np.float64) * 10 ** (-25 / 20)).astype(np.int16)
    quiet = np.zeros(RATE, np.int16)
    lead = join(clip("music_05.wav"), quiet)
    obs = stream(join(lead, voice, quiet))
    segment = first(obs, K.SPEECH_SEGMENT)
    assert segment is not None and float(segment.data["start_s"]) >= lead.size / RATE

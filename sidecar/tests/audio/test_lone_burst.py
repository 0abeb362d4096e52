"""A short loud sound the VAD does not call speech, out of quiet and back into it: its words alone may be a person."""

from __future__ import annotations

import numpy as np
from hold_slayer_sidecar.audio.burst import LoneBurst, LoneBurstTracker
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.judge import HumanJudge, _Turn
from hold_slayer_sidecar.audio.types import Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import RATE, clip, first, join, kinds, silence, stream_answering

FLOOR = -66.0
QUIET = (FLOOR, 0.0, False, False)  # level, VAD probability, tone, speaking
VOICE = (FLOOR + 36.0, 0.12, False, False)


def run(frames: list[tuple[float, float, bool, bool]]) -> list[LoneBurst]:
    """Feed (level, prob, tone, speaking) frames of 20 ms; return the bursts found."""
    tracker = LoneBurstTracker(0.02)
    pcm = np.zeros(160, np.int16)
    found = []
    for k, (level, prob, tone, speaking) in enumerate(frames):
        t = round((k + 1) * 0.02, 3)
        burst = tracker.process(pcm, t, level_db=level, floor_db=FLOOR, prob=prob, tone=tone, speaking=speaking)
        if burst is not None:
            found.append(burst)
    return found


def test_a_short_voice_out_of_quiet_and_back_is_a_lone_burst() -> None:
    bursts = run([QUIET] * 50 + [VOICE] * 30 + [QUIET] * 20)
    assert len(bursts) == 1
    assert abs(bursts[0].start_s - 1.0) < 1e-6 and abs(bursts[0].end_s - 1.6) < 1e-6
    assert bursts[0].pcm.size == 160 * (5 + 30 + 15)  # 0.1 s before, the burst, the quiet that ended it


def test_what_is_not_a_lone_burst() -> None:
    beep = (FLOOR + 36.0, 0.02, True, False)
    assert run([QUIET] * 50 + [beep] * 12 + [QUIET] * 20) == []  # a hold beep is a tone
    assert run([QUIET] * 50 + [VOICE] * 100 + [QUIET] * 20) == []  # 2 s: music, or a message the VAD judges
    assert run([QUIET] * 10 + [VOICE] * 30 + [QUIET] * 20) == []  # no quiet before: the tail of something
    assert run([QUIET] * 50 + [(FLOOR + 36.0, 0.01, False, False)] * 30 + [QUIET] * 20) == []  # no speech evidence
    assert run([QUIET] * 50 + [(FLOOR + 15.0, 0.12, False, False)] * 30 + [QUIET] * 20) == []  # too soft
    assert run([QUIET] * 50 + [VOICE] * 10 + [(FLOOR + 36.0, 0.9, False, True)] * 20 + [QUIET] * 20) == []


def test_a_second_burst_after_the_first_counts_its_quiet() -> None:
    """ "Hello?" ... "Hello?": the quiet after the first is the quiet before the second."""
    assert len(run([QUIET] * 50 + ([VOICE] * 20 + [QUIET] * 30) * 2)) == 2


def hold_then(pcm: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """Hold music long enough to start the hold, then the audio."""
    return join(clip("music_05.wav"), pcm)


def stream_words(pcm: np.ndarray, text: str) -> tuple[list[Observation], HoldDetector]:  # type: ignore[type-arg]
    det = HoldDetector(RATE)

    def answer(o: Observation) -> list[Observation]:
        return det.note_transcript(text, o.t_s) if o.kind is K.SPEECH_SEGMENT else []

    return stream_answering(pcm, det, answer), det


def test_a_shouted_greeting_the_vad_misses_is_a_person_by_its_words() -> None:
    """dev_032's "Hello!" after the music stopped: Silero scores it at most 0.13, so no speech segment is cut. A bare
    greeting: decided once the line stays quiet after it (TURN_WAIT_S)."""
    obs, _ = stream_words(hold_then(join(clip("shouted_hello_32.wav"), silence(1.5))), "Hello.")
    segment = first(obs, K.SPEECH_SEGMENT)
    assert segment is not None and segment.data.get("lone") is True
    uncertain = first(obs, K.HUMAN_UNCERTAIN)  # the call may probe while the words are being transcribed
    assert uncertain is not None and uncertain.data["reason"] == "lone burst"
    human = first(obs, K.HUMAN_DETECTED)
    assert human is not None and "words the VAD missed" in human.data["reason"]
    onset = 5.0 + 0.7  # the clip's "Hello!" starts 0.7 s in
    assert abs(float(human.data["onset_s"]) - onset) < 0.1


def test_a_lone_burst_without_a_greeting_is_nothing() -> None:
    """Its sound alone never counts: "Thank you." could be the start of a message."""
    obs, _ = stream_words(hold_then(clip("shouted_hello_32.wav")), "Thank you.")
    assert K.SPEECH_SEGMENT in kinds(obs)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_hold_beeps_make_no_lone_bursts() -> None:
    beep = clip("beep_00.wav")
    pcm = join(silence(1.0), beep, silence(1.0), beep, silence(1.0), beep, silence(1.0))
    obs, _ = stream_words(hold_then(pcm), "Hello.")
    assert K.HUMAN_DETECTED not in kinds(obs)
    assert not any(o.data.get("lone") for o in obs if o.kind is K.SPEECH_SEGMENT)


def test_a_lone_burst_s_words_are_its_own_while_a_recorded_turn_waits() -> None:
    """A hold message ended in quiet and its turn is still open, waiting: "Hello." in a lone burst after it is the
    burst's words. Taken as the message's, they would be thrown away (its wording marked it a recording)."""
    judge = HumanJudge()
    judge.hold = True
    judge._turn = _Turn(onset_s=5.0, ended_s=9.0, worded=True)
    segment = judge.note_lone_burst(10.2, 10.8, np.zeros(8000, np.int16), 11.1)
    assert [o.kind for o in segment] == [K.SPEECH_SEGMENT, K.HUMAN_UNCERTAIN]
    human = first(judge.note_transcript("Hello, Sam speaking.", segment[0].t_s), K.HUMAN_DETECTED)
    assert human is not None and human.data["onset_s"] == 10.2


def test_a_bare_greeting_in_a_lone_burst_that_speech_follows_at_once_is_not_a_person() -> None:
    """ "Hi!" the VAD missed, then the announcement goes on ("Priya here, from the ..."): no wait, no person."""
    det = HoldDetector(RATE)

    def answer(o: Observation) -> list[Observation]:
        if o.kind is not K.SPEECH_SEGMENT:
            return []
        return det.note_transcript("Hi!" if o.data.get("lone") else "from the reservations team", o.t_s)

    pcm = hold_then(join(clip("shouted_hello_32.wav"), clip("not_yet_12.wav"), silence(2.0)))
    obs = stream_answering(pcm, det, answer)
    assert any(o.data.get("lone") for o in obs if o.kind is K.SPEECH_SEGMENT)
    assert K.HUMAN_DETECTED not in kinds(obs)

"""HoldDetector behaviour on committed clips: labels, hold, and above all when a live human is declared."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.judge import PAST_REPLAY_S, REPLAY_SLACK_S, HumanJudge, Scene, _Turn
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.audio.types import ObservationKind as K

from .helpers import RATE, clip, first, join, kinds, silence, stream


def hold_loop(announcement: str) -> np.ndarray:
    """Hold music with the same recording played twice between the music."""
    m, a = clip("music_05.wav"), clip(announcement)
    return join(m, silence(0.4), a, silence(0.4), m, silence(0.4), a, silence(0.4), m)


def test_rejects_unsupported_rate_and_mismatched_frames() -> None:
    with pytest.raises(ValueError, match="8000 or 16000"):
        HoldDetector(44100)
    det = HoldDetector(8000)
    with pytest.raises(ValueError, match="16000 Hz"):
        det.process(AudioFrame(np.zeros(320, np.int16), 16000, 0.02))


def test_16khz_frames_are_handled() -> None:
    pcm8 = clip("ringback_00_na.wav")
    pcm16 = np.repeat(pcm8, 2)  # crude upsampling is enough for a tone
    det = HoldDetector(16000)
    seen = []
    for k in range(pcm16.size // 320):
        seen += det.process(AudioFrame(pcm16[k * 320 : (k + 1) * 320], 16000, (k + 1) * 0.02))
    assert K.RINGBACK in kinds(seen)


def test_ivr_prompt_before_hold_with_its_audio_for_stt() -> None:
    obs = stream(join(silence(0.5), clip("ivr_prompt_00.wav"), silence(1.0)))
    assert K.IVR_PROMPT in kinds(obs)
    seg = first(obs, K.SPEECH_SEGMENT)
    assert seg is not None and seg.audio is not None and seg.audio.size > RATE  # over a second of speech
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_music_starts_the_hold() -> None:
    obs = stream(clip("music_05.wav"))
    assert K.MUSIC in kinds(obs)
    hold = first(obs, K.HOLD_STARTED)
    assert hold is not None and hold.t_s < 3.0


@pytest.mark.parametrize("announcement", ["announcement_02.wav", "announcement_04_humanvoice.wav"])
def test_announcement_between_music_never_transfers(announcement: str) -> None:
    """A TTS or a real human voice used as the hold recording is reported as an announcement, never a human."""
    obs = stream(hold_loop(announcement))
    assert K.HUMAN_DETECTED not in kinds(obs)
    assert K.ANNOUNCEMENT in kinds(obs)


def test_second_play_of_a_recording_is_recognised_as_a_replay() -> None:
    obs = stream(hold_loop("announcement_02.wav"))
    replays = [o for o in obs if o.data.get("reason") == "replayed recording"]
    assert replays and replays[0].data["corr"] >= 0.8


def test_new_speech_after_the_hold_loop_asks_for_a_probe_at_once() -> None:
    """Not a replay once the loop is known: worth a "Hello?" within a second, never a ring on its own (a rotation
    brings in announcements heard for the first time late in the hold)."""
    loop = hold_loop("announcement_02.wav")
    onset_s = (loop.size + int(0.5 * RATE)) / RATE
    obs = stream(join(loop, silence(0.5), clip("human_07.wav"), silence(2.0)))
    assert K.HUMAN_DETECTED not in kinds(obs)
    uncertain = [o for o in obs if o.kind is K.HUMAN_UNCERTAIN and o.t_s >= onset_s - 0.3]
    assert uncertain and "new speech after a known hold loop" in uncertain[0].data["reason"]
    assert uncertain[0].t_s <= onset_s + 1.5


def test_greeting_then_silence_on_a_beep_hold_asks_for_a_probe_and_the_answer_confirms() -> None:
    """Speaking briefly and then waiting is not enough to transfer; answering our "Hello?" is."""
    det = HoldDetector(RATE)
    greeting = join(clip("beep_00.wav"), silence(1.0), clip("human_07.wav"), silence(2.5))
    obs = stream(greeting, det)
    assert first(obs, K.HUMAN_UNCERTAIN) is not None
    assert K.HUMAN_DETECTED not in kinds(obs)
    probe_s = greeting.size / RATE
    det.note_probe_sent(probe_s)
    # A different utterance (a real voice) answers: the same clip again would be a replay of what was heard.
    answer = stream(join(silence(0.6), clip("announcement_04_humanvoice.wav")), det, start_s=probe_s)
    human = first(answer, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"] == "answered our probe"


def test_greeting_then_silence_without_a_probe_never_transfers() -> None:
    obs = stream(join(clip("beep_00.wav"), silence(1.0), clip("human_07.wav"), silence(10.0)))
    assert K.HUMAN_UNCERTAIN in kinds(obs)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_transcript_with_hold_wording_blocks_a_candidate() -> None:
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    stream(lead, det)
    obs = stream(clip("human_07.wav")[:RATE], det, start_s=lead.size / RATE)
    extra = det.note_transcript("Please stay on the line, your call is important to us.", 6.5)
    assert [o.kind for o in extra] == [K.ANNOUNCEMENT]
    obs += stream(silence(3.0), det, start_s=lead.size / RATE + 1.0)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_transcript_with_agent_greeting_confirms_a_candidate() -> None:
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    stream(lead, det)
    stream(clip("human_07.wav")[:RATE], det, start_s=lead.size / RATE)
    extra = det.note_transcript("Hello Joe, what can I do for you?", 6.5)
    assert K.HUMAN_DETECTED in [o.kind for o in extra]


def test_long_greeting_then_waiting_is_confirmed_by_its_late_transcript() -> None:
    """A greeting longer than the acoustic limit, then silence: the turn closes, then the transcript arrives."""
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    greeting = join(clip("human_07.wav"), silence(0.3), clip("announcement_04_humanvoice.wav"))
    obs = stream(join(lead, greeting, silence(3.0)), det)
    assert K.HUMAN_DETECTED not in kinds(obs)  # acoustics alone: over 3 s of speech could be a recording
    segment_end_s = (lead.size + greeting.size) / RATE
    extra = det.note_transcript("Thanks for holding, this is Maria. How can I help you today?", segment_end_s)
    human = first(extra, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"].startswith("agent greeting in transcript")


def test_late_transcript_of_an_earlier_turn_does_not_confirm_a_later_one() -> None:
    """A transcript is tied to the speech it came from by time, not to whatever turn is open when it arrives."""
    det = HoldDetector(RATE)
    lead = join(clip("music_05.wav"), silence(0.4))
    stream(lead, det)
    stream(clip("human_07.wav")[:RATE], det, start_s=lead.size / RATE)
    extra = det.note_transcript("How can I help you today?", lead.size / RATE - 1.0)  # ended before this turn
    assert K.HUMAN_DETECTED not in [o.kind for o in extra]


def test_agent_answering_a_transfer_rung_during_the_hold_is_detected() -> None:
    """Hold music, then the PBX rings an extension (ringback): the first speech after the ringing is the answer."""
    lead = join(clip("music_05.wav"), silence(0.5), clip("ringback_00_na.wav"), silence(0.6))
    onset_s = lead.size / RATE
    obs = stream(join(lead, clip("human_07.wav"), silence(1.0)))
    human = first(obs, K.HUMAN_DETECTED)
    assert human is not None and human.data["reason"] == "answered a transfer"
    assert onset_s - 0.1 <= human.t_s <= onset_s + 3.0


def test_ringback_at_the_start_of_a_call_is_not_a_transfer_on_hold() -> None:
    """Ringing before any hold is the call being set up: the first voice is the IVR, never a transfer."""
    obs = stream(join(clip("ringback_00_na.wav"), silence(0.6), clip("human_07.wav"), silence(3.0)))
    assert K.RINGBACK in kinds(obs)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_speech_after_a_long_silent_wait_asks_for_a_probe_but_never_transfers() -> None:
    """A silent queue (no music, no beeps) makes speech a candidate for a probe, not a transfer on its own."""
    obs = stream(join(clip("ivr_prompt_00.wav"), silence(9.0), clip("human_07.wav"), silence(4.0)))
    hold = first(obs, K.HOLD_STARTED)
    assert hold is not None and hold.data["cause"] == "silence"
    assert K.HUMAN_UNCERTAIN in kinds(obs)
    assert K.HUMAN_DETECTED not in kinds(obs)


def _noisy(pcm: np.ndarray, gain_db: float, noise_rms: float) -> np.ndarray:
    """The clip at gain_db with white line noise of noise_rms added (and 2 s of that noise before it)."""
    rng = np.random.default_rng(1)
    x = np.concatenate(
        (rng.normal(0, noise_rms, 2 * RATE), pcm * 10 ** (gain_db / 20) + rng.normal(0, noise_rms, pcm.size))
    )
    return np.clip(x, -32768, 32767).astype(np.int16)


def test_quiet_music_on_a_noisy_line_still_starts_the_hold() -> None:
    """Music 10 dB down over -50 dBFS line noise: its quiet passages must still count as music."""
    music = clip("music_05.wav").astype(np.float64)
    obs = stream(_noisy(np.concatenate((music, music)), -10.0, 100.0))
    hold = first(obs, K.HOLD_STARTED)
    assert hold is not None and hold.data["cause"] == "music"


def test_line_noise_alone_is_neither_music_nor_hold() -> None:
    """Once the floor has learnt the line (about a second), steady noise is not music."""
    obs = stream(_noisy(np.zeros(10 * RATE), 0.0, 100.0))
    assert not [o for o in obs if o.kind == K.MUSIC and o.t_s > 2.0]
    assert K.HOLD_STARTED not in kinds(obs)


def test_periodic_beeps_after_the_ivr_start_the_hold_at_the_second_beep() -> None:
    obs = stream(join(clip("ivr_prompt_00.wav"), silence(1.5), clip("beep_00.wav"), silence(6.0)))
    beeps = [o for o in obs if o.kind == K.BEEP]
    hold = first(obs, K.HOLD_STARTED)
    assert len(beeps) >= 2
    assert hold is not None and hold.data["cause"] == "beeps" and hold.t_s <= beeps[1].t_s + 0.1


def _judge_after_replay(*, whole: bool, worded: bool) -> HumanJudge:
    """A judge on hold whose last turn replayed a stored recording that ended at 9.0 s (speech until 9.0 s)."""
    judge = HumanJudge()
    judge.hold = True
    turn = _Turn(onset_s=5.0, ended_s=9.0, replay=True, replay_checked=True, worded=worded)
    turn.replay_until_s, turn.replay_whole = 9.0 + REPLAY_SLACK_S, whole
    judge._turn = turn
    judge._prev_segment = (9.0, 4.0)
    return judge


def _scene(t_s: float) -> Scene:
    return Scene(
        t_s,
        music=False,
        quiet=False,
        tone=False,
        speaking=True,
        level_db=60.0,
        floor_db=20.0,
        bands=np.zeros(8),
    )


@pytest.mark.parametrize("worded", [False, True])
def test_speech_soon_after_a_whole_replayed_recording_is_a_new_turn(worded: bool) -> None:
    """The replayed recording's whole length is known: words after it are not its next sentence or its voice."""
    judge = _judge_after_replay(whole=True, worded=worded)
    judge._on_onset(_scene(10.4), 10.3)  # 1.3 s after the replay's last word, past its end and the slack
    assert judge._turn is not None and judge._turn.onset_s == 10.3 and not judge._turn.continues


def test_speech_after_a_long_replayed_recording_still_goes_on_with_it() -> None:
    """Only the first STORED_FRAMES of a long recording are kept: its end is unknown, so the old rule stays."""
    judge = _judge_after_replay(whole=False, worded=True)
    judge._on_onset(_scene(10.4), 10.3)
    assert judge._turn is not None and judge._turn.onset_s == 5.0  # the same turn goes on
    judge = _judge_after_replay(whole=False, worded=False)
    judge._on_onset(_scene(10.4), 10.3)
    assert judge._turn is not None and judge._turn.continues


def test_speech_within_the_slack_of_a_replay_belongs_to_it() -> None:
    judge = _judge_after_replay(whole=True, worded=False)
    judge._on_onset(_scene(9.6), 9.5)
    assert judge._turn is not None and judge._turn.onset_s == 5.0


def _judge_in_a_replay(stored: np.ndarray) -> HumanJudge:
    """A judge on hold whose turn replays a stored 4 s recording from 5.0 s; its first sentence ended at 6.5 s."""
    judge = HumanJudge()
    judge.hold = True
    judge._recordings.add(stored)
    turn = _Turn(onset_s=5.0, ended_s=6.5, replay=True, replay_checked=True, quick_checked=True)
    turn.replay_until_s, turn.replay_whole = 5.0 + stored.shape[0] * 0.02 + REPLAY_SLACK_S, True
    judge._turn = turn
    judge._prev_segment = (6.5, 1.5)
    return judge


def _feed(judge: HumanJudge, start_s: float, bands: np.ndarray) -> float:
    """Put frames of sound (never hushed) into the judge's recent history from start_s; return the last time."""
    t = start_s
    for frame in bands:
        t = round(t + 0.02, 2)
        judge._recent.append((t, frame, 60.0, False))
    return t


@pytest.mark.parametrize("replayed", [True, False])
def test_speech_resuming_inside_a_replay_is_split_off_unless_it_replays_the_recording(replayed: bool) -> None:
    """An agent who cuts the announcement short is a new turn; the recording's own next sentence stays in it."""
    rng = np.random.default_rng(7)
    stored = rng.normal(size=(200, 8))
    judge = _judge_in_a_replay(stored)
    judge._on_onset(_scene(7.0), 6.9)  # 0.4 s after the first sentence, well inside the replay's span
    turn = judge._turn
    assert turn is not None and turn.onset_s == 5.0 and turn.resumed_s == 6.9
    if replayed:  # the stored recording's later stretch, through a noisy channel
        later = stored[95:135] + rng.normal(scale=0.2, size=(40, 8))
    else:
        later = np.random.default_rng(8).normal(size=(40, 8))
    t = _feed(judge, 6.9, later[:10])
    judge._check_resumed(turn, t)
    assert judge._turn is turn and turn.resumed_s == 6.9  # too little of it yet
    t = _feed(judge, t, later[10:])
    judge._check_resumed(turn, t)
    assert turn.resumed_s is None
    if replayed:
        assert judge._turn is turn
    else:
        fresh = judge._turn
        assert fresh is not turn and fresh.onset_s == 6.9 and fresh.continues and not fresh.recorded
        assert fresh.replay_checked and fresh.speech_s > 0.5


def test_speech_resuming_past_the_stored_part_of_a_long_replay_is_not_tested() -> None:
    """Only the first STORED_FRAMES of a recording are kept: later speech cannot be told from the recording's."""
    judge = _judge_in_a_replay(np.random.default_rng(7).normal(size=(200, 8)))
    judge._on_onset(_scene(8.9), 8.8)  # 3.8 s in: its 0.6 s probe would end past the stored 4 s
    assert judge._turn is not None and judge._turn.resumed_s is None


@pytest.mark.parametrize("at_s", [9.2, 9.6])
def test_speech_running_on_past_a_whole_replay_is_split_off(at_s: float) -> None:
    """No pause after the replayed 4 s recording (it ends at 9.0 s): a word voiced past its end and PAST_REPLAY_S is
    someone else's (an agent connected the moment the message ended), split off and judged; one within it is not."""
    rng = np.random.default_rng(7)
    judge = _judge_in_a_replay(rng.normal(size=(200, 8)))
    turn = judge._turn
    assert turn is not None
    turn.ended_s = None  # one segment: the speech never paused
    judge._follow_open_turn(_scene(at_s), None)
    if at_s < 9.0 + PAST_REPLAY_S:
        assert turn.resumed_s is None
        return
    assert turn.resumed_s == at_s
    t = _feed(judge, at_s, np.random.default_rng(8).normal(size=(40, 8)))
    judge._check_resumed(turn, t)
    fresh = judge._turn
    assert fresh is not turn and fresh is not None and fresh.onset_s == at_s and fresh.continues

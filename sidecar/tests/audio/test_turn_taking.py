"""Turn-taking with words: a short new turn, then quiet, with words unlike a hold message, is a person.

The detector gets a segment's transcript when speech-to-text is done, as a live call delivers it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.speech import SpeechSegmenter
from hold_slayer_sidecar.audio.types import AudioFrame, Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.audio.vad import SileroVad

from .helpers import FRAME, RATE, clip, first, join, kinds, silence, stream_answering

Pcm = npt.NDArray[np.int16]


def stream_with_words(pcm: Pcm, words: dict[float, str], det: HoldDetector | None = None) -> list[Observation]:
    """Stream audio; each speech segment's transcript is the text of the last `words` key at or before its start.

    (The fixtures' music trips the VAD now and then; keying by time keeps each text on the speech it belongs to.)
    """
    det = det or HoldDetector(RATE)

    def answer(o: Observation) -> list[Observation]:
        if o.kind is not K.SPEECH_SEGMENT:
            return []
        start = float(o.data["start_s"])
        return det.note_transcript(next((words[s] for s in sorted(words, reverse=True) if s <= start), ""), o.t_s)

    return stream_answering(pcm, det, answer)


MUSIC_S = 5.0  # music_05.wav


def known_hold() -> Pcm:
    """Hold music, one announcement, music again: the hold's recording has been heard once."""
    m = clip("music_05.wav")
    return join(m, silence(0.4), clip("announcement_02.wav"), silence(0.4), m, silence(0.5))


def hold_words(lead: Pcm, agent: str) -> dict[float, str]:
    """The announcement's words for speech in its place, the agent's for speech after the lead, none for music."""
    ann_end = MUSIC_S + 0.4 + clip("announcement_02.wav").size / RATE
    return {MUSIC_S: ANNOUNCEMENT_WORDS, ann_end: "", lead.size / RATE: agent}


ANNOUNCEMENT_WORDS = "Did you know you can manage your account any time on our mobile app?"


def test_short_plain_turn_then_quiet_after_a_known_recording_asks_for_a_probe() -> None:
    """Words that are neither a person's nor a hold message's, then quiet: a garbled hold line fits that as well as a
    person (issue #22's heldout6), so the call probes and the answer decides."""
    lead = known_hold()
    obs = stream_with_words(join(lead, clip("human_07.wav"), silence(2.0)), hold_words(lead, "Not yet."))
    assert K.HUMAN_DETECTED not in kinds(obs)
    paused = [o for o in obs if o.kind is K.HUMAN_UNCERTAIN and o.data.get("pause")]
    assert paused and paused[0].t_s - float(paused[0].data["onset_s"]) <= 3.0


def test_the_same_turn_without_words_only_asks_for_a_probe() -> None:
    """Without a transcript the pause alone is not enough: recordings pause between sentences too."""
    lead = known_hold()
    obs = stream_with_words(join(lead, clip("human_07.wav"), silence(2.5)), hold_words(lead, ""))
    assert K.HUMAN_DETECTED not in kinds(obs)
    assert K.HUMAN_UNCERTAIN in kinds(obs)


def test_first_speech_in_the_hold_is_not_a_person_on_words_and_a_pause() -> None:
    """The hold's own recording may be a real voice saying anything: until it is known, the pause decides nothing."""
    pcm = join(clip("music_05.wav"), silence(0.5), clip("announcement_04_humanvoice.wav"), silence(2.5))
    obs = stream_with_words(pcm, {0.0: "Fifteen men on a dead man's chest!"})
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_hold_message_words_after_a_known_recording_never_transfer() -> None:
    lead = known_hold()
    pcm = join(lead, clip("human_07.wav"), silence(2.5))
    obs = stream_with_words(pcm, hold_words(lead, "Please stay on the line."))
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_hold_message_words_still_let_the_loop_be_recognised() -> None:
    """A recording marked by its words keeps its fingerprint: its next play is a replay."""
    m, a = clip("music_05.wav"), clip("announcement_02.wav")
    pcm = join(m, silence(0.4), a, silence(0.4), m, silence(0.4), a, silence(0.4), m)
    obs = stream_with_words(pcm, {MUSIC_S: ANNOUNCEMENT_WORDS})
    assert any(o.data.get("reason") == "replayed recording" for o in obs)
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_speech_right_after_the_ivr_hands_over_to_the_queue_asks_for_a_probe() -> None:
    """No hold music at all: "Please hold while we connect you", a silence, then someone speaks and waits: probed."""
    lead = join(silence(0.5), clip("ivr_prompt_00.wav"), silence(3.0))
    pcm = join(lead, clip("human_07.wav"), silence(2.0))
    obs = stream_with_words(pcm, {0.0: "Please hold while we connect you.", lead.size / RATE: "Not yet."})
    assert K.HUMAN_DETECTED not in kinds(obs)
    assert any(o.kind is K.HUMAN_UNCERTAIN and o.t_s >= lead.size / RATE for o in obs)


def test_the_ivr_going_on_after_its_hand_over_words_is_not_a_person() -> None:
    """A prompt's second half after a short pause is the same recording, not someone new."""
    pcm = join(silence(0.5), clip("ivr_prompt_00.wav"), silence(0.4), clip("ivr_prompt_00.wav"), silence(2.5))
    second_s = 0.5 + clip("ivr_prompt_00.wav").size / RATE + 0.3
    obs = stream_with_words(pcm, {0.0: "Please hold while we connect you.", second_s: "Thank you for calling."})
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_babble_far_below_the_voice_ends_a_segment() -> None:
    """A call centre's babble between an agent's sentences keeps the VAD on; it must not glue the sentences."""
    voice = clip("human_07.wav")
    babble = (clip("announcement_04_humanvoice.wav")[:RATE].astype(np.float64) * 0.08).astype(np.int16)
    seg = SpeechSegmenter(RATE)
    pcm = join(voice, babble, voice, silence(1.0))
    vad = SileroVad()
    segments = []
    for k in range(pcm.size // FRAME):
        frame = pcm[k * FRAME : (k + 1) * FRAME]
        probs = vad.push((frame.astype(np.float64) / 32768.0).astype(np.float32))
        prob = max(probs) if probs else vad.probability
        _onset, done = seg.process(frame, prob, (k + 1) * FRAME / RATE)
        if done is not None:
            segments.append(done)
    assert len(segments) >= 2
    assert segments[0].end_s <= voice.size / RATE + 0.3


def test_babble_far_below_the_voice_does_not_end_the_wait() -> None:
    """A call centre's babble after the agent's words is background: the agent's wait goes on through it.

    (Without this the babble's VAD onset became a new turn 0.3 s after the agent stopped, and the agent was missed.)
    """
    lead = known_hold()
    words = hold_words(lead, "Yes, you heard me right.")
    words[lead.size / RATE + 2.3] = "Other people talking."  # the babble's words, should it be transcribed
    obs = stream_with_words(join(lead, clip("agent_then_babble_13.wav"), silence(1.0)), words)
    waited = [o for o in obs if o.kind is K.HUMAN_UNCERTAIN and o.data.get("pause")]
    assert waited and "'Yes, you heard me right.'" in waited[0].data["reason"]  # "Hello?" now, though babble goes on
    assert K.HUMAN_DETECTED not in kinds(obs)


def test_speech_at_the_voice_s_level_after_the_turn_is_not_background() -> None:
    """Speech as loud as the agent right after the agent's words is a new turn: nothing is decided on the wait."""
    lead = known_hold()
    agent = clip("agent_then_babble_13.wav")[: int(2.2 * RATE)]
    words = hold_words(lead, "Yes, you heard me right.")
    words[lead.size / RATE + 2.3] = ""
    obs = stream_with_words(join(lead, agent, silence(0.3), clip("announcement_04_humanvoice.wav")), words)
    assert all("heard me right" not in o.data.get("reason", "") for o in obs if o.kind is K.HUMAN_DETECTED)


def test_a_late_transcript_still_counts_for_the_turn_the_next_words_replaced() -> None:
    """ "Howdy, Joe." is transcribed after "I'm Mary-Lou ..." began: the greeting still belongs to its own turn."""
    lead = known_hold()
    det = HoldDetector(RATE)
    first_words = clip("human_07.wav")
    pcm = join(lead, first_words, silence(0.5), clip("announcement_04_humanvoice.wav")[:RATE])
    obs: list[Observation] = []
    ends: list[float] = []
    for k in range(pcm.size // FRAME):
        out = det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, (k + 1) * FRAME / RATE))
        obs.extend(out)
        ends += [o.t_s for o in out if o.kind is K.SPEECH_SEGMENT and o.t_s > lead.size / RATE]
    assert K.HUMAN_DETECTED not in kinds(obs)
    # The greeting's last segment (its first word may be a segment of its own), transcribed only now.
    late = det.note_transcript("Hello Joe, what can I do for you?", ends[-1])
    human = first(late, K.HUMAN_DETECTED)
    assert human is not None and float(human.data["onset_s"]) < ends[-1]


def test_after_the_call_navigates_again_speech_is_the_ivr_s_until_the_queue_comes_back() -> None:
    """A submenu heard in what looked like a queue: the call navigates again and tells the detector so."""
    lead = known_hold()
    turn = join(clip("human_07.wav"), silence(2.5))
    pcm = join(lead, turn, clip("music_05.wav"), silence(0.5))
    lead_s, music_s = lead.size / RATE, (lead.size + turn.size) / RATE
    det = HoldDetector(RATE)
    out: list[tuple[float, Observation]] = []
    noted = False
    for k in range(pcm.size // FRAME):
        t = (k + 1) * FRAME / RATE
        if t >= lead_s and not noted:
            det.note_ivr_done(t)
            det.note_menu_again(t)
            noted = True
        for o in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)):
            out.append((t, o))
            if o.kind is K.SPEECH_SEGMENT and float(o.data["start_s"]) >= lead_s:
                out += [(t, cue) for cue in det.note_transcript("Not yet.", o.t_s)]
    during = [o.kind for t, o in out if lead_s < t < music_s]
    assert K.IVR_PROMPT in during  # "Not yet." then quiet would be a person in the queue (see above)
    assert K.HUMAN_DETECTED not in during and K.HUMAN_UNCERTAIN not in during
    assert K.HOLD_STARTED in [o.kind for t, o in out if t > music_s]  # the queue heard again


def test_a_key_press_ends_the_segment_going_on_and_the_next_prompt_starts_its_own() -> None:
    """Old prompt, our key, the next prompt with no pause between: two segments, split where the key was sent."""
    prompt = clip("ivr_prompt_00.wav")
    pcm = join(silence(0.5), prompt, prompt, silence(1.0))
    key_s = 0.5 + prompt.size / RATE - 0.02  # pressed just before the company switched prompts
    det = HoldDetector(RATE)
    segments: list[Observation] = []
    pressed = False
    for k in range(pcm.size // FRAME):
        t = (k + 1) * FRAME / RATE
        if t >= key_s and not pressed:
            det.note_key_sent(t)
            pressed = True
        segments += [
            o for o in det.process(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t)) if o.kind is K.SPEECH_SEGMENT
        ]
    assert len(segments) == 2
    first, second = (float(o.data["start_s"]) for o in segments)
    assert float(segments[0].data["end_s"]) <= key_s + 0.02 < second
    assert first < key_s

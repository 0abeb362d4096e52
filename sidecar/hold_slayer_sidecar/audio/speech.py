"""Speech segments from Silero VAD probabilities, with hysteresis and hangover, keeping their PCM for STT."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ON_PROB = 0.5
OFF_PROB = 0.3
HANGOVER_S = 0.3  # a pause shorter than this stays inside the segment (between words)
# Speech is confirmed once the VAD has stayed at OFF_PROB or above for MIN_SPEECH_S since it first reached ON_PROB,
# with MIN_ON_FRAMES of those frames at ON_PROB (Silero's own segmenter uses the same hysteresis). Requiring ON_PROB
# on every frame made short words depend on where the call's 20 ms frames fall, which is arbitrary on a real call:
# Silero scores 32 ms windows, and a short word's probabilities swing by 0.3-0.5 when the grid moves half a frame,
# so a word scored above 0.5 on one grid dipped under it on another. 0.15 s is the shortest stressed syllable (a
# lone "Yes?" or "Hi"); 4 of its 7-8 frames at ON_PROB keep a click or a breath (one or two frames) out.
MIN_SPEECH_S = 0.15
MIN_ON_FRAMES = 4
# Audio kept from before the reported onset: the onset is confirmed MIN_SPEECH_S after the VAD first fires, and the
# VAD itself fires late on a soft first consonant (an /h/, /f/ or /s/ is 10-20 dB under the vowel after it and lasts
# 50-150 ms). 0.15 s of confirmation plus 0.15 s of consonant plus a little quiet before it for speech-to-text make
# 0.4 s; with 0.1 s speech-to-text lost first words, and a greeting is often one word.
PREROLL_S = 0.4
# ... and more when the sound rose out of the quiet earlier than that: the VAD can take most of a second to call a
# muttered or clipped first word speech (its probability climbs over several 32 ms windows), and a clip without
# that word lacks what gives a person away. The clip then starts RISE_LEAD_S before the rise: whisper was trained
# on utterances with a pause before them, and its no-speech test rejects a short word that starts at the clip's
# first frame more often (a pause is about 0.2-0.3 s between conversational turns). With sound going on right up to
# the speech (music, a ducked bed) there is no rise, and PREROLL_S holds.
RISE_LOOKBACK_S = 1.0
RISE_LEAD_S = 0.3
RISE_GAP_FRAMES = 3  # quiet frames inside a first word (a stop consonant's closure) that do not end it
TIGHT_PREROLL_FRAMES = 6  # 0.1 s plus the frame the onset was confirmed on
MAX_SEGMENT_S = 30.0
# A vowel with one strong harmonic can look like a tone for a frame or two (a sung or drawn-out vowel holds its
# pitch for 40-60 ms); the tone flag then zeroed the VAD and restarted a pending onset, confirming the word late.
# Call-progress tones last far longer (ringback and busy bursts are 0.25-2 s on in ITU-T E.180's cadences, and
# tones.py reports them only after 0.2-0.3 s), so a 60 ms bridge lets no real tone reach the VAD for long.
TONE_BRIDGE_FRAMES = 3
VOICING_GAP_S = 0.04  # two frames without a voiced one: between syllables, still voicing
# A call centre's babble under an agent keeps the VAD above OFF_PROB between the agent's sentences, so two sentences
# would become one long segment (and a long segment reads as a monologue). Speech this far below the segment's own
# voice is someone else: other voices in an open office reach a headset microphone 15-25 dB under the wearer's.
# The voice's level is the 90th percentile of its voiced frames (babble frames are voiced too, so a median would
# sink towards the babble); the babble sits 15-20 dB under the agent's louder syllables.
BELOW_VOICE_DB = 15.0


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A finished stretch of speech."""

    start_s: float
    end_s: float
    pcm: npt.NDArray[np.int16]
    mean_prob: float
    # The same speech cut tight (0.1 s before the onset, nothing after the last voiced frame). Menu prompts come in
    # back-to-back segments, and a wide cut takes in the end of the prompt before, whose stray words whisper then
    # reads into this one (wrong keys). The wide cut is for the short lone words of a person answering ("Yes?").
    tight_pcm: npt.NDArray[np.int16] | None = None

    @property
    def duration_s(self) -> float:
        """Length of the segment in seconds."""
        return self.end_s - self.start_s


def _level_db(pcm: npt.NDArray[np.int16]) -> float:
    """Frame energy in dB (full-scale 16-bit samples, not normalised)."""
    x = pcm.astype(np.float64)
    return 10.0 * math.log10(float(np.dot(x, x)) / x.size + 1.0)


def percentile(values: Sequence[float], q: float) -> float:
    """numpy.percentile's default (linear) on a short list, without its overhead (it ran on every speech frame)."""
    ordered = sorted(values)
    h = (q / 100.0) * (len(ordered) - 1)
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    a, b, t = ordered[lo], ordered[hi], h - lo
    # numpy's _lerp: from the nearer end, so the result is exact at t = 0 and t = 1.
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t


def rise_index(hushed: Sequence[bool], first: int, lookback: int) -> int | None:
    """Return the index of the frame where the sound going on at ``first`` rose out of the quiet.

    Walks back from ``first`` over at most ``lookback`` frames; up to RISE_GAP_FRAMES quiet frames inside the sound
    do not end it. None when there is no quiet within reach (sound went on: music, a ducked bed).
    """
    rise, gap, k = first, 0, first
    while k > 0 and first - k < lookback and gap <= RISE_GAP_FRAMES:
        k -= 1
        gap = gap + 1 if hushed[k] else 0
        rise = rise if gap else k
    return rise if gap > RISE_GAP_FRAMES else None


class SpeechSegmenter:
    """Turns per-frame speech probabilities into onsets and finished segments."""

    def __init__(self, sample_rate: int = 8000) -> None:
        self._sr = sample_rate
        self.in_speech = False
        self.onset_s = 0.0
        self._last_voiced_s = 0.0
        self._frames: list[npt.NDArray[np.int16]] = []
        frame_s = 0.02
        # (frame, ended at, hushed) before the onset; long enough to look back for the sound's rise.
        self._preroll: deque[tuple[npt.NDArray[np.int16], float, bool]] = deque(
            maxlen=round((RISE_LOOKBACK_S + RISE_LEAD_S + MIN_SPEECH_S) / frame_s) + 1
        )
        self._probs: list[float] = []
        self._pending_onset: float | None = None
        self._pending_on = 0  # frames at or above ON_PROB since the pending onset
        self._n_preroll = 0  # frames of pre-roll at the start of the segment being collected
        self._voiced_levels: list[float] = []  # levels of the segment's confidently voiced frames
        self._tone_run = 0  # consecutive frames flagged as a tone

    def unvoiced_s(self, t_s: float) -> float:
        """Seconds since the open segment's last voiced frame (0 when no segment is open)."""
        return t_s - self._last_voiced_s if self.in_speech else 0.0

    def pcm_so_far(self) -> npt.NDArray[np.int16]:
        """Return the open segment's audio up to now (with its pre-roll); empty when no speech is going on."""
        return np.concatenate(self._frames) if self.in_speech and self._frames else np.zeros(0, np.int16)

    def process(
        self, pcm: npt.NDArray[np.int16], prob: float, t_s: float, *, tone: bool = False, hushed: bool = False
    ) -> tuple[float | None, SpeechSegment | None]:
        """Feed one frame and the VAD probability covering it; return (onset time, finished segment).

        ``tone``: the frame holds a steady tone (a beep, ringback, or a sustained vowel that looks like one); the VAD
        is not trusted on it. A speech onset already pending survives TONE_BRIDGE_FRAMES such frames.
        ``hushed``: the frame is near the line's noise floor (the quiet a speaker's first word rises out of).
        """
        frame_s = pcm.size / self._sr
        self._tone_run = self._tone_run + 1 if tone else 0
        bridged = tone and self._pending_onset is not None and self._tone_run <= TONE_BRIDGE_FRAMES
        prob = 0.0 if tone else prob
        # The frame's level is only needed in speech (or at its onset): most frames of a call skip it.
        level_db = _level_db(pcm) if self.in_speech or prob >= ON_PROB else 0.0
        onset: float | None = None
        finished: SpeechSegment | None = None
        if not self.in_speech:
            self._preroll.append((pcm, t_s, hushed))
            if bridged:
                return None, None
            if prob >= ON_PROB and self._pending_onset is None:
                self._pending_onset = t_s - frame_s
                self._pending_on = 0
            if self._pending_onset is not None and prob >= OFF_PROB:
                self._pending_on += prob >= ON_PROB
                if t_s - self._pending_onset >= MIN_SPEECH_S and self._pending_on >= MIN_ON_FRAMES:
                    self.in_speech = True
                    self.onset_s = self._pending_onset
                    self._last_voiced_s = t_s
                    self._frames = self._lead_in(self.onset_s, frame_s)
                    self._n_preroll = len(self._frames)
                    self._probs = [prob]
                    self._voiced_levels = [level_db]
                    onset = self.onset_s
            else:
                self._pending_onset = None
            return onset, None
        self._frames.append(pcm)
        self._probs.append(prob)
        if prob >= ON_PROB:
            self._voiced_levels.append(level_db)
        if prob >= OFF_PROB and level_db >= percentile(self._voiced_levels[-100:], 90) - BELOW_VOICE_DB:
            self._last_voiced_s = t_s
        too_long = t_s - self.onset_s >= MAX_SEGMENT_S
        if t_s - self._last_voiced_s >= HANGOVER_S or too_long:
            # The hangover's quiet frames stay in the PCM: a word's soft ending is often below the VAD's threshold.
            tail = 0 if too_long else round((t_s - self._last_voiced_s) / frame_s)
            finished = self._finish(self._last_voiced_s if not too_long else t_s, tail)
        return None, finished

    def _lead_in(self, onset_s: float, frame_s: float) -> list[npt.NDArray[np.int16]]:
        """Return the frames kept from before the onset: PREROLL_S, or from RISE_LEAD_S before the sound's rise."""
        frames = list(self._preroll)
        first = next((i for i, (_, end_s, _) in enumerate(frames) if end_s > onset_s + 1e-9), len(frames))
        start = next((i for i, (_, end_s, _) in enumerate(frames) if end_s > onset_s - PREROLL_S + 1e-9), first)
        rise = rise_index([hushed for _, _, hushed in frames], first, round(RISE_LOOKBACK_S / frame_s))
        if rise is not None:
            start = min(start, max(rise - round(RISE_LEAD_S / frame_s), 0))
        return [pcm for pcm, _, _ in frames[start:]]

    def cut(self, t_s: float) -> SpeechSegment | None:
        """End the open segment now (the caller knows the speech after this is another prompt); None if none is open.

        The speech going on after the cut becomes a new segment once the VAD confirms it again, without pre-roll
        from before the cut.
        """
        if not self.in_speech:
            self._preroll.clear()
            self._pending_onset = None
            return None
        return self._finish(min(self._last_voiced_s, t_s), 0)

    def _finish(self, end_s: float, tail: int) -> SpeechSegment:
        first = max(self._n_preroll - TIGHT_PREROLL_FRAMES, 0)
        tight = self._frames[first : max(len(self._frames) - tail, first + 1)]
        finished = SpeechSegment(
            start_s=self.onset_s,
            end_s=end_s,
            pcm=np.concatenate(self._frames),
            mean_prob=float(np.mean(self._probs)),
            tight_pcm=np.concatenate(tight),
        )
        self.in_speech = False
        self._pending_onset = None
        self._preroll.clear()
        self._frames = []
        return finished

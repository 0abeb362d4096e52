"""HoldDetector: the live per-call detector (tones, speech, music, hold, DTMF and the live-human decision)."""

from __future__ import annotations

import numpy as np

from .background import DROPOUT_DB, MusicActivity, NoiseFloor
from .burst import LoneBurstTracker
from .dtmf import DtmfDetector
from .judge import HumanJudge, Scene, is_hushed
from .resample import Decimator
from .spectrum import FrameSpectrum, SpectrumAnalyser
from .speech import SpeechSegment, SpeechSegmenter
from .tones import ToneEvent, ToneTracker
from .types import AudioFrame, Observation, ObservationKind
from .vad import SileroVad

WORK_RATE = 8000
FRAME_S = 0.02
_TONE_KIND = {
    ToneEvent.RINGBACK: ObservationKind.RINGBACK,
    ToneEvent.BUSY: ObservationKind.BUSY,
    ToneEvent.BEEP: ObservationKind.BEEP,
}
VAD_SKIP_ABOVE_FLOOR_DB = 6.0  # frames this close to the noise floor cannot hold speech
SILENCE_REPORT_S = 1.0  # report a silence segment once it has lasted this long
PROGRESS_TONE_HOLDOFF_S = 6.0  # after ringback/busy, tonal frames are its remnants (edges, packet loss), not music
BEEP_SPEECH_GUARD_S = 0.5  # a "beep" this close to speech is a steady partial of the voice
# Non-speech sound this far above the line floor counts towards music. Hold music is mastered with quiet passages
# 10-15 dB under its loud ones, and a noisy line (20 dB SNR) leaves those passages only 5-10 dB over the floor, so a
# higher threshold loses the quiet passages (12 dB lost whole holds on a noisy line); 20 ms frames of steady line
# noise stay within ~3 dB of the floor (a frame's level estimate over 160 samples wavers by 1-2 dB).
MUSIC_ABOVE_FLOOR_DB = 9.0
# A frame whose in-band power sits mostly in two narrow peaks (spectrum.FrameSpectrum.tonal_ratio, 80 ms window) holds
# sustained notes: music. The floor tracker takes frames under the same bar as noise-like; line and room noise spread
# their power over the whole band (two peaks of 7 bins hold a few percent of it), a voice's many harmonics share it.
# A ducked bed keeps this shape at any level, so it tells a bed the floor tracker has sunk to from a quiet line.
BED_TONAL_RATIO = 0.5
# Partial transcripts of speech in the menus (a person who picked up may talk on for 5-10 s: "Thanks for calling,
# you're speaking with Priya at the front desk, could I take your name?"). The words that give a person away, a
# name or a request to the caller, fill the first breath group or two; decoding the speech so far once a second,
# from its first second on (a breath group of 4-5 syllables, enough for "this is Sam"), lets the call ring the user
# while the person still speaks instead of after their first long pause. A whisper decode of a few seconds costs
# 0.1-0.3 s of one core, so at most MENU_PARTIAL_MAX per segment (the first 7 s: the call decides what to do with
# them; calls/greeting.py drops them once the words read as a menu or a recording).
MENU_PARTIAL_FIRST_S = 1.0
MENU_PARTIAL_EVERY_S = 1.0
MENU_PARTIAL_MAX = 6


class HoldDetector:
    """Consumes 20 ms frames of one call leg and reports what it hears (implements CallDetector)."""

    def __init__(self, sample_rate: int) -> None:
        if sample_rate not in (8000, 16000):
            raise ValueError(f"HoldDetector supports 8000 or 16000 Hz audio, not {sample_rate}")
        self.sample_rate = sample_rate
        self._decimator = Decimator() if sample_rate == 16000 else None
        self._spectrum = SpectrumAnalyser()
        self._floor = NoiseFloor()
        self._music = MusicActivity()
        self._tones = ToneTracker()
        self._vad = SileroVad()
        self._segmenter = SpeechSegmenter(WORK_RATE)
        self._dtmf = DtmfDetector(WORK_RATE)
        self._judge = HumanJudge()
        self._bursts = LoneBurstTracker(FRAME_S)
        self._t = 0.0
        self._quiet_since: float | None = None
        self._silence_reported = False
        self._music_reported = False
        self._last_progress_tone_s = -1e9
        self._last_speech_s = -1e9
        self._cut: SpeechSegment | None = None
        self._menu_partials = 0  # partials of the open segment in the menus (MENU_PARTIAL_*)

    def process(self, frame: AudioFrame) -> list[Observation]:
        """Consume one frame (no look-ahead); return what was decided at its end time."""
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"frame at {frame.sample_rate} Hz fed to a {self.sample_rate} Hz detector")
        pcm = frame.pcm if self._decimator is None else self._decimator.process(frame.pcm)
        t = frame.t_s
        self._t = t
        out: list[Observation] = []
        x = pcm.astype(np.float64)
        spec = self._spectrum.analyse(x)
        noise_like = spec.tonal_ratio < 0.5 and self._vad.probability < 0.3
        floor = self._floor.update(spec.level_db, pcm.size / WORK_RATE, noise_like=noise_like)
        # Line noise needs no neural VAD: skipping it there saves most of the VAD's CPU on a quiet line.
        line_noise = spec.level_db < floor + VAD_SKIP_ABOVE_FLOOR_DB
        probs = self._vad.push((x / 32768.0).astype(np.float32), silent=line_noise)
        prob = max(probs) if probs else self._vad.probability

        for digit, t_digit in self._dtmf.process(pcm, t):
            out.append(Observation(ObservationKind.DTMF, t_digit, 0.95, {"digit": digit}))
        out.extend(self._tone_observations(spec, floor, t))
        tone = self._tones.tone_active or self._dtmf.tone_active
        if self._segmenter.in_speech or prob >= 0.3:
            self._last_speech_s = t
        if self._tones.progress_active:
            self._last_progress_tone_s = t
        hushed = is_hushed(spec.level_db, floor)
        onset, segment = self._segmenter.process(pcm, prob, t, tone=tone, hushed=hushed)
        if segment is None and self._cut is not None:
            segment, self._cut = self._cut, None  # ended by our key press (note_key_sent)
        speaking = self._segmenter.in_speech
        tone_remnant = t - self._last_progress_tone_s < PROGRESS_TONE_HOLDOFF_S and spec.tonal_ratio >= 0.5
        loud = spec.level_db >= floor + MUSIC_ABOVE_FLOOR_DB
        neither_speech_nor_tone = not speaking and not tone and not tone_remnant and prob < 0.3
        sounding = neither_speech_nor_tone and loud
        music = self._music.update(sounding)
        # No floor in it: a bed ducked under a voice pulls the floor estimate down to itself (issue #22's heldout6/7).
        tonal_bed = neither_speech_nor_tone and spec.tonal_ratio >= BED_TONAL_RATIO and spec.level_db > DROPOUT_DB
        quiet = not speaking and not tone and not music and spec.level_db < floor + 10

        out.extend(self._report_background(t, music, quiet))
        scene = Scene(
            t_s=t,
            music=music,
            quiet=quiet,
            tone=tone,
            speaking=speaking,
            unvoiced_s=self._segmenter.unvoiced_s(t),
            sounding=sounding,
            tonal_bed=tonal_bed,
            level_db=spec.level_db,
            floor_db=floor,
            bands=spec.bands,
        )
        out.extend(self._judge.step(scene, onset, segment, [o.kind for o in out]))
        if self._judge.in_queue:
            burst = self._bursts.process(
                pcm, t, level_db=spec.level_db, floor_db=floor, prob=prob, tone=tone, speaking=speaking
            )
            if burst is not None:
                out.extend(self._judge.note_lone_burst(burst.start_s, burst.end_s, burst.pcm, t))
        cut = self._judge.take_partial_request()
        if cut and self._segmenter.in_speech:
            data = {"start_s": self._segmenter.onset_s, "context": "hold", "cut": cut}
            out.append(Observation(ObservationKind.SPEECH_PARTIAL, t, 0.5, data, audio=self._segmenter.pcm_so_far()))
        out.extend(self._menu_partial(t, onset is not None))
        return out

    def _menu_partial(self, t: float, onset: bool) -> list[Observation]:
        """Return the speech so far of a menu segment, once a second from its first second (MENU_PARTIAL_*)."""
        if onset or not self._segmenter.in_speech:
            self._menu_partials = 0
        if not self._segmenter.in_speech or self._judge.in_queue or self._judge.human:
            return []
        due = MENU_PARTIAL_FIRST_S + self._menu_partials * MENU_PARTIAL_EVERY_S
        if self._menu_partials >= MENU_PARTIAL_MAX or t - self._segmenter.onset_s < due - 1e-9:
            return []
        self._menu_partials += 1
        data = {"start_s": self._segmenter.onset_s, "context": "menu", "cut": "running"}
        return [Observation(ObservationKind.SPEECH_PARTIAL, t, 0.5, data, audio=self._segmenter.pcm_so_far())]

    def _tone_observations(self, spec: FrameSpectrum, floor: float, t: float) -> list[Observation]:
        """Ringback, busy and hold beeps; a "beep" near speech or inside music is a voice partial or a held note."""
        out: list[Observation] = []
        for event, t_ev, data in self._tones.process(spec, floor, t):
            start, end = float(data["start_s"]), float(data["start_s"]) + float(data.get("on_s", 0.0))
            # The VAD flickers on a tone's first frames (its onset transient is broadband): evidence inside the burst
            # itself is the beep, not a voice; otherwise a beep hold's first beep is lost and the hold is found a
            # beep period (2-20 s) late.
            inside = start - 2 * FRAME_S <= self._last_speech_s <= end + 2 * FRAME_S
            near_speech = self._last_speech_s >= start - BEEP_SPEECH_GUARD_S and not inside
            if event == ToneEvent.BEEP and (near_speech or self._music.active):
                continue
            out.append(Observation(_TONE_KIND[event], t_ev, 0.9, dict(data)))
        return out

    def _report_background(self, t: float, music: bool, quiet: bool) -> list[Observation]:
        """MUSIC when music starts, SILENCE once quiet lasts SILENCE_REPORT_S."""
        out: list[Observation] = []
        if music and not self._music_reported:
            out.append(Observation(ObservationKind.MUSIC, t, 0.8))
        self._music_reported = music
        if quiet:
            if self._quiet_since is None:
                self._quiet_since = t
            if not self._silence_reported and t - self._quiet_since >= SILENCE_REPORT_S:
                self._silence_reported = True
                data = {"quiet_s": round(t - self._quiet_since, 2)}  # how long it was quiet when reported
                out.append(Observation(ObservationKind.SILENCE, self._quiet_since, 0.8, data))
        else:
            self._quiet_since = None
            self._silence_reported = False
        return out

    @property
    def transcripts_useful(self) -> bool:
        """Whether a transcript of speech heard now can change a decision (until a person is detected)."""
        return not self._judge.human

    def note_transcript(self, text: str, t_s: float, *, partial: bool = False) -> list[Observation]:
        """Use the transcript of the last speech segment (or of a SPEECH_PARTIAL) as a content cue."""
        return self._judge.note_transcript(text, t_s, partial=partial)

    def note_probe_sent(self, t_s: float) -> None:
        """Note that the call said "Hello?": an answer within a few seconds is strong evidence of a person."""
        self._judge.note_probe_sent(t_s)

    def note_ivr_done(self, t_s: float) -> None:
        """Navigation finished: speech from now on is hold content or the agent."""
        self._judge.note_ivr_done(t_s)

    def note_key_sent(self, t_s: float) -> None:
        """End the speech going on: the call pressed a key, so it is the old prompt the company cuts short.

        Without the cut, the old menu's last words and the next menu's first ran into one segment ("For baggage,
        press 3 | To change or cancel a flight.") and the next menu's keys were paired with the wrong labels.
        """
        self._cut = self._segmenter.cut(t_s) or self._cut

    def note_menu_again(self, t_s: float) -> None:
        """Menus again: speech is judged as IVR prompts until the queue is heard (or navigation ends) once more."""
        self._judge.note_menu_again(t_s)

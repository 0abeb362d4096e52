"""One caller's audio, frame by frame: speech turns (Silero VAD and the detector's segmenter), music, and spectra.

Built from the outbound detector's own parts (audio/): the same VAD, speech segmenter, noise floor, music activity
and band spectra, so a recording is told by the same evidence on both halves. It implements ``CallDetector`` so a
call's ``Ears`` (calls/listening.py) can hold it; the hold logic of ``HoldDetector`` (hold music, queues) has no
meaning on a caller's line and is not used.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...audio.background import MusicActivity, NoiseFloor
from ...audio.judge import is_hushed
from ...audio.resample import Decimator
from ...audio.spectrum import SpectrumAnalyser
from ...audio.speech import SpeechSegmenter
from ...audio.types import AudioFrame, Observation, ObservationKind
from ...audio.vad import SileroVad

WORK_RATE = 8000
FRAME_S = 0.02
KEEP_S = 90.0  # frames remembered: longer than a whole screening (greeting, answer, follow-up, answer)
VAD_SKIP_ABOVE_FLOOR_DB = 6.0  # as the outbound detector: frames this close to the floor cannot hold speech
MUSIC_ABOVE_FLOOR_DB = 9.0  # as the outbound detector: non-speech sound this far above the floor counts as music
SPEECH_PROB = 0.3  # the segmenter's OFF threshold: below it a frame is not speech


@dataclass(frozen=True, slots=True)
class FrameNote:
    """What one 20 ms frame of the caller's audio held."""

    t_s: float  # end of the frame, seconds since listening began
    speaking: bool  # inside a speech segment (hangover included)
    sounding: bool  # loud non-speech sound: music, a bed under a recording
    music: bool  # music activity over the last second (audio/background.py)
    hushed: bool  # near the line's noise floor
    bands: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Heard:
    """A finished speech segment of the caller."""

    start_s: float
    end_s: float
    pcm: npt.NDArray[np.int16]  # 8 kHz, with the segmenter's pre-roll


class CallerHearing:
    """Frames in, speech segments and frame notes kept (implements ``CallDetector`` for ``Ears``)."""

    def __init__(self, sample_rate: int) -> None:
        if sample_rate not in (8000, 16000):
            raise ValueError(f"the receptionist hears 8000 or 16000 Hz audio, not {sample_rate}")
        self.sample_rate = sample_rate
        self._decimator = Decimator() if sample_rate == 16000 else None
        self._spectrum = SpectrumAnalyser()
        self._floor = NoiseFloor()
        self._music = MusicActivity()
        self._vad = SileroVad()
        self._segmenter = SpeechSegmenter(WORK_RATE)
        self.t_s = 0.0
        self.frames: deque[FrameNote] = deque(maxlen=round(KEEP_S / FRAME_S))
        self.segments: list[Heard] = []
        self.onsets: list[float] = []

    @property
    def speaking(self) -> bool:
        """Whether a speech segment is open now."""
        return self._segmenter.in_speech

    def process(self, frame: AudioFrame) -> list[Observation]:
        """Consume one frame; return SPEECH_SEGMENT for a finished segment and MUSIC when music starts."""
        pcm = frame.pcm if self._decimator is None else self._decimator.process(frame.pcm)
        self.t_s += FRAME_S
        t = self.t_s
        x = pcm.astype(np.float64)
        spec = self._spectrum.analyse(x)
        noise_like = spec.tonal_ratio < 0.5 and self._vad.probability < SPEECH_PROB
        floor = self._floor.update(spec.level_db, FRAME_S, noise_like=noise_like)
        line_noise = spec.level_db < floor + VAD_SKIP_ABOVE_FLOOR_DB
        probs = self._vad.push((x / 32768.0).astype(np.float32), silent=line_noise)
        prob = max(probs) if probs else self._vad.probability
        hushed = is_hushed(spec.level_db, floor)
        onset, segment = self._segmenter.process(pcm, prob, t, hushed=hushed)
        speaking = self._segmenter.in_speech
        sounding = not speaking and prob < SPEECH_PROB and spec.level_db >= floor + MUSIC_ABOVE_FLOOR_DB
        was_music = self._music.active
        music = self._music.update(sounding)
        self.frames.append(FrameNote(t, speaking, sounding, music, hushed, spec.bands))
        out: list[Observation] = []
        if onset is not None:
            self.onsets.append(onset)
        if segment is not None:
            self.segments.append(Heard(segment.start_s, segment.end_s, segment.pcm))
            data = {"start_s": segment.start_s, "end_s": segment.end_s}
            out.append(Observation(ObservationKind.SPEECH_SEGMENT, segment.end_s, segment.mean_prob, data, segment.pcm))
        if music and not was_music:
            out.append(Observation(ObservationKind.MUSIC, t, 0.8))
        return out

    def last_speech_s(self) -> float | None:
        """When the caller last spoke: now while a segment is open, else the end of the last one (None: never)."""
        if self.speaking:
            return self.t_s
        return self.segments[-1].end_s if self.segments else None

    def speech_pcm(self, since_s: float) -> npt.NDArray[np.int16]:
        """Return the caller's speech from segments that began at or after ``since_s`` (and the open one), joined."""
        parts = [h.pcm for h in self.segments if h.start_s >= since_s - 1e-9]
        if self.speaking and self._segmenter.onset_s >= since_s - 1e-9:
            parts.append(self._segmenter.pcm_so_far())  # the turn was cut off (the longest answer listened to)
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    # CallDetector: nothing else changes this detector's mind.
    @property
    def transcripts_useful(self) -> bool:
        """Words are judged by the receptionist, not fed back here."""
        return False

    def note_transcript(self, text: str, t_s: float, *, partial: bool = False) -> list[Observation]:
        """Words are judged by the receptionist (robocall.py)."""
        return []

    def note_probe_sent(self, t_s: float) -> None:
        """Ignore: the receptionist's prompts are timed by the dialogue itself."""

    def note_ivr_done(self, t_s: float) -> None:
        """No menus on a caller's line."""

    def note_key_sent(self, t_s: float) -> None:
        """No keys are pressed on a caller's line."""

    def note_menu_again(self, t_s: float) -> None:
        """No menus on a caller's line."""

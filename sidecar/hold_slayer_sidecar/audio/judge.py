"""The live-human decision: hold context, speech turns, and when a turn is a person rather than a recording."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .speech import SpeechSegment
from .types import Observation, ObservationKind

HOLD_MUSIC_S = 2.0  # continuous music this long means we are on hold
ANSWER_WAIT_S = 1.2  # a person stops and waits for an answer; a recording goes on (more speech or music)
MAX_TURN_SPEECH_S = 6.0


@dataclass(frozen=True, slots=True)
class Scene:
    """What the frame analysers saw in one frame."""

    t_s: float
    music: bool
    quiet: bool
    tone: bool
    speaking: bool
    level_db: float
    floor_db: float
    bands: npt.NDArray[np.float64]


@dataclass(slots=True)
class _Turn:
    """Speech since a candidate onset, until it is judged."""

    onset_s: float
    speech_s: float = 0.0
    music_frames: int = 0
    frames: int = 0
    ended_s: float | None = None
    segments: list[SpeechSegment] = field(default_factory=list)


class HumanJudge:
    """Decides IVR prompt / announcement / human from speech turns in their hold context."""

    def __init__(self) -> None:
        self.hold = False
        self.human = False
        self._music_since: float | None = None
        self._turn: _Turn | None = None
        self._ivr_done = False

    def step(
        self, scene: Scene, onset: float | None, segment: SpeechSegment | None, seen: list[ObservationKind]
    ) -> list[Observation]:
        """Advance one frame; return hold/speech/human observations."""
        out: list[Observation] = []
        t = scene.t_s
        if scene.music:
            self._music_since = t if self._music_since is None else self._music_since
            if not self.hold and t - self._music_since >= HOLD_MUSIC_S:
                self.hold = True
                out.append(Observation(ObservationKind.HOLD_STARTED, t, 0.8, {"cause": "music"}))
        else:
            self._music_since = None
        if ObservationKind.BEEP in seen and not self.hold:
            self.hold = True
            out.append(Observation(ObservationKind.HOLD_STARTED, t, 0.6, {"cause": "beep"}))
        if segment is not None:
            out.append(self._segment_observation(segment))
        if self.human:
            return out
        if onset is not None:
            if self.hold or self._ivr_done:
                if self._turn is None:
                    self._turn = _Turn(onset_s=onset)
                    out.append(Observation(ObservationKind.HUMAN_UNCERTAIN, t, 0.3, {"onset_s": onset}))
                else:
                    self._turn.ended_s = None
            else:
                out.append(Observation(ObservationKind.IVR_PROMPT, t, 0.7, {"onset_s": onset}))
        turn = self._turn
        if turn is None:
            return out
        turn.frames += 1
        turn.music_frames += scene.music
        if scene.speaking:
            turn.speech_s += 0.02
        if segment is not None:
            turn.segments.append(segment)
            turn.ended_s = segment.end_s
        if scene.music and not scene.speaking:
            out.append(Observation(ObservationKind.ANNOUNCEMENT, turn.onset_s, 0.7, {"reason": "music resumed"}))
            self._turn = None
            return out
        if turn.ended_s is not None and not scene.speaking and t - turn.ended_s >= ANSWER_WAIT_S:
            if turn.speech_s <= MAX_TURN_SPEECH_S and turn.music_frames == 0:
                self.human = True
                out.append(Observation(ObservationKind.HUMAN_DETECTED, t, 0.8, {"onset_s": turn.onset_s}))
                out.append(Observation(ObservationKind.HOLD_ENDED, t, 0.8))
            else:
                out.append(Observation(ObservationKind.ANNOUNCEMENT, turn.onset_s, 0.6, {"reason": "monologue"}))
            self._turn = None
        return out

    def _segment_observation(self, segment: SpeechSegment) -> Observation:
        return Observation(
            ObservationKind.SPEECH_SEGMENT,
            segment.end_s,
            segment.mean_prob,
            {"start_s": segment.start_s, "end_s": segment.end_s, "context": "hold" if self.hold else "ivr"},
            audio=segment.pcm,
        )

    def note_transcript(self, text: str, t_s: float) -> list[Observation]:
        """Content cue (not used yet)."""
        return []

    def note_probe_sent(self, t_s: float) -> None:
        """Probe sent (not used yet)."""

    def note_ivr_done(self, t_s: float) -> None:
        """Navigation finished: speech from now on is hold content or the agent."""
        self._ivr_done = True

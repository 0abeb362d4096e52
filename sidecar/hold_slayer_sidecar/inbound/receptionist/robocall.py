"""Is the caller a recording? The outbound detector's evidence, applied to a caller who was asked a question.

A recording plays on: it talks straight through the greeting and does not stop to let it finish, it runs on as a
monologue, music plays under it, it says what only recordings say ("press 1 to ..."), or it is a message heard on
an earlier call (the same spectro-temporal fingerprint as audio/fingerprint.py). A person answers: they speak after
the question and stop for a reply. A false robocall costs a person their call (to the message box), a missed one
costs the household a ring, so weak evidence alone never decides: it takes wording or a replay, or speech that
talked through a prompt and also ran on as a monologue or over music; a caller who answered a question (spoke after
it and stopped for a reply) is judged by wording and replay only. Music alone is a radio behind a person as often
as a robocall's bed, and a long answer is a chatty person as often as a message.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...audio.fingerprint import PROBE_OFFSET, best_correlation, shapes
from ...audio.judge import FULL_PROBE, FULL_REPLAY
from .hearing import FRAME_S, FrameNote

# Talking through: the caller's speech began before our prompt ended and went on this long after it without the
# pause a listener leaves. A person who spoke over the greeting stops within a second of hearing another voice
# (double talk); 2.5 s is a few words more than that.
TALK_THROUGH_S = 2.5
# ... and it began this long before the prompt's end: a person who answers early jumps in at the question's last
# words (within about half a second); a recording that plays from the answer is seconds into its message by then.
TALK_OVER_LEAD_S = 1.0
# The longest pause (in segmenter frames, hangover included) that still counts as the same speech running on: read
# or recorded speech pauses a few tenths of a second between sentences (breath pauses, well under the 1-2 s a
# speaker leaves when waiting for an answer; cf. ITU-T P.59's pause lengths), plus the 0.3 s hangover.
RUN_ON_GAP_S = 0.7
# A monologue: one run of speech this long with no pause for an answer. Asked "who's calling and what about", people
# answer in one or two sentences (3-8 s in the bench's caller scripts).
MONOLOGUE_S = 10.0
# Music under the speech: music activity (audio/background.py: 60% of a second sounding, not speech) this long
# within the caller's speech, or most of the pauses between words sounding (a bed under the voice). A read message
# leaves few pauses for it, so the second before the first words and after the last count too: a robocall's bed
# starts before the voice (a jingle, a fade-in) and plays out after it.
MUSIC_MIN_S = 0.6
MUSIC_MARGIN_S = 1.5
BED_MIN_GAP_S = 0.4
BED_SOUNDING_SHARE = 0.6
# An answer: speech that began no sooner than this before our question ended (people time their reply to the
# question's last words and can start a little early) and stopped for the reply.
ANSWER_EARLY_S = 0.3
KNOWN_RECORDINGS = 64  # robocall messages remembered across calls (the loudest campaigns repeat for days)
STORED_FRAMES = 250  # 5 s of each: the probe is slid along it (the message's start found a little early or late)

# What recordings say and callers do not: a narrower list than the hold detector's (audio/content.py), since a
# person calling in does say "call you back", "website" or "online".
_WORDING = (
    r"\bpress\s+(\d|one|two|three|four|five|six|seven|eight|nine|zero|star|pound)\b",
    r"\bpress\s+\w+\s+(to|for|now)\b",
    r"\b(this|it) (is|was) an? (automated|recorded|pre-?recorded|courtesy|important) (message|call|reminder)\b",
    r"\bthis is an? (automated|recorded|pre-?recorded) ",
    r"\b(to|please) (be removed|opt out|unsubscribe)\b|\bdo not call list\b|\bremoved from (our|this) (list|call)",
    r"\b(stay|remain) on the line\b|\bdo not hang up\b|\bdon't hang up\b",
    r"\bfinal (notice|attempt|reminder)\b|\b(will be|has been) (suspended|terminated|cancell?ed)\b",
    r"\b(speak|talk) (to|with) (a|an|one of our) (live )?(agent|representative|specialist|operator)\b",
    r"\blive (agent|representative|operator|person)\b",
)


def recording_wording(text: str) -> str | None:
    """Return the words that only a recording says, if any ("press 1 to")."""
    low = re.sub(r"\s+", " ", text.lower())
    for pattern in _WORDING:
        if (match := re.search(pattern, low)) is not None:
            return match.group(0)
    return None


@dataclass(frozen=True, slots=True)
class Prompt:
    """When the receptionist spoke, in the caller's stream time."""

    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class RobocallEvidence:
    """What was heard for and against a recording."""

    talked_through: bool = False
    monologue: bool = False
    music: bool = False
    wording: str | None = None
    replay: bool = False
    answered: bool = False  # spoke after a question and stopped for a reply

    @property
    def robocall(self) -> bool:
        """Wording or a replay decide; else talking through plus a second cue, never for a caller who answered."""
        if self.wording is not None or self.replay:
            return True
        return not self.answered and self.talked_through and (self.monologue or self.music)

    def reason(self) -> str:
        """Return the evidence in words, for HA."""
        parts = []
        if self.talked_through:
            parts.append("it talked on through the greeting without stopping")
        if self.monologue:
            parts.append(f"it ran on for over {MONOLOGUE_S:.0f} s without a pause for an answer")
        if self.music:
            parts.append("music played under the voice")
        if self.wording is not None:
            parts.append(f"it said {self.wording!r}")
        if self.replay:
            parts.append("the same message played on an earlier robocall")
        return "a recording: " + "; ".join(parts) if parts else ""


def _in(frames: Sequence[FrameNote], start_s: float, end_s: float) -> list[FrameNote]:
    return [f for f in frames if start_s < f.t_s <= end_s + 1e-9]


def _longest_gap_s(frames: Sequence[FrameNote]) -> float:
    longest = run = 0
    for note in frames:
        run = 0 if note.speaking else run + 1
        longest = max(longest, run)
    return longest * FRAME_S


def talked_through(frames: Sequence[FrameNote], prompt: Prompt) -> bool:
    """Speech begun well before the prompt's end that ran on TALK_THROUGH_S past it without a listener's pause."""
    after = _in(frames, prompt.end_s - ANSWER_EARLY_S, prompt.end_s + TALK_THROUGH_S)
    if len(after) * FRAME_S < TALK_THROUGH_S or _longest_gap_s(after) > RUN_ON_GAP_S:
        return False
    began = _run_start(_in(frames, prompt.start_s, prompt.end_s), RUN_ON_GAP_S)
    return began is not None and prompt.end_s - began >= TALK_OVER_LEAD_S


def _run_start(frames: Sequence[FrameNote], max_gap_s: float) -> float | None:
    """When the speech going on at the last frame began (pauses shorter than ``max_gap_s`` inside it); None: none."""
    if not frames or not frames[-1].speaking:
        return None
    began, gap = frames[-1].t_s, 0.0
    for note in reversed(frames):
        if note.speaking:
            began, gap = note.t_s - FRAME_S, 0.0
        else:
            gap += FRAME_S
            if gap > max_gap_s:
                break
    return began


def longest_run_s(frames: Sequence[FrameNote], since_s: float, max_gap_s: float) -> float:
    """Return the longest stretch of speech after ``since_s`` whose pauses are all shorter than ``max_gap_s``."""
    best, start, gap = 0.0, None, 0.0
    for note in (f for f in frames if f.t_s > since_s):
        if note.speaking:
            start = note.t_s if start is None else start
            gap = 0.0
            best = max(best, note.t_s - start)
        elif start is not None:
            gap += FRAME_S
            if gap >= max_gap_s:
                start = None
    return best


def music_under(frames: Sequence[FrameNote], since_s: float) -> bool:
    """Music during the caller's speech: music activity, or a sounding bed filling the pauses between words."""
    speech = [f.t_s for f in frames if f.t_s > since_s and f.speaking]
    if not speech:
        return False
    span = _in(frames, max(speech[0] - MUSIC_MARGIN_S, since_s), speech[-1] + MUSIC_MARGIN_S)
    if sum(f.music for f in span) * FRAME_S >= MUSIC_MIN_S:
        return True
    gaps = [f for f in span if not f.speaking]
    return len(gaps) * FRAME_S >= BED_MIN_GAP_S and sum(f.sounding for f in gaps) >= BED_SOUNDING_SHARE * len(gaps)


def answered(onsets: Sequence[float], frames: Sequence[FrameNote], prompt: Prompt, end_of_turn_s: float) -> bool:
    """Tell whether the caller started speaking after the question and later stopped for a reply."""
    starts = [t for t in onsets if t >= prompt.end_s - ANSWER_EARLY_S]
    if not starts or any(f.speaking for f in _in(frames, prompt.end_s - ANSWER_EARLY_S, starts[0] - FRAME_S)):
        return False
    tail = [f for f in frames if f.t_s > starts[0]]
    return len(tail) * FRAME_S >= end_of_turn_s and not any(f.speaking for f in tail[-round(end_of_turn_s / FRAME_S) :])


def turn_bands(frames: Sequence[FrameNote], onset_s: float) -> npt.NDArray[np.float64]:
    """Return the band spectra of the caller's first turn, from its onset (for the replay test and memory)."""
    bands = [f.bands for f in frames if f.t_s > onset_s][:STORED_FRAMES]
    return np.array(bands) if bands else np.zeros((0, 0))


class RobocallMemory:
    """Messages of recent robocalls (shared by every call of the sidecar), to recognise the next call that plays one."""

    def __init__(self, size: int = KNOWN_RECORDINGS) -> None:
        self._stored: deque[npt.NDArray[np.float64]] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._stored)

    def remember(self, bands: npt.NDArray[np.float64]) -> None:
        """Keep a robocall's first seconds (too short a stretch is nothing to recognise)."""
        if bands.shape[0] >= PROBE_OFFSET + FULL_PROBE:
            self._stored.append(shapes(bands))

    def replays(self, bands: npt.NDArray[np.float64]) -> bool:
        """Whether a turn starts like a remembered robocall (the outbound detector's replay threshold)."""
        if bands.shape[0] < PROBE_OFFSET + FULL_PROBE or not self._stored:
            return False
        probe = shapes(bands[PROBE_OFFSET : PROBE_OFFSET + FULL_PROBE])
        return any(best_correlation(probe, stored) >= FULL_REPLAY for stored in self._stored)

"""Plan a queue's hold timeline: music or silence cut by announcements, until the agent picks up."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .model import Clip, Queue


@dataclass(frozen=True, slots=True)
class HoldAudio:
    """A stretch of hold audio: ``kind`` is music, silence or comfort_noise; music resumes at ``offset_s``."""

    kind: str
    duration_s: float
    piece: str = ""
    offset_s: float = 0.0


@dataclass(frozen=True, slots=True)
class HoldAnnouncement:
    """An announcement at ``at_s`` (seconds into the queue) with its placeholders filled in."""

    at_s: float
    clip: Clip
    text: str


HoldSegment = HoldAudio | HoldAnnouncement

# Real systems never cut an announcement off for the agent; skip one that would start this close to pick-up.
_MIN_GAP_BEFORE_AGENT_S = 3.0


def fill_placeholders(text: str, queue: Queue, at_s: float) -> str:
    """Replace {position} and {wait_minutes} as they stand ``at_s`` seconds into the queue."""
    remaining = max(0.0, queue.agent_after_s - at_s)
    fraction = remaining / queue.agent_after_s if queue.agent_after_s > 0 else 0.0
    position = max(1, math.ceil(queue.start_position * fraction))
    wait_minutes = max(1, math.ceil(remaining / 60.0))
    filled = text.format(position=position, wait_minutes=wait_minutes)
    return re.sub(r"\b1 minutes\b", "1 minute", filled)  # "{wait_minutes} minutes" must read well at 1


def announcement_times(queue: Queue) -> list[tuple[float, int]]:
    """(time, announcement index) of every announcement before the agent answers, in order."""
    times: list[tuple[float, int]] = []
    for i, ann in enumerate(queue.announcements):
        t = ann.first_after_s if ann.first_after_s is not None else ann.interval_s
        while t < queue.agent_after_s - _MIN_GAP_BEFORE_AGENT_S:
            times.append((t, i))
            t += ann.interval_s
    return sorted(times)


@dataclass(frozen=True, slots=True)
class HoldCursor:
    """Where a caller is in the queue: seconds since entering, music position, announcements done."""

    now_s: float = 0.0
    music_pos_s: float = 0.0
    announced: int = 0


def next_segment(queue: Queue, cursor: HoldCursor) -> HoldSegment | None:
    """Return the next thing to play in the queue, or None when it is the agent's turn.

    Announcements that fall due while another plays are played right after it (never skipped), so
    the agent still answers at ``agent_after_s`` measured from entering the queue.
    """
    if cursor.now_s >= queue.agent_after_s - 0.02:
        return None
    schedule = announcement_times(queue)
    if cursor.announced < len(schedule):
        at_s, idx = schedule[cursor.announced]
        if at_s > cursor.now_s + 0.02:
            until = min(at_s, queue.agent_after_s)
        elif cursor.now_s < queue.agent_after_s - _MIN_GAP_BEFORE_AGENT_S:
            clip = queue.announcements[idx].say
            if clip.text is not None:
                text = fill_placeholders(clip.text, queue, cursor.now_s)
                return HoldAnnouncement(cursor.now_s, Clip(text=text), text)
            return HoldAnnouncement(cursor.now_s, clip, clip.label)
        else:  # overdue and too close to pick-up: the agent comes first
            until = queue.agent_after_s
    else:
        until = queue.agent_after_s
    piece = queue.music if queue.hold == "music" else ""
    return HoldAudio(queue.hold, max(0.02, until - cursor.now_s), piece, cursor.music_pos_s)


def advance(cursor: HoldCursor, segment: HoldSegment, played_s: float) -> HoldCursor:
    """Return the cursor after ``segment`` played for ``played_s`` seconds."""
    if isinstance(segment, HoldAnnouncement):
        return HoldCursor(cursor.now_s + played_s, cursor.music_pos_s, cursor.announced + 1)
    music = played_s if segment.kind == "music" else 0.0
    return HoldCursor(cursor.now_s + played_s, cursor.music_pos_s + music, cursor.announced)


def plan_hold(queue: Queue, announcement_s: float = 3.0) -> list[HoldSegment]:
    """Return the whole hold timeline, assuming each announcement lasts ``announcement_s`` (tests, tools)."""
    segments: list[HoldSegment] = []
    cursor = HoldCursor()
    while (seg := next_segment(queue, cursor)) is not None:
        segments.append(seg)
        played = announcement_s if isinstance(seg, HoldAnnouncement) else seg.duration_s
        cursor = advance(cursor, seg, played)
    return segments


def announcement_texts(queue: Queue) -> list[Clip]:
    """Every announcement clip a caller could hear in this queue (for pre-rendering)."""
    out: list[Clip] = []
    for at_s, idx in announcement_times(queue):
        clip = queue.announcements[idx].say
        if clip.text is not None:
            # Durations shift later announcements by a few seconds, so render neighbouring values too.
            for dt in (-10.0, 0.0, 10.0):
                out.append(Clip(text=fill_placeholders(clip.text, queue, max(0.0, at_s + dt))))
        else:
            out.append(clip)
    return list(dict.fromkeys(out))

"""Noise floor tracking and music activity: what plays when nobody is speaking."""

from __future__ import annotations

from collections import deque

FLOOR_RISE_DB_PER_S = 0.5  # a floor that follows music upward would hide the music; rise slowly
MUSIC_WINDOW_S = 1.0
MUSIC_ON = 0.6
MUSIC_OFF = 0.3


class NoiseFloor:
    """Minimum-statistics floor: follows drops at once, rises slowly."""

    def __init__(self, initial_db: float = -70.0) -> None:
        self.db = initial_db
        self._seen = False

    def update(self, level_db: float, frame_s: float) -> float:
        """Feed one frame level; return the floor."""
        if not self._seen:
            self.db = level_db
            self._seen = True
        elif level_db < self.db:
            self.db = 0.7 * self.db + 0.3 * level_db
        else:
            self.db += FLOOR_RISE_DB_PER_S * frame_s
        self.db = max(self.db, -90.0)
        return self.db


class MusicActivity:
    """Share of recent frames that carry sound that is neither speech nor a tone; hysteresis gives music on/off."""

    def __init__(self, frame_s: float = 0.02) -> None:
        self._win: deque[bool] = deque(maxlen=round(MUSIC_WINDOW_S / frame_s))
        self.active = False
        self.score = 0.0

    def update(self, sounding: bool) -> bool:
        """Feed whether this frame is non-speech, non-tone sound; return music on/off."""
        self._win.append(sounding)
        self.score = sum(self._win) / self._win.maxlen if self._win.maxlen else 0.0
        if not self.active and self.score >= MUSIC_ON:
            self.active = True
        elif self.active and self.score <= MUSIC_OFF:
            self.active = False
        return self.active

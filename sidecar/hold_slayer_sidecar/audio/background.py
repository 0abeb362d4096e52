"""Noise floor tracking and music activity: what plays when nobody is speaking."""

from __future__ import annotations

from collections import deque

# Below any analogue line's noise (mu-law step noise alone is louder): a lost packet's frame, or a digital line's
# silence (noise below one mu-law step decodes to zeros, and silence suppression sends nothing).
DROPOUT_DB = -75.0
# A lost packet or two is brief; this long below DROPOUT_DB is the line itself being that quiet. Left at the level
# it had before (music, a voice), the floor would be far too high, and frames within VAD_SKIP_ABOVE_FLOOR_DB of it
# never reach the VAD: a soft voice on such a line would not be heard at all (a digital line after music is 10-15 dB
# under the floor the music left). 0.5 s is 25 packets: loss bursts run 1-3 packets and G.711 Appendix I's
# concealment fills them; only silence suppression (G.711 Appendix II) or a digitally quiet line lasts that long.
DIGITAL_QUIET_S = 0.5
FLOOR_RISE_DB_PER_S = 0.5
STEADY_S = 1.0  # line noise is steady: its 20 ms levels stay within a few dB for a second; music does not
STEADY_RANGE_DB = 4.0  # a floor that follows music upward would hide the music; rise slowly
MUSIC_WINDOW_S = 1.0
MUSIC_ON = 0.6
MUSIC_OFF = 0.3


class NoiseFloor:
    """Minimum-statistics floor: follows drops quickly, rises slowly, ignores single dropped frames."""

    def __init__(self, initial_db: float = -65.0) -> None:
        # Start near a quiet line's floor, not at the first frame: a call can open with music or ringback.
        self.db = initial_db
        # Packet loss concealment can leave a frame of digital silence; the median of 5 frames ignores it.
        self._recent: deque[float] = deque(maxlen=5)
        self._steady: deque[float] = deque(maxlen=round(STEADY_S / 0.02))
        self._below_s = 0.0  # how long the line has stayed below DROPOUT_DB

    def update(self, level_db: float, frame_s: float, *, noise_like: bool = True) -> float:
        """Feed one frame level; return the floor.

        ``noise_like`` says the frame is neither a tone nor speech: a second of such frames at a steady level is
        line noise, and the floor moves up to it at once (a noisier line than the initial guess, or comfort noise).
        """
        if level_db < DROPOUT_DB:
            self._below_s += frame_s
            if self._below_s >= DIGITAL_QUIET_S - 1e-9:
                self.db = max(0.7 * self.db + 0.3 * DROPOUT_DB, DROPOUT_DB)  # the quiet of a digital line
            return self.db  # else a lost packet, not the line
        self._below_s = 0.0
        self._recent.append(level_db)
        level_db = sorted(self._recent)[len(self._recent) // 2]
        if noise_like:
            self._steady.append(level_db)
        else:
            self._steady.clear()
        if level_db < self.db:
            self.db = 0.7 * self.db + 0.3 * level_db
        elif len(self._steady) == self._steady.maxlen and max(self._steady) - min(self._steady) <= STEADY_RANGE_DB:
            self.db = max(self.db, min(self._steady))
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

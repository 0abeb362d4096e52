"""Spectro-temporal fingerprints of speech turns, to recognise a hold recording when it plays again.

A hold loop replays the same recording sample for sample, so the sequence of spectral shapes of a replay lines up
with the stored one at some lag (high correlation), while any other utterance does not. The comparison uses a
short probe window taken a little after the new turn's onset, slid along the first seconds of every stored
recording (the VAD onset of either may be late by a few hundred milliseconds).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FRAME_S = 0.02
PROBE_OFFSET = 5  # frames (0.1 s) skipped at the start of a new turn: its onset may be earlier than the stored one
STORED_FRAMES = 500  # 10 s kept of each recording: longer than a typical hold message
MIN_STORED_FRAMES = 25  # a shorter stretch of speech is too little to recognise again

Frames = npt.NDArray[np.float64]


def shapes(bands: Frames) -> Frames:
    """Per-frame spectral shape (log band energies minus their mean): independent of level."""
    out: Frames = bands - bands.mean(axis=1, keepdims=True)
    return out


def best_correlation(probe: Frames, stored: Frames) -> float:
    """Highest correlation of the probe's spectro-temporal pattern with any same-length stretch of the stored one.

    Each band's mean over the window is removed first, so the common long-term spectrum (telephone band, voice
    timbre) does not count: only how the spectrum moves in time, which a replay reproduces and nothing else does.
    """
    m = probe.shape[0]
    if stored.shape[0] < m:
        return 0.0
    p = (probe - probe.mean(axis=0, keepdims=True)).ravel()
    p_norm = float(np.linalg.norm(p)) + 1e-9
    windows = np.lib.stride_tricks.sliding_window_view(stored, m, axis=0)  # (lags, bands, m)
    w = windows - windows.mean(axis=2, keepdims=True)
    w = np.transpose(w, (0, 2, 1)).reshape(windows.shape[0], -1)
    corr = (w @ p) / (np.linalg.norm(w, axis=1) * p_norm + 1e-9)
    return float(corr.max())


class RecordingLibrary:
    """The recordings heard on this call, and whether a new turn replays one of them."""

    def __init__(self) -> None:
        self._stored: list[Frames] = []
        self._lengths: list[float] = []  # seconds of speech in each (its lead frames not counted)

    def __len__(self) -> int:
        return len(self._stored)

    def add(self, bands: Frames, lead: int = 0) -> None:
        """Store the first seconds of a turn judged to be a recording, after `lead` frames from before its start."""
        speech = bands.shape[0] - lead
        if speech >= MIN_STORED_FRAMES:
            self._stored.append(shapes(bands[: lead + STORED_FRAMES]))
            self._lengths.append(min(speech, STORED_FRAMES) * FRAME_S)

    def replay_score(self, turn_bands: Frames, probe_frames: int) -> tuple[float, float] | None:
        """(best correlation with a stored recording, that recording's length in s); None until the probe is in."""
        if turn_bands.shape[0] < PROBE_OFFSET + probe_frames or not self._stored:
            return None
        probe = shapes(turn_bands[PROBE_OFFSET : PROBE_OFFSET + probe_frames])
        scores = [best_correlation(probe, s) for s in self._stored]
        best = int(np.argmax(scores))
        return scores[best], self._lengths[best]

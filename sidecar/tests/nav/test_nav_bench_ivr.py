"""The IVR benchmark's offline pieces: WER, segmenting, and a text-mode walk through a simulated company."""

from __future__ import annotations

import numpy as np
import pytest
from hold_slayer_sidecar.nav.navigator import MenuNavigator
from hold_slayer_sim.model import load_company, shipped_company_files
from hold_slayer_tools.bench.ivr import PromptEar, edit_distance, run_offline, split_segments, summary, wer_words


def test_wer_words_normalise_digits() -> None:
    assert wer_words("Press ONE, for billing-payments!") == ["press", "1", "for", "billing", "payments"]
    assert edit_distance(["press", "1", "for", "billing"], ["press", "1", "billing", "now"]) == 2


def test_split_segments_cuts_at_pauses() -> None:
    tone = (np.sin(np.arange(4000) * 0.3) * 8000).astype(np.int16)
    pause = np.zeros(4000, np.int16)  # 0.5 s: longer than the VAD hangover
    segments = split_segments(np.concatenate([tone, pause, tone, np.zeros(800, np.int16)]))
    assert len(segments) == 2
    assert segments[0][1] == pytest.approx(0.5, abs=0.03)


async def test_text_mode_walks_a_company_to_the_right_queue() -> None:
    bank = next(load_company(p) for p in shipped_company_files() if load_company(p).id == "first_city_bank")
    ear = PromptEar(use_audio=False)
    result = await run_offline(bank, "My credit card was stolen yesterday", "lost_cards", ear, MenuNavigator())
    assert result.ok, result
    assert result.digits == "11"
    assert result.time_to_queue_s is not None and result.time_to_queue_s > 0
    line = summary([result])
    assert line["runs"] == 1 and line["success_rate"] == 1.0

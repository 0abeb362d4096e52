"""Flite and festival voices for simulated companies, reserved voices refused, and the evaluation companies."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hold_slayer_sim.check import reach_department
from hold_slayer_sim.model import CompanyFileError, Voice, load_company, parse_company
from hold_slayer_sim.speech import SAMPLE_RATE, synthesize

MINIMAL: dict[str, Any] = {
    "id": "acme",
    "name": "Acme",
    "voice": {"engine": "espeak", "id": "en-us"},
    "start": "main",
    "menus": {"main": {"prompt": "Press 1 for sales.", "options": {"1": {"queue": "sales"}}}},
    "queues": {"sales": {"name": "Sales", "agent_after_s": 5}},
    "agent": {"voice": {"engine": "espeak", "id": "en-gb"}, "greeting": "Hi, this is Ann."},
}
EVAL = Path(__file__).parents[2] / "hold_slayer_sim" / "companies_eval"
EVAL_FILES = sorted(EVAL.glob("*/*.yaml"))


@pytest.mark.parametrize(
    "voice",
    [
        {"engine": "flite", "id": "rms"},
        {"engine": "flite", "id": "slt"},
        {"engine": "festival", "id": "cmu_us_slt_arctic_hts"},
        {"engine": "espeak", "id": "en-gb-scotland"},
        {"engine": "espeak", "id": "en-gb-x-gbcwmd+f2"},
        {"engine": "espeak", "id": "en-029"},
        {"engine": "espeak", "id": "en-us-nyc+m3"},
    ],
)
def test_voices_reserved_for_held_out_material_are_refused(voice: dict[str, str]) -> None:
    data = copy.deepcopy(MINIMAL) | {"voice": voice}
    with pytest.raises(CompanyFileError, match=r"reserved|not supported"):
        parse_company(data)


def test_the_plain_new_york_voice_is_allowed() -> None:
    assert parse_company(copy.deepcopy(MINIMAL) | {"voice": {"engine": "espeak", "id": "en-us-nyc"}})


def test_an_unknown_festival_voice_names_the_known_ones() -> None:
    with pytest.raises(CompanyFileError, match="festival voice 'cmu_us_slt_arctic_hts' is not supported"):
        parse_company(copy.deepcopy(MINIMAL) | {"voice": {"engine": "festival", "id": "cmu_us_slt_arctic_hts"}})


@pytest.mark.parametrize(
    ("engine", "voice", "binary"),
    [("flite", "awb", "flite"), ("flite", "kal", "flite"), ("festival", "ked_diphone", "text2wave")],
)
def test_flite_and_festival_speak_at_the_simulator_rate(engine: str, voice: str, binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} not installed (scripts/setup installs it)")
    slow = synthesize("For billing, press one.", Voice(engine=engine, id=voice, speed=0.8))  # type: ignore[arg-type]
    fast = synthesize("For billing, press one.", Voice(engine=engine, id=voice, speed=1.25))  # type: ignore[arg-type]
    for pcm in (slow, fast):
        assert pcm.dtype == np.int16
        assert 0.5 * SAMPLE_RATE < pcm.size < 5 * SAMPLE_RATE
        assert np.abs(pcm).max() > 1000  # speech, not silence
    assert slow.size > fast.size * 1.2  # the speed setting is honoured


@pytest.mark.parametrize("path", EVAL_FILES, ids=[p.stem for p in EVAL_FILES])
def test_every_evaluation_company_reaches_each_intent_s_department(path: Path) -> None:
    company = load_company(path)
    assert len(company.test_intents) >= 3
    for ti in company.test_intents:
        assert reach_department(company, ti.steps, ti.intent) == ti.department, ti.intent


def test_at_least_ten_evaluation_companies_some_held_out() -> None:
    assert len(EVAL_FILES) >= 10
    assert len(list((EVAL / "heldout").glob("*.yaml"))) >= 4

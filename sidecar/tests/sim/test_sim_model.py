"""The company file format: clear errors for bad files, and every shipped company loads."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sim.model import CompanyFileError, load_company, parse_company, shipped_company_files

MINIMAL: dict[str, Any] = {
    "id": "acme",
    "name": "Acme",
    "voice": {"engine": "espeak", "id": "en-us"},
    "start": "main",
    "menus": {"main": {"prompt": "Press 1 for sales.", "options": {"1": {"queue": "sales"}}}},
    "queues": {"sales": {"name": "Sales", "agent_after_s": 5}},
    "agent": {"voice": {"engine": "espeak", "id": "en-gb"}, "greeting": "Hi, this is Ann."},
    "test_intents": [{"intent": "buy a widget", "department": "sales", "path": "1"}],
}


def with_change(path: list[str | int], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_minimal_company_parses() -> None:
    company = parse_company(MINIMAL)
    assert company.menus["main"].options["1"].queue == "sales"
    assert company.menus["main"].prompt.text == "Press 1 for sales."  # a bare string is text


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["menus", "main", "options", "1", "queue"], "nowhere", "menus.main.options.1: queue 'nowhere' is not defined"),
        (["start"], "missing", "start: 'missing' is neither a menu nor a queue"),
        (["menus", "main", "options"], {"12": {"queue": "sales"}}, "option key '12' must be one DTMF key"),
        (["menus", "main", "options", "1"], {"queue": "sales", "menu": "main"}, "exactly one of menu, queue, message"),
        (["agent", "voice"], {"engine": "espeak", "id": "en-us"}, "agent.voice must differ from the IVR voice"),
        (["voice"], {"engine": "piper", "id": "amy"}, "piper voice 'amy' is not installed"),
        (
            ["queues", "sales", "announcements"],
            [{"say": "You are number {place}", "interval_s": 10}],
            "unknown placeholder {place}",
        ),
        (["queues", "sales", "agent_after_s"], -1, "queues.sales.agent_after_s"),
        (["test_intents", 0, "department"], "billing", "test_intents.0.department: 'billing' is not a queue"),
        (["test_intents", 0, "path"], "1 x", "step 'x' is neither DTMF keys nor 'say'"),
        (["menus", "main", "prompt"], {"text": "hi", "wav": "a.wav"}, "exactly one of 'text' or 'wav'"),
        (["menus", "main", "colour"], "blue", "menus.main.colour"),
        (["agent", "hangup_after_s"], 2, "hangup_after_s must be longer than hello_after_s"),
        (["queues", "sales", "music"], "jazz", "unknown hold music 'jazz'"),
    ],
)
def test_bad_field_is_named(path: list[str | int], value: Any, message: str) -> None:
    with pytest.raises(CompanyFileError) as err:
        parse_company(with_change(path, value), source="acme.yaml")
    assert message in str(err.value)
    assert "acme.yaml" in str(err.value)


def test_missing_wav_file_is_reported(tmp_path: Path) -> None:
    import yaml

    data = with_change(["menus", "main", "prompt"], {"wav": "prompts/main.wav"})
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CompanyFileError, match=r"menus\.main\.prompt\.wav: file not found"):
        load_company(path)


def test_not_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(CompanyFileError, match="not valid YAML"):
        load_company(path)


def test_shipped_companies_cover_the_required_styles() -> None:
    companies = [load_company(p) for p in shipped_company_files()]
    assert len(companies) >= 6
    assert len({c.id for c in companies}) == len(companies)
    prompts = " ".join(m.prompt.text or "" for c in companies for m in c.menus.values())
    assert "press 1 for" in prompts.lower() and "for baggage, press 3" in prompts.lower()
    assert any(m.listens_for_speech and m.reason is None for c in companies for m in c.menus.values())  # say or press
    assert any(m.reason is not None for c in companies for m in c.menus.values())  # say the reason
    assert any(q.hold == "silence" for c in companies for q in c.queues.values())
    assert any(
        "{position}" in (a.say.text or "") for c in companies for q in c.queues.values() for a in q.announcements
    )
    assert len({c.voice.key for c in companies}) >= 5
    for company in companies:
        assert len(company.test_intents) >= 5, company.id
        assert company.agent.voice != company.voice

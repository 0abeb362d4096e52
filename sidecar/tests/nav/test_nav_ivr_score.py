"""The benchmark's key judge: which departments stay reachable behind a key, menus with loops included."""

from __future__ import annotations

from hold_slayer_sim.model import parse_company
from hold_slayer_tools.bench.ivr_score import judge_keys, reachable

COMPANY = parse_company(
    {
        "id": "loops",
        "name": "Loops",
        "voice": {"engine": "espeak", "id": "en-us", "speed": 1.0},
        "start": "main",
        "menus": {
            "main": {
                "prompt": "For billing, press 1. For more, press 2. To hear these options again, press 9.",
                "options": {
                    "1": {"label": "billing", "queue": "billing"},
                    "2": {"label": "more", "menu": "more"},
                    "9": {"label": "repeat", "repeat": True},
                },
            },
            "more": {
                "prompt": "For claims, press 1. To go back, press star.",
                "options": {
                    "1": {"label": "claims", "queue": "claims"},
                    "*": {"label": "back", "menu": "main"},
                },
            },
        },
        "queues": {
            "billing": {"name": "Billing", "agent_after_s": 20},
            "claims": {"name": "Claims", "agent_after_s": 20},
        },
        "agent": {"name": "A", "voice": {"engine": "piper", "id": "joe"}, "greeting": "Hi."},
        "test_intents": [{"intent": "my bill", "department": "billing", "path": "1"}],
    }
)


def test_a_repeat_key_and_a_go_back_loop_end() -> None:
    assert reachable(COMPANY, "main") == {"billing", "claims"}
    assert reachable(COMPANY, "more") == {"billing", "claims"}


def test_pressing_repeat_or_back_leads_nowhere_away() -> None:
    verdicts = judge_keys(COMPANY, [("main", "9"), ("more", "*"), ("more", "1")], "billing")
    assert [v.away for v in verdicts] == [False, False, True]

"""End to end over loopback SIP, no mocks: sidecar + simulated company + simulated phone, via the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_tools.demo import COMPANIES_DIR


def run_demo(tmp_path: Path, *args: str) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    done = subprocess.run(
        [sys.executable, "-m", "hold_slayer_tools.demo", "--json", "--talk", "8", "--timeout", "150",
         "--workdir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    summary = json.loads(lines[-1])
    report = [json.loads(line) for line in (tmp_path / "company.jsonl").read_text().splitlines()]
    return summary, report, done.returncode


def at(report: list[dict[str, Any]], event: str) -> list[float]:
    return [line["wall"] for line in report if line["event"] == event]


@pytest.mark.slow
def test_stored_flow_hold_announcement_then_agent_is_bridged(tmp_path: Path) -> None:
    """The lost-cards queue plays an announcement between music before the agent: only the agent rings the user."""
    summary, report, code = run_demo(
        tmp_path, "--company", str(COMPANIES_DIR / "first_city_bank.yaml"), "--intent", "I lost my debit card"
    )
    assert summary["outcome"] == "connected", summary
    assert code == 0
    assert summary["department"] == "lost_cards"  # the stored flow was followed
    assert summary["digits_sent"] == "11"
    # An announcement was played on hold before the agent, and the user was rung only after the agent spoke.
    assert at(report, "announcement") and min(at(report, "announcement")) < min(at(report, "agent_started"))
    assert summary["user_ringing_s"] >= summary["agent_started_s"]
    assert summary["human_detected_s"] >= summary["agent_started_s"]
    assert summary["bridged_s"] > summary["user_ringing_s"]
    # Audio flows both ways through the bridge.
    assert summary["company_heard_user"] is True
    assert summary["phone_heard_audio"] is True
    recordings = [Path(p) for p in summary["recordings"]]
    assert {p.name.rsplit("-", 1)[1] for p in recordings} == {"company.wav", "user.wav", "mix.wav"}
    assert all(p.exists() and p.stat().st_size > 44 for p in recordings)


@pytest.mark.slow
def test_user_who_declines_leaves_the_agent_with_an_apology(tmp_path: Path) -> None:
    """The phone declines (486): the outcome is user_missed and the agent hears a goodbye, not silence."""
    summary, report, code = run_demo(
        tmp_path,
        "--company", str(COMPANIES_DIR / "first_city_bank.yaml"),
        "--intent", "Someone is using my account and I think it's fraud",
        "--user-away",
    )  # fmt: skip
    assert code == 1
    assert summary["outcome"] == "user_missed", summary
    assert summary["false_transfer"] is False
    assert "did not answer" in summary["detail"]
    assert summary["bridged_s"] is None
    hangups = [line for line in report if line["event"] == "hangup"]
    assert hangups and hangups[0]["who"] == "caller"  # the sidecar ended the call after its goodbye

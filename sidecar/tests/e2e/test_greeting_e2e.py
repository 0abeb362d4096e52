"""End to end over loopback SIP: a person answers after ringback, greets and waits; the call probes and bridges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "hold_slayer_sim" / "scenarios"


@pytest.mark.slow
def test_a_person_who_greets_and_waits_after_ringback_is_bridged(tmp_path: Path) -> None:
    """No menu, no hold: "Hi, this is Sam." then silence. The call says "Hello?", the answer rings the user.

    The agent says its own "Hello? Anyone there?" after 6 s of silence and hangs up after 10 s. Our "Hello?" goes
    out in the pause itself (calls/greeting.py), whether or not speech-to-text has caught up on a loaded machine,
    so the agent's first words are its answer to it. The user takes 12 s to pick up, longer than the agent waits in
    silence: only the courtesy line and its repeats keep the agent on the line until the bridge.
    """
    done = subprocess.run(
        [sys.executable, "-m", "hold_slayer_tools.demo", "--json", "--talk", "4", "--timeout", "120",
         "--workdir", str(tmp_path), "--company", str(SCENARIOS / "sam_repairs_direct.yaml"), "--explore",
         "--answer-after", "12"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    summary = json.loads(lines[-1])
    report = [json.loads(line) for line in (tmp_path / "company.jsonl").read_text().splitlines()]
    assert summary["outcome"] == "connected", summary
    assert summary["false_transfer"] is False
    assert summary["human_detected_s"] >= summary["agent_started_s"]
    said = [line["text"] for line in report if line["event"] == "agent_said"]
    assert said and said[0].startswith("Yes, hello")  # the agent answered our probe: it was said
    # The agent stayed on the line while the user's phone rang for 12 s (our courtesy line kept it there).
    assert not any(line["event"] == "hangup" and line.get("who") == "company" for line in report)
    assert summary["company_heard_user"] is True  # bridged: the user's greeting reached the agent

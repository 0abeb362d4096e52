"""The chaos bench stays runnable: three short attacks against the real sidecar behind its edge."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edge.edge_harness import requires_edge_tools

pytestmark = [requires_edge_tools, pytest.mark.slow]


def test_chaos_refer_scan_worker_and_sidecar_kill_leave_every_total_at_zero() -> None:
    """worker_kill: the bridged call in another worker keeps its speech both ways; sidecar_kill: a BYE for the
    held call, no orphaned worker, the old edge replaced, a playable recording in the history, SQLite intact."""
    run = subprocess.run(
        [sys.executable, "-m", "hold_slayer_tools.bench.chaos", "--json", "--only", "refer_mid_call",
         "--only", "options_scan", "--only", "worker_kill", "--only", "sidecar_kill"],
        capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    names = [attack["name"] for attack in summary["attacks"]]
    assert names == ["options_scan", "refer_mid_call", "worker_kill", "sidecar_kill"]
    assert summary["crashes"] == summary["calls_originated_by_attacker"] == summary["emergency_dialled"] == 0
    assert summary["collateral_calls_lost"] == summary["checks_failed"] == 0
    assert summary["worker_restarts"] == 1  # the killed worker, restarted; no other worker died

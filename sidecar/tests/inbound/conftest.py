"""Fixtures of the inbound end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .test_inbound_e2e import Sipp


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[Sipp]:
    """SIPp runs (inbound callers, phones); any still running at the end is killed."""
    runner = Sipp(tmp_path)
    yield runner
    for proc, _ in runner.procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

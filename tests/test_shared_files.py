"""The files both sides share are one definition, copied byte for byte (checked in the quick run)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["protocol.py", "dialplan.py"])
def test_shared_files_are_identical(name: str) -> None:
    """The wire protocol and the dialling policy (what may be dialled or rung) cannot drift apart."""
    ours = REPO / "custom_components" / "hold_slayer" / name
    theirs = REPO / "sidecar" / "hold_slayer_sidecar" / name
    assert ours.read_bytes() == theirs.read_bytes(), f"cp custom_components/hold_slayer/{name} over the sidecar's"

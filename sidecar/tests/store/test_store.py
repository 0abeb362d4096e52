"""The SQLite store on a real file: history, call flows, hold statistics, migrations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hold_slayer_sidecar.nav.flows import CallFlow, FlowStep, FlowStepKind
from hold_slayer_sidecar.store.sqlite import CallRecord, Store, StoreError


def record(call_id: str, company: str, hour: int, hold: float) -> CallRecord:
    started = datetime(2026, 11, 2, hour, 5, tzinfo=UTC).timestamp()
    return CallRecord(
        call_id,
        "sip:x@y",
        company,
        "billing",
        "billing",
        started,
        started + hold + 30,
        hold,
        "connected",
        None,
        [f"/rec/{call_id}-mix.wav"],
    )


def flow(flow_id: str, **kw: object) -> CallFlow:
    return CallFlow(id=flow_id, name=flow_id, steps=[FlowStep(kind=FlowStepKind.DTMF, digits="1")], **kw)  # type: ignore[arg-type]


async def test_history_and_stats_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    await store.open()
    for i, (hour, hold) in enumerate([(9, 600), (9, 500), (14, 60), (14, 120), (20, 300)]):
        await store.add_call(record(f"c{i}", "bank", hour, hold))
    await store.add_call(record("other", "clinic", 9, 10))
    await store.close()

    again = Store(path)
    await again.open()
    calls = await again.history(limit=3)
    assert [c.call_id for c in calls] == ["c4", "c3", "c2"]
    assert calls[0].recordings == ["/rec/c4-mix.wav"]
    assert calls[0].as_dict()["started_at"] == "2026-11-02T20:05:00Z"
    stats = {s.company: s for s in await again.hold_stats()}
    assert stats["bank"].calls == 5
    assert stats["bank"].mean_hold_s == pytest.approx(316.0)
    assert stats["bank"].median_hold_s == 300
    assert stats["bank"].best_hour_utc == 14
    assert [c.call_id for c in await again.history(company="clinic")] == ["other"]
    await again.close()


async def test_call_flow_crud_and_lookup(store: Store) -> None:
    await store.save_flow(flow("bank-cards", company="bank", intent="Lost card"), now=1.0)
    await store.save_flow(flow("bank-billing", company="bank", number="+15551234", intent="billing"), now=2.0)
    assert (await store.get_flow("bank-cards")) == flow("bank-cards", company="bank", intent="Lost card")
    assert [f.id for f in await store.list_flows()] == ["bank-billing", "bank-cards"]
    assert [f.id for f in await store.list_flows("nobody")] == []
    found = await store.find_flow(number="+15551234", company=None, intent="billing")
    assert found is not None and found.id == "bank-billing"
    found = await store.find_flow(number="+1999", company="bank", intent="lost card")
    assert found is not None and found.id == "bank-cards"  # intent matched case-insensitively
    assert await store.find_flow(number=None, company="bank", intent="mortgages") is None
    assert await store.delete_flow("bank-cards") is True
    assert await store.delete_flow("bank-cards") is False
    assert await store.get_flow("bank-cards") is None


async def test_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    await store.open()
    await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        await Store(path).open()

"""The call history in a real SQLite file: rows written as calls go, lines, paging, filters, retention."""

from __future__ import annotations

from pathlib import Path

from hold_slayer_sidecar.history.retention import Retention, apply_retention
from hold_slayer_sidecar.store.history import CallQuery, RecordingRef, TranscriptLine
from hold_slayer_sidecar.store.inbound import InboundStore, Voicemail
from hold_slayer_sidecar.store.sqlite import CallRecord, Store

DAY = 86400.0


def rec(
    call_id: str, started: float, company: str = "Bank", outcome: str = "connected", hold: float = 60.0
) -> CallRecord:
    return CallRecord(call_id, "5551234", company, None, None, started, started + 300, hold, outcome, None, [])


async def test_a_live_row_is_updated_and_never_made_live_again(store: Store) -> None:
    await store.upsert_call(rec("a", 1000.0, outcome=""), status="live")
    await store.upsert_call(rec("a", 1000.0, hold=90.0), status="ended", human_at=1100.0)
    await store.upsert_call(rec("a", 1000.0, outcome=""), status="live")  # a late event after the end
    detail = await store.get_call("a")
    assert detail is not None
    assert detail.call.status == "ended" and detail.call.human_at == 1100.0
    assert await store.mark_interrupted() == []


async def test_lines_keep_their_order_and_get_call_returns_them(store: Store) -> None:
    await store.upsert_call(rec("a", 1000.0), status="live")
    for seq, (speaker, offset, text) in enumerate(
        [("company", 3.0, "Press 1"), ("agent", 40.0, "Hi"), ("you", 41.5, "Hello")], 1
    ):
        await store.add_transcript_line(TranscriptLine("a", seq, speaker, offset, text))
    await store.add_recording(RecordingRef("a", "/r/2026-01-01/a-mix.wav", "mix", 39.0))
    await store.set_summary("a", {"text": "ok", "reference": "48219"})
    detail = await store.get_call("a")
    assert detail is not None
    view = detail.as_dict()
    assert [line["speaker"] for line in view["transcript"]] == ["company", "agent", "you"]
    assert view["recordings"] == [{"name": "a-mix.wav", "leg": "mix", "offset_s": 39.0}]
    assert view["call"]["reference"] == "48219" and view["summary"]["text"] == "ok"
    assert await store.get_call("missing") is None


async def test_paging_and_filters(store: Store) -> None:
    for i in range(7):
        await store.upsert_call(
            rec(f"c{i}", 1000.0 + (i // 2) * 10, outcome="connected" if i % 2 else "no_human"), status="ended"
        )
    await store.upsert_call(rec("other", 5000.0, company="Clinic"), status="ended")
    seen: list[str] = []
    after = None
    while True:
        page = await store.find_calls(CallQuery(company="bank", limit=3, after=after))
        seen += [row.call_id for row in page]
        if len(page) < 3:
            break
        after = page[-1].call_id
    assert seen == ["c6", "c5", "c4", "c3", "c2", "c1", "c0"]  # same start times: no call lost or repeated
    assert [r.call_id for r in await store.find_calls(CallQuery(outcome="no_human", since=1010.0, until=1030.0))] == [
        "c4",
        "c2",
    ]
    assert [r.call_id for r in await store.find_calls(CallQuery(number="5551234", limit=1))] == ["other"]
    hostile = await store.find_calls(CallQuery(company="x' OR '1'='1"))
    assert hostile == []


async def test_retention_deletes_old_calls_and_caps_recordings(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    now = 100 * DAY
    for call_id, started in (("old", now - 40 * DAY), ("new", now - DAY), ("newer", now - 100)):
        path = root / "day" / f"{call_id}-mix.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 1000)
        await store.upsert_call(rec(call_id, started), status="ended")
        await store.add_recording(RecordingRef(call_id, str(path), "mix", 0.0))
    deleted = await apply_retention(store, root, Retention(days=30, max_bytes=1500), now)
    assert deleted == 2  # the old call's file, then the oldest remaining file over the cap
    assert await store.get_call("old") is None
    assert sorted(p.name for p in root.rglob("*.wav")) == ["newer-mix.wav"]
    kept = await store.get_call("new")
    assert kept is not None and kept.recordings == []


async def _voicemail(inbound: InboundStore, root: Path, name: str, received: float, *, heard: bool) -> Path:
    path = root / "day" / f"{name}-voicemail.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 1000)
    voicemail = Voicemail(name, name, "+15550100300", None, None, received, 1.0, "call me", str(path), heard)
    await inbound.add_voicemail(voicemail)
    return path


async def test_the_size_cap_never_deletes_a_voicemail_and_leaves_its_row(store: Store, tmp_path: Path) -> None:
    """Call recordings over the cap go, oldest first; a message, even older and bigger, stays playable."""
    root, inbound, now = tmp_path / "recordings", InboundStore(store), 100 * DAY
    message = await _voicemail(inbound, root, "vm-old", now - 5 * DAY, heard=False)
    call = root / "day" / "new-mix.wav"
    call.write_bytes(b"\0" * 1000)
    await store.upsert_call(rec("new", now - DAY), status="ended")
    await store.add_recording(RecordingRef("new", str(call), "mix", 0.0))
    deleted = await apply_retention(store, root, Retention(days=30, max_bytes=500), now, inbound)
    assert deleted == 1 and not call.exists()
    assert message.exists() and [v.voicemail_id for v in await inbound.voicemails(10)] == ["vm-old"]


async def test_old_heard_voicemails_go_with_their_files_unheard_ones_stay(store: Store, tmp_path: Path) -> None:
    root, inbound, now = tmp_path / "recordings", InboundStore(store), 100 * DAY
    heard_old = await _voicemail(inbound, root, "heard-old", now - 40 * DAY, heard=True)
    unheard_old = await _voicemail(inbound, root, "unheard-old", now - 40 * DAY, heard=False)
    heard_new = await _voicemail(inbound, root, "heard-new", now - DAY, heard=True)
    half_done = await _voicemail(inbound, root, "half-done", now - 40 * DAY, heard=True)
    half_done.unlink()  # a run cut short between the file and the row
    stuck = await _voicemail(inbound, root, "stuck", now - 40 * DAY, heard=True)
    stuck.unlink()
    stuck.mkdir()  # cannot be unlinked (a directory): the file stays, so must its row
    deleted = await apply_retention(store, root, Retention(days=30), now, inbound)
    assert deleted == 1 and not heard_old.exists()
    assert unheard_old.exists() and heard_new.exists() and stuck.exists()
    kept = {v.voicemail_id for v in await inbound.voicemails(10)}
    assert kept == {"unheard-old", "heard-new", "stuck"}
    assert await inbound.unheard() == 1
    # Every listed voicemail has its file; every voicemail file is listed.
    listed = {Path(v.recording) for v in await inbound.voicemails(10)}
    assert listed == set(root.rglob("*-voicemail.wav"))


async def test_retention_forever_keeps_every_voicemail(store: Store, tmp_path: Path) -> None:
    root, inbound = tmp_path / "recordings", InboundStore(store)
    path = await _voicemail(inbound, root, "ancient", 0.0, heard=True)
    assert await apply_retention(store, root, Retention(days=0), 1000 * DAY, inbound) == 0
    assert path.exists() and len(await inbound.voicemails(10)) == 1

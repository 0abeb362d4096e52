"""SQLite persistence: call history, stored call flows, hold statistics and the inbound half's tables.

stdlib ``sqlite3`` in WAL mode; every blocking call runs in a worker thread behind one lock, so the
asyncio loop (and the calls it carries) never waits on the disk.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..nav.flows import CallFlow
from . import history


class StoreError(Exception):
    """The database could not be read or written."""


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished call as kept in the history."""

    call_id: str
    target: str
    company: str | None
    intent: str | None
    department: str | None
    started_at: float
    ended_at: float
    hold_seconds: float
    outcome: str
    reason: str | None
    recordings: list[str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view with ISO timestamps."""
        return {
            "call_id": self.call_id,
            "target": self.target,
            "company": self.company,
            "intent": self.intent,
            "department": self.department,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "hold_seconds": round(self.hold_seconds, 2),
            "outcome": self.outcome,
            "reason": self.reason,
            "recordings": self.recordings,
        }


@dataclass(frozen=True, slots=True)
class HoldStats:
    """How long one company keeps callers on hold."""

    company: str
    calls: int
    mean_hold_s: float
    median_hold_s: float
    best_hour_utc: int | None  # hour of day (UTC) with the shortest median hold

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "company": self.company,
            "calls": self.calls,
            "mean_hold_s": round(self.mean_hold_s, 1),
            "median_hold_s": round(self.median_hold_s, 1),
            "best_hour_utc": self.best_hour_utc,
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Each entry upgrades the schema by one version (PRAGMA user_version); never edit a shipped entry.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE calls (
        call_id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        company TEXT,
        intent TEXT,
        department TEXT,
        started_at REAL NOT NULL,
        ended_at REAL NOT NULL,
        hold_seconds REAL NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        recordings TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX calls_started ON calls (started_at);
    CREATE INDEX calls_company ON calls (company);
    CREATE TABLE call_flows (
        id TEXT PRIMARY KEY,
        company TEXT,
        number TEXT,
        intent TEXT,
        body TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX call_flows_company ON call_flows (company);
    CREATE INDEX call_flows_number ON call_flows (number);
    """,
    # 2: calls are written when they start and updated as they go (a kill -9 leaves the row, marked
    # interrupted on the next start); every transcript line and recording is kept as it is produced.
    """
    ALTER TABLE calls ADD COLUMN status TEXT NOT NULL DEFAULT 'ended';
    ALTER TABLE calls ADD COLUMN updated_at REAL;
    ALTER TABLE calls ADD COLUMN human_at REAL;
    ALTER TABLE calls ADD COLUMN summary TEXT;
    CREATE INDEX calls_status ON calls (status);
    CREATE TABLE transcript_lines (
        call_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        speaker TEXT NOT NULL,
        offset_s REAL NOT NULL,
        duration_s REAL,
        text TEXT NOT NULL,
        leg TEXT,
        PRIMARY KEY (call_id, seq)
    );
    CREATE TABLE recordings (
        call_id TEXT NOT NULL,
        path TEXT NOT NULL,
        leg TEXT NOT NULL,
        offset_s REAL NOT NULL,
        PRIMARY KEY (call_id, path)
    );
    """,
    # 3: the inbound half (issue #18): where calls ring, the rules that decide, known callers, voicemails.
    """
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        address TEXT NOT NULL,
        priority INTEGER NOT NULL,
        ring_timeout_s REAL NOT NULL,
        dnd INTEGER NOT NULL DEFAULT 0,
        last_call_at REAL,
        last_caller TEXT,
        created_at REAL NOT NULL
    );
    CREATE TABLE routing_rules (
        rule_id TEXT PRIMARY KEY,
        priority INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE contacts (
        number TEXT PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE TABLE voicemails (
        voicemail_id TEXT PRIMARY KEY,
        call_id TEXT NOT NULL,
        caller TEXT NOT NULL,
        caller_name TEXT,
        dialled TEXT,
        received_at REAL NOT NULL,
        duration_s REAL NOT NULL,
        transcript TEXT,
        recording TEXT NOT NULL,
        heard INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX voicemails_received ON voicemails (received_at);
    CREATE TABLE inbound_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)


class Store:
    """The sidecar's database file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Create or open the file and bring the schema up to date."""
        await self._run(self._open)

    async def close(self) -> None:
        """Close the file."""
        await self._run(self._close)

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(_MIGRATIONS):
            db.close()
            raise StoreError(f"{self._path} has schema {version}, newer than this sidecar ({len(_MIGRATIONS)})")
        for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
            # executescript commits first; the version bump sits inside the same script.
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
        self._db = db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def _run[T](self, job: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return job()
                except sqlite3.Error as err:
                    raise StoreError(str(err)) from err

        return await asyncio.to_thread(locked)

    async def execute[T](self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run one job on the open database in the store's thread (other modules' SQL, e.g. store.inbound)."""
        return await self._run(lambda: job(self._conn()))

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    # ------------------------------------------------------------ history

    async def add_call(self, record: CallRecord) -> None:
        """Keep a finished call in the history (replacing an earlier row with the same id)."""
        await self.upsert_call(record, status="ended")

    async def upsert_call(self, record: CallRecord, *, status: str, human_at: float | None = None) -> None:
        """Write a call's row as it stands (``live`` while it goes on, ``ended`` once it is over)."""

        def upsert() -> None:
            history.upsert_call(self._conn(), record, status=status, human_at=human_at)

        await self._run(upsert)

    async def mark_interrupted(self) -> list[str]:
        """Mark calls left ``live`` by a sidecar that died as ``interrupted``; return their ids."""
        return await self._run(lambda: history.mark_interrupted(self._conn()))

    async def add_transcript_line(self, line: history.TranscriptLine) -> None:
        """Keep one transcript line (committed at once: a crash loses nothing already said)."""
        await self._run(lambda: history.insert_line(self._conn(), line))

    async def add_recording(self, ref: history.RecordingRef) -> None:
        """Keep where one recording of a call is and when it started in the call."""
        await self._run(lambda: history.insert_recording(self._conn(), ref))

    async def set_summary(self, call_id: str, summary: dict[str, Any]) -> None:
        """Store a call's summary (JSON)."""
        await self._run(lambda: history.set_summary(self._conn(), call_id, summary))

    async def find_calls(self, query: history.CallQuery) -> list[history.CallRow]:
        """Return calls matching a query, newest first (one page)."""
        return await self._run(lambda: history.find_calls(self._conn(), query))

    async def get_call(self, call_id: str) -> history.CallDetail | None:
        """One call with its transcript, recordings and summary."""
        return await self._run(lambda: history.get_call(self._conn(), call_id))

    async def hold_rows(self, company: str | None = None) -> list[history.HoldRow]:
        """(company, started_at, hold_seconds, outcome) of every finished call, for statistics."""
        return await self._run(lambda: history.hold_rows(self._conn(), company))

    async def expire(self, *, older_than: float | None) -> list[str]:
        """Delete calls started before ``older_than`` (with their lines); return their recording paths."""
        return await self._run(lambda: history.expire(self._conn(), older_than))

    async def forget_recordings(self, paths: list[str]) -> None:
        """Drop recordings deleted from disk."""
        await self._run(lambda: history.forget_recordings(self._conn(), paths))

    async def history(self, limit: int = 50, company: str | None = None, after: str | None = None) -> list[CallRecord]:
        """Return the most recent calls, newest first; ``after`` a call id, the calls older than that one."""

        def select() -> list[CallRecord]:
            sql = f"SELECT {history.CALL_COLUMNS} FROM calls WHERE 1"
            args: list[Any] = []
            if company is not None:
                sql += " AND company = ?"
                args.append(company)
            if after is not None:
                # Keyset paging: a call that finishes while a client pages does not shift the later pages.
                sql += " AND (started_at, call_id) < (SELECT started_at, call_id FROM calls WHERE call_id = ?)"
                args.append(after)
            sql += " ORDER BY started_at DESC, call_id DESC LIMIT ?"
            args.append(limit)
            return [_record(row) for row in self._conn().execute(sql, args)]

        return await self._run(select)

    async def hold_stats(self) -> list[HoldStats]:
        """Hold statistics per company over calls that reached the queue."""

        def select() -> list[tuple[str, float, float]]:
            rows = self._conn().execute(
                "SELECT company, started_at, hold_seconds FROM calls"
                " WHERE company IS NOT NULL AND hold_seconds > 0 AND status = 'ended'"
            )
            return [(row[0], row[1], row[2]) for row in rows]

        return _stats(await self._run(select))

    # ------------------------------------------------------------ call flows

    async def save_flow(self, flow: CallFlow, now: float) -> None:
        """Insert or replace a call flow."""

        def upsert() -> None:
            self._conn().execute(
                "INSERT OR REPLACE INTO call_flows VALUES (?,?,?,?,?,?)",
                (flow.id, flow.company, flow.number, flow.intent, flow.model_dump_json(), now),
            )

        await self._run(upsert)

    async def get_flow(self, flow_id: str) -> CallFlow | None:
        """Return one flow by id, or None."""

        def select() -> list[str]:
            rows = self._conn().execute("SELECT body FROM call_flows WHERE id = ?", (flow_id,))
            return [row[0] for row in rows]

        bodies = await self._run(select)
        return _flow(bodies[0]) if bodies else None

    async def delete_flow(self, flow_id: str) -> bool:
        """Delete a flow; False when there was none."""

        def delete() -> bool:
            return self._conn().execute("DELETE FROM call_flows WHERE id = ?", (flow_id,)).rowcount > 0

        return await self._run(delete)

    async def list_flows(
        self, company: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> list[CallFlow]:
        """Flows (all, or one company's) by id; ``after`` an id and ``limit`` give one page of them."""

        def select() -> list[str]:
            sql = "SELECT body FROM call_flows WHERE 1"
            args: list[Any] = []
            if company is not None:
                sql += " AND company = ?"
                args.append(company)
            if after is not None:
                sql += " AND id > ?"
                args.append(after)
            sql += " ORDER BY id LIMIT ?"
            args.append(-1 if limit is None else limit)  # SQLite: a negative LIMIT means none
            return [row[0] for row in self._conn().execute(sql, args)]

        return [flow for body in await self._run(select) if (flow := _flow(body)) is not None]

    async def find_flow(self, *, number: str | None, company: str | None, intent: str | None) -> CallFlow | None:
        """Find the flow for a number (else a company) whose intent matches, preferring the number."""
        for key, value in (("number", number), ("company", company)):
            if not value:
                continue
            candidates = [flow for flow in await self._flows_by(key, value) if _same(flow.intent, intent)]
            if candidates:
                return candidates[0]
        return None

    async def _flows_by(self, column: str, value: str) -> list[CallFlow]:
        sql = f"SELECT body FROM call_flows WHERE {column} = ? ORDER BY updated_at DESC"  # column is ours

        def select() -> list[str]:
            return [row[0] for row in self._conn().execute(sql, (value,))]

        return [flow for body in await self._run(select) if (flow := _flow(body)) is not None]


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _flow(body: str) -> CallFlow | None:
    try:
        return CallFlow.model_validate_json(body)
    except ValidationError:
        return None  # a row written by a newer schema of CallFlow: skip rather than fail the listing


def _record(row: sqlite3.Row) -> CallRecord:
    return CallRecord(
        call_id=row["call_id"],
        target=row["target"],
        company=row["company"],
        intent=row["intent"],
        department=row["department"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        hold_seconds=row["hold_seconds"],
        outcome=row["outcome"],
        reason=row["reason"],
        recordings=list(json.loads(row["recordings"] or "[]")),
    )


def _stats(rows: list[tuple[str, float, float]]) -> list[HoldStats]:
    by_company: dict[str, list[tuple[float, float]]] = {}
    for company, started, hold in rows:
        by_company.setdefault(company, []).append((started, hold))
    result = []
    for company, calls in sorted(by_company.items()):
        holds = [hold for _, hold in calls]
        by_hour: dict[int, list[float]] = {}
        for started, hold in calls:
            by_hour.setdefault(datetime.fromtimestamp(started, UTC).hour, []).append(hold)
        best = min(by_hour, key=lambda hour: (statistics.median(by_hour[hour]), hour)) if by_hour else None
        result.append(HoldStats(company, len(holds), statistics.fmean(holds), statistics.median(holds), best))
    return result

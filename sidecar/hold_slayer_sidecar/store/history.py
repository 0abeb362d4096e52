"""SQL for the call history: call rows written as calls go, transcript lines, recordings, summaries.

Plain functions over a ``sqlite3.Connection`` in autocommit mode; ``Store`` runs them in its worker thread.
With WAL and ``synchronous=NORMAL`` each committed statement survives a killed process (only a power cut
can lose the last transactions), which is what "a crash loses nothing already said" needs.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sqlite import CallRecord

CALL_COLUMNS = (
    "call_id, target, company, intent, department, started_at, ended_at, hold_seconds, outcome, reason, "
    "recordings, status, updated_at, human_at, summary"
)
INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One thing said in a call: who, when (seconds since the call started), what, and which leg heard it."""

    call_id: str
    seq: int
    speaker: str  # company | agent | you | hold_slayer
    offset_s: float
    text: str
    duration_s: float | None = None
    leg: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "seq": self.seq,
            "speaker": self.speaker,
            "offset_s": round(self.offset_s, 2),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 2),
            "text": self.text,
            "leg": self.leg,
        }


@dataclass(frozen=True, slots=True)
class RecordingRef:
    """A recording of a call: its file, the leg (company, user, mix) and when it started in the call."""

    call_id: str
    path: str
    leg: str
    offset_s: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (the file name only: clients fetch it by id, never by path)."""
        return {"name": self.path.rsplit("/", 1)[-1], "leg": self.leg, "offset_s": round(self.offset_s, 2)}


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Filters and one page of the history."""

    company: str | None = None
    number: str | None = None
    outcome: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    after: str | None = None  # the id of the last call of the previous page (keyset paging)


@dataclass(frozen=True, slots=True)
class CallRow:
    """A call as listed in the history."""

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
    status: str
    human_at: float | None
    summary: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view with ISO timestamps."""
        return {
            "call_id": self.call_id,
            "target": self.target,
            "company": self.company,
            "intent": self.intent,
            "department": self.department,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "duration_s": round(max(0.0, self.ended_at - self.started_at), 1),
            "hold_seconds": round(self.hold_seconds, 1),
            "outcome": self.outcome,
            "reason": self.reason,
            "status": self.status,
            "reference": (self.summary or {}).get("reference"),
            "headline": (self.summary or {}).get("text"),
        }


@dataclass(frozen=True, slots=True)
class CallDetail:
    """One call with everything kept about it."""

    call: CallRow
    lines: list[TranscriptLine] = field(default_factory=list)
    recordings: list[RecordingRef] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "call": self.call.as_dict(),
            "transcript": [line.as_dict() for line in self.lines],
            "recordings": [ref.as_dict() for ref in self.recordings],
            "summary": self.call.summary,
        }


@dataclass(frozen=True, slots=True)
class HoldRow:
    """What statistics need of one finished call."""

    company: str
    started_at: float
    hold_seconds: float
    outcome: str
    reached_person: bool


def iso(ts: float) -> str:
    """Unix seconds as ISO 8601 UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def upsert_call(db: sqlite3.Connection, record: CallRecord, *, status: str, human_at: float | None) -> None:
    """Insert the call or update what changed; an ended or interrupted row is never made live again."""
    db.execute(
        "INSERT INTO calls (call_id, target, company, intent, department, started_at, ended_at, hold_seconds,"
        " outcome, reason, recordings, status, updated_at, human_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (call_id) DO UPDATE SET company = excluded.company, intent = excluded.intent,"
        " department = excluded.department, ended_at = excluded.ended_at, hold_seconds = excluded.hold_seconds,"
        " outcome = excluded.outcome, reason = excluded.reason, recordings = excluded.recordings,"
        " updated_at = excluded.updated_at, human_at = COALESCE(excluded.human_at, calls.human_at),"
        " status = CASE WHEN calls.status = 'live' THEN excluded.status ELSE calls.status END",
        (
            record.call_id,
            record.target,
            record.company,
            record.intent,
            record.department,
            record.started_at,
            record.ended_at,
            record.hold_seconds,
            record.outcome,
            record.reason,
            json.dumps(record.recordings),
            status,
            record.ended_at,
            human_at,
        ),
    )


def mark_interrupted(db: sqlite3.Connection) -> list[str]:
    """Close the rows of calls that were live when the sidecar died."""
    ids = [row[0] for row in db.execute("SELECT call_id FROM calls WHERE status = 'live'")]
    db.execute(
        "UPDATE calls SET status = ?, outcome = ?, reason = COALESCE(reason, 'the sidecar stopped during the call'),"
        " ended_at = COALESCE(updated_at, ended_at) WHERE status = 'live'",
        (INTERRUPTED, INTERRUPTED),
    )
    return ids


def insert_line(db: sqlite3.Connection, line: TranscriptLine) -> None:
    """Keep one transcript line."""
    db.execute(
        "INSERT OR REPLACE INTO transcript_lines VALUES (?,?,?,?,?,?,?)",
        (line.call_id, line.seq, line.speaker, line.offset_s, line.duration_s, line.text, line.leg),
    )


def insert_recording(db: sqlite3.Connection, ref: RecordingRef) -> None:
    """Keep one recording reference."""
    db.execute("INSERT OR IGNORE INTO recordings VALUES (?,?,?,?)", (ref.call_id, ref.path, ref.leg, ref.offset_s))


def set_summary(db: sqlite3.Connection, call_id: str, summary: dict[str, Any]) -> None:
    """Store a call's summary."""
    db.execute("UPDATE calls SET summary = ? WHERE call_id = ?", (json.dumps(summary), call_id))


def find_calls(db: sqlite3.Connection, query: CallQuery) -> list[CallRow]:
    """One page of calls matching the query, newest first."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("company", query.company), ("target", query.number), ("outcome", query.outcome)):
        if value is not None:
            where.append(f"{column} = ? COLLATE NOCASE")  # column names are ours, never the client's
            args.append(value)
    if query.since is not None:
        where.append("started_at >= ?")
        args.append(query.since)
    if query.until is not None:
        where.append("started_at < ?")
        args.append(query.until)
    if query.after is not None:
        # Keyset paging: a call that starts while a client pages does not shift the later pages.
        where.append("(started_at, call_id) < (SELECT started_at, call_id FROM calls WHERE call_id = ?)")
        args.append(query.after)
    sql = f"SELECT {CALL_COLUMNS} FROM calls"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_at DESC, call_id DESC LIMIT ?"
    args.append(query.limit)
    return [call_row(row) for row in db.execute(sql, args)]


def get_call(db: sqlite3.Connection, call_id: str) -> CallDetail | None:
    """One call and everything kept about it."""
    row = db.execute(f"SELECT {CALL_COLUMNS} FROM calls WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        return None
    lines = [
        TranscriptLine(r[0], r[1], r[2], r[3], r[5], r[4], r[6])
        for r in db.execute("SELECT * FROM transcript_lines WHERE call_id = ? ORDER BY offset_s, seq", (call_id,))
    ]
    refs = [
        RecordingRef(r[0], r[1], r[2], r[3])
        for r in db.execute("SELECT * FROM recordings WHERE call_id = ? ORDER BY offset_s, leg", (call_id,))
    ]
    return CallDetail(call_row(row), lines, refs)


def hold_rows(db: sqlite3.Connection, company: str | None) -> list[HoldRow]:
    """Finished calls with a company, for statistics."""
    sql = (
        "SELECT company, started_at, hold_seconds, outcome, human_at FROM calls"
        " WHERE company IS NOT NULL AND status = 'ended'"
    )
    args: list[Any] = []
    if company is not None:
        sql += " AND company = ? COLLATE NOCASE"
        args.append(company)
    return [
        HoldRow(r[0], r[1], r[2], r[3], r[4] is not None or r[3] in ("connected", "user_missed"))
        for r in db.execute(sql, args)
    ]


def expire(db: sqlite3.Connection, older_than: float | None) -> list[str]:
    """Delete calls started before ``older_than``; return the paths of their recordings."""
    if older_than is None:
        return []
    ids = [
        r[0] for r in db.execute("SELECT call_id FROM calls WHERE started_at < ? AND status != 'live'", (older_than,))
    ]
    paths: list[str] = []
    for call_id in ids:
        paths += [r[0] for r in db.execute("SELECT path FROM recordings WHERE call_id = ?", (call_id,))]
        for table in ("transcript_lines", "recordings", "calls"):
            db.execute(f"DELETE FROM {table} WHERE call_id = ?", (call_id,))  # table names are ours
    return paths


def forget_recordings(db: sqlite3.Connection, paths: list[str]) -> None:
    """Drop references to recordings that were deleted."""
    db.executemany("DELETE FROM recordings WHERE path = ?", [(path,) for path in paths])


def call_row(row: sqlite3.Row | tuple[Any, ...]) -> CallRow:
    """Build a CallRow from a SELECT of CALL_COLUMNS."""
    summary = row[14]
    return CallRow(
        call_id=row[0],
        target=row[1],
        company=row[2],
        intent=row[3],
        department=row[4],
        started_at=row[5],
        ended_at=row[6],
        hold_seconds=row[7],
        outcome=row[8],
        reason=row[9],
        status=row[11],
        human_at=row[13],
        summary=json.loads(summary) if summary else None,
    )

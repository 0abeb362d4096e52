"""SQL for the inbound half: devices, routing rules, contacts, voicemails and the global DND switch.

Plain functions over a ``sqlite3.Connection`` wrapped by ``InboundStore``, which runs them through the
sidecar's one ``Store`` (its worker thread and lock), so a call never waits on the disk.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..protocol import RoutingRule
from .sqlite import Store

# A voicemail's recording is ``<recordings>/<day>/<call id>-voicemail.wav``; retention's size cap leaves these alone.
VOICEMAIL_FILE_SUFFIX = "-voicemail.wav"


@dataclass(frozen=True, slots=True)
class Device:
    """A device as stored: where it is reached and how it rings."""

    device_id: str
    name: str
    kind: str  # protocol.DeviceKind value
    address: str  # sip: URI, number, extension; the SIP username of a registered device
    priority: int
    ring_timeout_s: float
    dnd: bool = False
    last_call_at: float | None = None
    last_caller: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Voicemail:
    """A voicemail as stored."""

    voicemail_id: str
    call_id: str
    caller: str
    caller_name: str | None
    dialled: str | None
    received_at: float
    duration_s: float
    transcript: str | None
    recording: str  # path of the WAV, relative to the recordings folder
    heard: bool = False


_DEVICE_COLUMNS = "device_id, name, kind, address, priority, ring_timeout_s, dnd, last_call_at, last_caller, created_at"
_VOICEMAIL_COLUMNS = (
    "voicemail_id, call_id, caller, caller_name, dialled, received_at, duration_s, transcript, recording, heard"
)


def _device(row: sqlite3.Row) -> Device:
    return Device(
        device_id=row["device_id"],
        name=row["name"],
        kind=row["kind"],
        address=row["address"],
        priority=int(row["priority"]),
        ring_timeout_s=float(row["ring_timeout_s"]),
        dnd=bool(row["dnd"]),
        last_call_at=row["last_call_at"],
        last_caller=row["last_caller"],
        created_at=float(row["created_at"]),
    )


def _voicemail(row: sqlite3.Row) -> Voicemail:
    return Voicemail(
        voicemail_id=row["voicemail_id"],
        call_id=row["call_id"],
        caller=row["caller"],
        caller_name=row["caller_name"],
        dialled=row["dialled"],
        received_at=float(row["received_at"]),
        duration_s=float(row["duration_s"]),
        transcript=row["transcript"],
        recording=row["recording"],
        heard=bool(row["heard"]),
    )


class InboundStore:
    """The inbound half's persistence, on the sidecar's database file."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ------------------------------------------------------------ devices

    async def devices(self) -> list[Device]:
        """Every device, in ring order (priority, then when it was added)."""

        def select(db: sqlite3.Connection) -> list[Device]:
            sql = f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY priority, created_at, device_id"
            return [_device(row) for row in db.execute(sql)]

        return await self._store.execute(select)

    async def save_device(self, device: Device) -> None:
        """Insert or replace a device."""

        def upsert(db: sqlite3.Connection) -> None:
            db.execute(
                f"INSERT OR REPLACE INTO devices ({_DEVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    device.device_id,
                    device.name,
                    device.kind,
                    device.address,
                    device.priority,
                    device.ring_timeout_s,
                    int(device.dnd),
                    device.last_call_at,
                    device.last_caller,
                    device.created_at,
                ),
            )

        await self._store.execute(upsert)

    async def delete_device(self, device_id: str) -> bool:
        """Delete a device; False when there was none."""
        return await self._store.execute(
            lambda db: db.execute("DELETE FROM devices WHERE device_id = ?", (device_id,)).rowcount > 0
        )

    # ------------------------------------------------------------ rules

    async def rules(self) -> list[RoutingRule]:
        """Every rule (the evaluator orders them)."""

        def select(db: sqlite3.Connection) -> list[RoutingRule]:
            rows = db.execute("SELECT body FROM routing_rules ORDER BY priority, rule_id")
            return [_rule(row[0]) for row in rows]

        return await self._store.execute(select)

    async def save_rule(self, rule: RoutingRule) -> None:
        """Insert or replace a rule (it carries its id)."""
        body = json.dumps(rule, separators=(",", ":"))
        await self._store.execute(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO routing_rules VALUES (?,?,?)", (rule["rule_id"], rule["priority"], body)
            )
        )

    async def delete_rule(self, rule_id: str) -> bool:
        """Delete a rule; False when there was none."""
        return await self._store.execute(
            lambda db: db.execute("DELETE FROM routing_rules WHERE rule_id = ?", (rule_id,)).rowcount > 0
        )

    # ------------------------------------------------------------ contacts and settings

    async def contacts(self) -> dict[str, str]:
        """Normalised number -> name."""
        return await self._store.execute(
            lambda db: {row[0]: row[1] for row in db.execute("SELECT number, name FROM contacts")}
        )

    async def replace_contacts(self, contacts: dict[str, str]) -> None:
        """Replace the whole contact list in one transaction."""

        def replace(db: sqlite3.Connection) -> None:
            with db:  # one transaction: a crash leaves the old list or the new one, never half
                db.execute("BEGIN")
                db.execute("DELETE FROM contacts")
                db.executemany("INSERT INTO contacts VALUES (?,?)", list(contacts.items()))

        await self._store.execute(replace)

    async def setting(self, key: str) -> Any:
        """One inbound setting (JSON), None when unset."""

        def select(db: sqlite3.Connection) -> Any:
            row = db.execute("SELECT value FROM inbound_settings WHERE key = ?", (key,)).fetchone()
            return None if row is None else json.loads(row[0])

        return await self._store.execute(select)

    async def set_setting(self, key: str, value: Any) -> None:
        """Store one inbound setting (JSON)."""
        text = json.dumps(value)
        await self._store.execute(
            lambda db: db.execute("INSERT OR REPLACE INTO inbound_settings VALUES (?,?)", (key, text))
        )

    # ------------------------------------------------------------ voicemails

    async def add_voicemail(self, voicemail: Voicemail) -> None:
        """Keep a voicemail (replacing one with the same id: a transcript arriving later)."""

        def upsert(db: sqlite3.Connection) -> None:
            v = voicemail
            db.execute(
                f"INSERT OR REPLACE INTO voicemails ({_VOICEMAIL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    v.voicemail_id,
                    v.call_id,
                    v.caller,
                    v.caller_name,
                    v.dialled,
                    v.received_at,
                    v.duration_s,
                    v.transcript,
                    v.recording,
                    int(v.heard),
                ),
            )

        await self._store.execute(upsert)

    async def voicemails(self, limit: int, after: str | None = None) -> list[Voicemail]:
        """Newest first; ``after`` a voicemail id, the ones older than it (keyset paging)."""

        def select(db: sqlite3.Connection) -> list[Voicemail]:
            sql = f"SELECT {_VOICEMAIL_COLUMNS} FROM voicemails"
            args: list[Any] = []
            if after is not None:
                sql += (
                    " WHERE (received_at, voicemail_id) <"
                    " (SELECT received_at, voicemail_id FROM voicemails WHERE voicemail_id = ?)"
                )
                args.append(after)
            sql += " ORDER BY received_at DESC, voicemail_id DESC LIMIT ?"
            args.append(limit)
            return [_voicemail(row) for row in db.execute(sql, args)]

        return await self._store.execute(select)

    async def voicemail(self, voicemail_id: str) -> Voicemail | None:
        """One voicemail, or None."""

        def select(db: sqlite3.Connection) -> Voicemail | None:
            sql = f"SELECT {_VOICEMAIL_COLUMNS} FROM voicemails WHERE voicemail_id = ?"
            row = db.execute(sql, (voicemail_id,)).fetchone()
            return None if row is None else _voicemail(row)

        return await self._store.execute(select)

    async def voicemails_of(self, call_id: str) -> list[Voicemail]:
        """Return the voicemails a call left (one, or none)."""

        def select(db: sqlite3.Connection) -> list[Voicemail]:
            sql = f"SELECT {_VOICEMAIL_COLUMNS} FROM voicemails WHERE call_id = ?"
            return [_voicemail(row) for row in db.execute(sql, (call_id,))]

        return await self._store.execute(select)

    async def mark_voicemail(self, voicemail_id: str, heard: bool) -> bool:
        """Set a voicemail heard or not; False when there is none."""
        return await self._store.execute(
            lambda db: (
                db.execute(
                    "UPDATE voicemails SET heard = ? WHERE voicemail_id = ?", (int(heard), voicemail_id)
                ).rowcount
                > 0
            )
        )

    async def heard_voicemails_before(self, older_than: float) -> list[tuple[str, str]]:
        """Return (voicemail id, recording path) of the heard voicemails received before ``older_than``."""
        sql = "SELECT voicemail_id, recording FROM voicemails WHERE heard = 1 AND received_at < ?"
        return await self._store.execute(lambda db: [(row[0], row[1]) for row in db.execute(sql, (older_than,))])

    async def delete_voicemails(self, voicemail_ids: list[str]) -> None:
        """Delete these voicemails' rows."""
        await self._store.execute(
            lambda db: db.executemany("DELETE FROM voicemails WHERE voicemail_id = ?", [(i,) for i in voicemail_ids])
        )

    async def delete_voicemail(self, voicemail_id: str) -> bool:
        """Delete a voicemail's row; False when there was none."""
        return await self._store.execute(
            lambda db: db.execute("DELETE FROM voicemails WHERE voicemail_id = ?", (voicemail_id,)).rowcount > 0
        )

    async def unheard(self) -> int:
        """How many voicemails nobody has listened to."""
        return await self._store.execute(
            lambda db: int(db.execute("SELECT COUNT(*) FROM voicemails WHERE heard = 0").fetchone()[0])
        )


def _rule(body: str) -> RoutingRule:
    rule: RoutingRule = json.loads(body)
    return rule

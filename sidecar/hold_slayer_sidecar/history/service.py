"""History queries for clients: calls, one call with its transcript, statistics, forecasts, recording bytes."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ..protocol import RECORDING_CHUNK_BYTES
from ..store.history import CallDetail, CallQuery, CallRow, HoldRow
from ..store.sqlite import HoldStats
from . import stats

MAX_LINES = 1000  # transcript lines per get_call result: a long call's transcript stays under the frame limit


class HistoryError(Exception):
    """A history request names something that does not exist or cannot be read."""


class HistoryReader(Protocol):
    """What the service reads (``store.sqlite.Store``)."""

    async def find_calls(self, query: CallQuery) -> list[CallRow]:
        """One page of calls."""
        ...

    async def get_call(self, call_id: str) -> CallDetail | None:
        """One call."""
        ...

    async def hold_rows(self, company: str | None = None) -> list[HoldRow]:
        """Rows for statistics."""
        ...

    async def hold_stats(self) -> list[HoldStats]:
        """Hold statistics per company (UTC hours; the history's first answer)."""
        ...


@dataclass(frozen=True, slots=True)
class RecordingChunk:
    """Part of a recording file."""

    name: str
    size: int
    offset: int
    data: bytes

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (base64 data)."""
        return {
            "name": self.name,
            "size": self.size,
            "offset": self.offset,
            "length": len(self.data),
            "eof": self.offset + len(self.data) >= self.size,
            "content_type": "audio/wav",
            "data": base64.b64encode(self.data).decode("ascii"),
        }


class HistoryService:
    """Answers history requests from the store and the recordings folder."""

    def __init__(self, store: HistoryReader, recordings_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._recordings = recordings_dir
        self._clock = clock

    async def find(self, query: CallQuery) -> dict[str, Any]:
        """Return the calls matching the query (the server pages them) and the hold statistics per company."""
        rows = await self._store.find_calls(query)
        stats = await self._store.hold_stats() if query.after is None else []  # with the first page only
        return {"calls": [row.as_dict() for row in rows], "stats": [s.as_dict() for s in stats]}

    async def call(self, call_id: str, after_seq: int = 0) -> dict[str, Any]:
        """One call with its transcript (from ``after_seq`` on, at most MAX_LINES), recordings and summary."""
        detail = await self._store.get_call(call_id)
        if detail is None:
            raise HistoryError(f"call_id: no call {call_id!r} in the history")
        result = detail.as_dict()
        lines = [line for line in result["transcript"] if line["seq"] > after_seq]
        result["transcript"] = lines[:MAX_LINES]
        result["more_transcript"] = len(lines) > MAX_LINES
        return result

    async def statistics(self, tz: ZoneInfo, company: str | None = None) -> dict[str, Any]:
        """Per company: calls, success rate, hold median/p90 overall and by weekday and hour."""
        rows = await self._store.hold_rows(company)
        return {"time_zone": str(tz), "companies": [s.as_dict() for s in stats.all_stats(rows, tz)]}

    async def forecast(self, company: str, tz: ZoneInfo) -> dict[str, Any]:
        """Return the expected hold now and the best time this week for one company."""
        rows = await self._store.hold_rows(company)
        found = stats.all_stats(rows, tz)
        now = datetime.fromtimestamp(self._clock(), tz)
        return {"time_zone": str(tz), **stats.forecast(found[0] if found else None, company, now)}

    async def recording(self, call_id: str, name: str, offset: int) -> RecordingChunk:
        """Read one chunk of a call's recording, found by the call and the file name the history lists."""
        detail = await self._store.get_call(call_id)
        refs = [] if detail is None else [ref for ref in detail.recordings if Path(ref.path).name == name]
        if not refs:
            raise HistoryError(f"name: call {call_id!r} has no recording {name!r}")
        return await asyncio.to_thread(_read_chunk, Path(refs[0].path), self._recordings, name, offset)

    async def recording_file(self, path: Path, name: str, offset: int) -> RecordingChunk:
        """Read one chunk of a recording kept elsewhere than the call history (a voicemail)."""
        return await asyncio.to_thread(_read_chunk, path, self._recordings, name, offset)


def _read_chunk(stored: Path, root: Path, name: str, offset: int) -> RecordingChunk:
    path = stored.resolve()
    if not path.is_relative_to(root.resolve()):  # a database edited by hand must not expose other files
        raise HistoryError(f"name: recording {name!r} is outside the recordings folder")
    try:
        with path.open("rb") as file:
            size = file.seek(0, 2)
            file.seek(min(offset, size))
            data = file.read(RECORDING_CHUNK_BYTES)
    except OSError as err:
        raise HistoryError(f"name: cannot read recording {name!r}: {err.strerror}") from err
    return RecordingChunk(name, size, min(offset, size), data)

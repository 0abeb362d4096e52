"""The JSON-lines report: one line per thing that happened on a call, flushed at once."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, TextIO


class ReportWriter:
    """Appends ``{"event", "call", "t_s", "wall", ...}`` lines to a file (or nowhere when path is None)."""

    def __init__(self, path: Path | None) -> None:
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, event: str, *, call: str, t0: float | None, at: float | None = None, **data: Any) -> None:
        """Write one line; ``t_s`` is seconds since ``t0`` (the answer, monotonic clock) at ``at`` (default now)."""
        now = time.monotonic()
        when = now if at is None else at
        line = {
            "event": event,
            "call": call,
            "t_s": round(when - t0, 3) if t0 is not None else None,
            "wall": round(time.time() + (when - now), 3),
            **data,
        }
        text = json.dumps(line, default=str)
        with self._lock:
            if self._file is not None:
                self._file.write(text + "\n")
                self._file.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

"""Keep stdout for one JSON ready line: native libraries (PJSUA2's libCreate) print to file descriptor 1."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


class ReadyChannel:
    """Moves fd 1 to stderr for everything else and keeps a private handle on the real stdout."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._out: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)  # from now on C-level printf and Python print() both land on stderr
        sys.stdout = sys.stderr

    def send(self, message: dict[str, Any]) -> None:
        """Write one JSON line to the real stdout and flush it."""
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

"""Errors the call manager reports to clients, each with a protocol error code."""

from __future__ import annotations

from ..protocol import ErrorCode


class CallError(Exception):
    """A request the manager cannot carry out; ``code`` is a protocol ErrorCode."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

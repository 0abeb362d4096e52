"""Errors of the inbound half, each with the protocol's error code a client sees."""

from __future__ import annotations

from ..protocol import ErrorCode


class InboundError(Exception):
    """A request about devices, rules, voicemails or an inbound call that cannot be done."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        """Keep the protocol error code beside the message."""
        super().__init__(message)
        self.code = code
        self.message = message

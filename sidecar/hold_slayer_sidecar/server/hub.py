"""Fan-out of events to every authenticated client, numbered with one monotonically increasing seq."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import protocol

_LOGGER = logging.getLogger(__name__)

# Returns False when the client's bounded queue is full (the client is then dropped by its connection).
type Deliver = Callable[[str], bool]


class EventHub:
    """Numbers events and hands each encoded frame to every registered client."""

    def __init__(self) -> None:
        self._seq = 0
        self._clients: dict[int, Deliver] = {}
        self._next_id = 0

    @property
    def seq(self) -> int:
        """The seq of the latest event."""
        return self._seq

    def add(self, deliver: Deliver) -> Callable[[], None]:
        """Register a client; returns the callable that removes it."""
        self._next_id += 1
        key = self._next_id
        self._clients[key] = deliver

        def remove() -> None:
            self._clients.pop(key, None)

        return remove

    def publish(self, event: str, data: dict[str, Any]) -> None:
        """Encode once, deliver to all; a client that cannot keep up is removed."""
        frame = protocol.encode(protocol.event(self._seq + 1, event, data))
        if not protocol.fits_frame(frame):
            # A client closes on a frame over its limit (RFC 6455 7.4.1): lose the event, not every client.
            _LOGGER.error("event %s of %d characters exceeds the frame limit: not sent", event, len(frame))
            return
        self._seq += 1
        for key, deliver in list(self._clients.items()):
            if not deliver(frame):
                _LOGGER.warning("client %d is too slow to take events: disconnecting it", key)
                self._clients.pop(key, None)

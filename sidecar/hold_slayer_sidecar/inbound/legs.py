"""Leg events of the inbound half's own legs (the caller and the devices it rings), awaitable by leg id."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection

from ..sip.api import LegEvent, LegEventKind, SipEngine, Unsubscribe

# Events of legs nobody waits for yet (they can overtake the dial() that names the leg) are kept for this
# many legs; the oldest are forgotten first. Two inbound calls ringing four devices each use ten.
_KEEP_LEGS = 64


class LegEvents:
    """Remembers what happened to recent legs and wakes whoever waits for a leg."""

    def __init__(self, sip: SipEngine) -> None:
        self._sip = sip
        self._seen: OrderedDict[str, list[LegEvent]] = OrderedDict()
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._unsubscribe: Unsubscribe | None = None

    def start(self) -> None:
        """Listen to the SIP engine."""
        if self._unsubscribe is None:
            self._unsubscribe = self._sip.subscribe_events(self._on_event)

    def stop(self) -> None:
        """Stop listening."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: LegEvent) -> None:
        if event.kind in (LegEventKind.INCOMING, LegEventKind.DTMF_RECEIVED):
            return  # new calls go through the manager's hook; a caller's digits never steer anything here
        self._seen.setdefault(event.leg_id, []).append(event)
        self._seen.move_to_end(event.leg_id)
        while len(self._seen) > _KEEP_LEGS:
            self._seen.popitem(last=False)
        for waiter in self._waiters.get(event.leg_id, ()):
            waiter.set()

    def find(self, leg_id: str, kinds: Collection[LegEventKind]) -> LegEvent | None:
        """Return the first event of one of ``kinds`` the leg had, if any."""
        return next((e for e in self._seen.get(leg_id, []) if e.kind in kinds), None)

    def ended(self, leg_id: str) -> LegEvent | None:
        """Return the leg's DISCONNECTED event, once it ended."""
        return self.find(leg_id, (LegEventKind.DISCONNECTED,))

    async def wait(
        self,
        leg_id: str,
        kinds: Collection[LegEventKind],
        timeout: float | None = None,  # noqa: ASYNC109 - a ring time, not a cancel scope
    ) -> LegEvent | None:
        """Wait for one of ``kinds`` (or the leg's end) on a leg; None after ``timeout`` seconds."""
        wanted = {*kinds, LegEventKind.DISCONNECTED}
        waiter = asyncio.Event()
        self._waiters.setdefault(leg_id, set()).add(waiter)
        try:
            async with asyncio.timeout(timeout):
                while (found := self.find(leg_id, wanted)) is None:
                    waiter.clear()
                    await waiter.wait()
                return found
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(leg_id, set())
            waiters.discard(waiter)
            if not waiters:
                self._waiters.pop(leg_id, None)

    def forget(self, leg_id: str) -> None:
        """Drop what is known of a finished leg."""
        self._seen.pop(leg_id, None)

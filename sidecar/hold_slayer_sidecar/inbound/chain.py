"""The ring chain: devices ring in priority order (equal priorities together); the first to answer wins.

Each group rings for its devices' ``ring_timeout_s``; a device that declines (486 Busy Here, 603 Decline,
RFC 3261 s21.4.7/s21.6.2) or fails is done at once, and when every device of a group is done the next group
rings straight away. Every device leg is placed beside the caller's leg (``dial(near=...)``), because a bridge
lives in one media worker. Targets come from the devices the user configured, never from the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from ..dialplan import DialPolicyError, check_target
from ..protocol import DeviceKind
from ..sip.api import LegEventKind, SipEngine, SipError
from ..store.inbound import Device
from .legs import LegEvents
from .ports import Registrar

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChainResult:
    """How a ring chain ended."""

    device_id: str | None = None  # who answered (None: nobody)
    leg_id: str | None = None  # the answered device leg, to bridge to the caller
    declined: tuple[str, ...] = ()  # device ids that refused (or could not be reached)
    failures: dict[str, str] = field(default_factory=dict)  # device id -> why it could not ring


def ring_groups(devices: Iterable[Device], *, global_dnd: bool) -> list[list[Device]]:
    """Devices that may ring, grouped by priority (lower first); DND devices and global DND leave them out."""
    if global_dnd:
        return []
    ready = sorted((d for d in devices if not d.dnd), key=lambda d: (d.priority, d.created_at, d.device_id))
    return [list(group) for _, group in groupby(ready, key=lambda d: d.priority)]


def dial_target(device: Device, registrar: Registrar | None) -> str:
    """Where a device is dialled; raise ValueError when it cannot be (policy, no registrar)."""
    if device.kind == DeviceKind.REGISTERED:
        if registrar is None:
            raise ValueError("no registrar runs for registered phones")
        return registrar.ring_uri(device.device_id)
    try:  # the user configured it, and the policy still applies: no emergency number, no smuggled headers
        return check_target(device.address).value
    except DialPolicyError as err:
        raise ValueError(err.message) from err


class RingChain:
    """Rings groups of devices for one caller leg."""

    def __init__(
        self,
        sip: SipEngine,
        legs: LegEvents,
        *,
        caller_leg: str,
        target: Callable[[Device], str],
        on_ringing: Callable[[str, bool], None],
    ) -> None:
        self._sip = sip
        self._legs = legs
        self._caller_leg = caller_leg
        self._target = target
        self._on_ringing = on_ringing  # (device id, ringing?) for device_state events
        self._declined: list[str] = []
        self._failures: dict[str, str] = {}
        self._winner: str | None = None  # the leg that answered: the only one left up

    async def run(self, groups: Sequence[Sequence[Device]]) -> ChainResult:
        """Ring group after group until a device answers; return who did (or nobody)."""
        for group in groups:
            answered = await self._ring_group(group)
            if answered is not None:
                device, leg_id = answered
                return ChainResult(device.device_id, leg_id, tuple(self._declined), dict(self._failures))
        return ChainResult(None, None, tuple(self._declined), dict(self._failures))

    async def _ring_group(self, group: Sequence[Device]) -> tuple[Device, str] | None:
        legs: dict[str, Device] = {}
        try:
            for device in group:
                leg_id = await self._dial(device)
                if leg_id is not None:
                    legs[leg_id] = device
            return await self._first_answer(legs)
        finally:
            for device in legs.values():
                self._on_ringing(device.device_id, False)
            # Cancelled (the caller hung up, the user chose) or lost the race: stop every other phone ringing.
            for leg_id in [leg for leg in legs if leg != self._winner]:
                with contextlib.suppress(SipError):
                    await asyncio.shield(self._sip.hang_up(leg_id))

    async def _dial(self, device: Device) -> str | None:
        try:
            target = self._target(device)
            leg_id = await self._sip.dial(target, near=self._caller_leg)
        except (ValueError, SipError) as err:
            _LOGGER.info("device %s cannot ring: %s", device.device_id, err)
            self._failures[device.device_id] = str(err)
            self._declined.append(device.device_id)
            return None
        self._on_ringing(device.device_id, True)
        return leg_id

    async def _first_answer(self, legs: dict[str, Device]) -> tuple[Device, str] | None:
        if not legs:
            return None
        waits = {asyncio.create_task(self._answered(leg_id, device)): leg_id for leg_id, device in legs.items()}
        try:
            pending = set(waits)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    leg_id = waits[task]
                    if task.result():
                        self._winner = leg_id
                        return legs[leg_id], leg_id
                    self._declined.append(legs[leg_id].device_id)
            return None
        finally:
            for task in waits:
                task.cancel()

    async def _answered(self, leg_id: str, device: Device) -> bool:
        """Return True when the leg answered within its ring time; a leg that rang out is hung up."""
        event = await self._legs.wait(leg_id, (LegEventKind.ANSWERED,), device.ring_timeout_s)
        if event is not None and event.kind is LegEventKind.ANSWERED:
            return True
        why = "no answer" if event is None else f"{event.status_code} {event.reason}".strip()
        self._failures.setdefault(device.device_id, why)
        with contextlib.suppress(SipError):
            await self._sip.hang_up(leg_id)
        return False

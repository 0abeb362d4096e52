"""The inbound half as clients see it: devices, DND, rules, contacts, calls in progress and voicemails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..protocol import Contact, ErrorCode, EventType, InboundSnapshot, RouteDecision, RoutingRule
from ..store.inbound import InboundStore, Voicemail
from .errors import InboundError
from .handler import InboundCalls
from .rules import normalise_number
from .voicemail import voicemail_info

_LOGGER = logging.getLogger(__name__)


class InboundService:
    """Implements the inbound commands over the handler, its directory and the store."""

    def __init__(
        self,
        calls: InboundCalls,
        store: InboundStore,
        *,
        recordings_dir: Path,
        clock: Callable[[], float],
        publish: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.calls = calls
        self.directory = calls.directory
        self._store = store
        self._recordings = recordings_dir
        self._clock = clock
        self._publish = publish

    def snapshot(self) -> InboundSnapshot:
        """Return the inbound half's state."""
        return self.calls.snapshot()

    # ------------------------------------------------------------ devices and DND

    async def list_devices(self) -> dict[str, Any]:
        """Every device (registrations refreshed) and the global DND switch."""
        await self.directory.refresh_registrations()
        return {"devices": self.directory.device_infos(), "global_dnd": self.directory.global_dnd}

    async def save_device(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create or update a device."""
        info, credentials = await self.directory.save_device(data)
        return {"device": info, "credentials": credentials}

    async def delete_device(self, device_id: str) -> None:
        """Delete a device."""
        await self.directory.delete_device(device_id)

    async def set_dnd(self, device_id: str | None, enabled: bool) -> None:
        """Switch a device's DND or the global one."""
        await self.directory.set_dnd(device_id, enabled)

    # ------------------------------------------------------------ rules and contacts

    def list_rules(self) -> list[RoutingRule]:
        """Rules in evaluation order."""
        return self.directory.rules

    async def save_rule(self, data: dict[str, Any]) -> RoutingRule:
        """Validate and keep a rule."""
        return await self.directory.save_rule(data)

    async def delete_rule(self, rule_id: str) -> None:
        """Delete a rule."""
        await self.directory.delete_rule(rule_id)

    def test_route(self, caller: str, dialled: str | None, at: datetime | None) -> RouteDecision:
        """Return who would ring for this caller at this time (now when ``at`` is None)."""
        when = at if at is not None else datetime.fromtimestamp(self._clock(), UTC)
        if when.tzinfo is None:  # a time without offset is the sidecar's local time
            when = when.replace(tzinfo=self.directory.time_zone)
        dialled_number = normalise_number(dialled) if dialled else None
        return self.directory.route(normalise_number(caller), dialled_number, when)[1]

    async def set_contacts(self, contacts: list[Contact]) -> int:
        """Replace the contacts; return how many are kept."""
        return await self.directory.set_contacts(contacts)

    # ------------------------------------------------------------ calls in progress

    async def answer_inbound(self, call_id: str, device_id: str) -> None:
        """Ring one device for a waiting call now."""
        await self.calls.answer_on(call_id, device_id)

    async def reject_inbound(self, call_id: str, to_voicemail: bool) -> None:
        """Refuse a waiting call, or send it to voicemail."""
        await self.calls.reject(call_id, to_voicemail)

    # ------------------------------------------------------------ voicemails

    async def list_voicemails(self, limit: int, cursor: str | None) -> dict[str, Any]:
        """One page of voicemails, newest first, and the unheard count."""
        if cursor is not None and await self._store.voicemail(cursor) is None:
            raise InboundError(ErrorCode.NOT_FOUND, f"cursor: no voicemail {cursor!r}")
        found = await self._store.voicemails(limit + 1, cursor)
        page = found[:limit]
        return {
            "voicemails": [voicemail_info(v) for v in page],
            "next_cursor": page[-1].voicemail_id if len(found) > limit else None,
            "unheard": await self._store.unheard(),
        }

    async def mark_voicemail(self, voicemail_id: str, heard: bool) -> None:
        """Mark a voicemail heard or unheard."""
        if not await self._store.mark_voicemail(voicemail_id, heard):
            raise InboundError(ErrorCode.NOT_FOUND, f"voicemail_id: no voicemail {voicemail_id!r}")
        await self._changed(voicemail_id, heard=heard, deleted=False)

    async def delete_voicemail(self, voicemail_id: str) -> None:
        """Delete a voicemail and its recording."""
        voicemail = await self._store.voicemail(voicemail_id)
        if voicemail is None:
            raise InboundError(ErrorCode.NOT_FOUND, f"voicemail_id: no voicemail {voicemail_id!r}")
        await self._store.delete_voicemail(voicemail_id)
        path = self._inside(voicemail)
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(path.unlink)
        await self._changed(voicemail_id, heard=voicemail.heard, deleted=True)

    async def _changed(self, voicemail_id: str, *, heard: bool, deleted: bool) -> None:
        unheard = await self._store.unheard()
        self.calls.unheard = unheard
        data = {"voicemail_id": voicemail_id, "heard": heard, "deleted": deleted, "unheard": unheard}
        self._publish(EventType.VOICEMAIL_CHANGED, data)

    def _inside(self, voicemail: Voicemail) -> Path | None:
        """Return the recording inside the recordings folder (a hand-edited row reaches nothing else)."""
        path = Path(voicemail.recording).resolve()
        return path if path.is_relative_to(self._recordings.resolve()) else None

    async def recording_path(self, call_id: str, name: str) -> Path | None:
        """Return the voicemail recording of a call by file name (for fetch_recording), or None."""
        for voicemail in await self._store.voicemails_of(call_id):
            if Path(voicemail.recording).name == name:
                return self._inside(voicemail)
        return None

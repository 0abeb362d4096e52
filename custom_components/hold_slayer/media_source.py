"""Media source: call recordings by date and by company, voicemails with their transcripts, played signed.

The sidecar may run on another machine, so recordings are never read from a path: the view fetches them
over the websocket (``fetch_recording``) and serves them with byte ranges, so a player can seek.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import timedelta
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util import dt as dt_util

from .client import HoldSlayerError
from .const import DOMAIN
from .coordinator import HoldSlayerConfigEntry
from .inbound_model import valid_voicemail
from .logbook import format_duration
from .protocol import VoicemailInfo

RECORDING_URL: Final = "/api/hold_slayer/recording/{entry_id}/{call_id}/{name}"
CALLS_PER_LISTING: Final = 200  # the history pages read to list days and companies (the sidecar's page limit)
SIGNED_FOR: Final = timedelta(hours=1)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_CACHE_FILES: Final = 4  # recordings kept in memory for a player's range requests (a mixed WAV: ~1 MB/min)
VOICEMAILS_PER_LISTING: Final = 200  # the sidecar's page limit: older voicemails are a history question
TRANSCRIPT_IN_TITLE: Final = 120  # characters of the transcript in a voicemail's title (a player shows one line)
LEG_TITLES: Final = {"mix": "Both sides", "company": "Company", "user": "You"}


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """Set up the recordings source."""
    return RecordingsSource(hass)


def _entries(hass: HomeAssistant) -> list[HoldSlayerConfigEntry]:
    return [entry for entry in hass.config_entries.async_entries(DOMAIN) if entry.state is ConfigEntryState.LOADED]


def _entry(hass: HomeAssistant, entry_id: str) -> HoldSlayerConfigEntry:
    for entry in _entries(hass):
        if entry.entry_id == entry_id:
            return entry
    raise BrowseError(f"Hold Slayer entry {entry_id} is not loaded")


def _folder(identifier: str, title: str, children: list[BrowseMediaSource] | None = None) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.PLAYLIST,
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.DIRECTORY,
    )


def _local_day(call: dict[str, Any]) -> str:
    started = dt_util.parse_datetime(str(call.get("started_at") or ""))
    return dt_util.as_local(started).date().isoformat() if started else "unknown"


def _company_of(call: dict[str, Any]) -> str:
    return str(call.get("company") or "Unknown")


def _call_title(call: dict[str, Any]) -> str:
    started = dt_util.parse_datetime(str(call.get("started_at") or ""))
    when = dt_util.as_local(started).strftime("%Y-%m-%d %H:%M") if started else "?"
    who = call.get("company") or call.get("target") or "?"
    extra = f", ref {call['reference']}" if call.get("reference") else ""
    return f"{when} {who} ({call.get('outcome') or call.get('status')}{extra})"


def voicemail_title(voicemail: VoicemailInfo) -> str:
    """Title a voicemail as a player lists it: when, who, how long, and the start of what they said."""
    received = dt_util.parse_datetime(str(voicemail.get("received_at") or ""))
    when = dt_util.as_local(received).strftime("%Y-%m-%d %H:%M") if received else "?"
    who = voicemail.get("caller_name") or voicemail.get("caller") or "Unknown caller"
    duration = voicemail.get("duration_s")
    length = f" ({format_duration(duration)})" if isinstance(duration, int | float) else ""
    unheard = "" if voicemail.get("heard") else "\u2022 "  # a bullet marks the unheard ones, as phones do
    transcript = voicemail.get("transcript")
    said = (
        f": {transcript[:TRANSCRIPT_IN_TITLE]}{'...' if len(transcript) > TRANSCRIPT_IN_TITLE else ''}"
        if isinstance(transcript, str) and transcript
        else ""
    )
    return f"{unheard}{when} {who}{length}{said}"


class RecordingsSource(MediaSource):
    """Hold Slayer call recordings."""

    name = "Hold Slayer"

    def __init__(self, hass: HomeAssistant) -> None:
        """Keep hass for lookups."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Turn ``<entry>/rec/<call>/<name>`` or ``<entry>/voicemail/<id>`` into a signed URL of the recording view."""
        parts = item.identifier.split("/")
        if len(parts) == 3 and parts[1] == "voicemail":
            voicemail = await self._voicemail(parts[0], parts[2])
            parts = [parts[0], "rec", str(voicemail.get("call_id")), str(voicemail.get("recording"))]
            if not _NAME.match(parts[2]):
                raise Unresolvable(f"voicemail {voicemail['voicemail_id']} has no playable recording")
        if len(parts) != 4 or parts[1] != "rec" or not _NAME.match(parts[3]):
            raise Unresolvable(f"not a recording: {item.identifier}")
        entry_id, _, call_id, name = parts
        path = RECORDING_URL.format(entry_id=entry_id, call_id=call_id, name=name)
        return PlayMedia(async_sign_path(self.hass, path, SIGNED_FOR), "audio/wav")

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse: sidecars, then by date / by company, then calls, then a call's recordings."""
        parts = [part for part in (item.identifier or "").split("/") if part]
        if not parts:
            entries = _entries(self.hass)
            if len(entries) == 1:
                return await self._entry_root(entries[0])
            return _folder("", "Hold Slayer", [_folder(entry.entry_id, entry.title) for entry in entries])
        entry = _entry(self.hass, parts[0])
        try:
            return await self._browse(entry, parts[1:])
        except HoldSlayerError as err:
            raise BrowseError(f"cannot read the history: {err}") from err

    async def _entry_root(self, entry: HoldSlayerConfigEntry) -> BrowseMediaSource:
        folders = [_folder(f"{entry.entry_id}/date", "By date"), _folder(f"{entry.entry_id}/company", "By company")]
        if entry.runtime_data.state.inbound.supported:
            folders.append(_folder(f"{entry.entry_id}/voicemail", "Voicemail"))
        return _folder(entry.entry_id, entry.title, folders)

    async def _voicemail(self, entry_id: str, voicemail_id: str) -> VoicemailInfo:
        """Return one voicemail: from the recent ones HA keeps, else from the sidecar's list."""
        try:
            entry = _entry(self.hass, entry_id)
        except BrowseError as err:
            raise Unresolvable(str(err)) from err
        found = next(
            (v for v in entry.runtime_data.state.inbound.voicemails if v["voicemail_id"] == voicemail_id), None
        )
        if found is None:
            try:
                result = await entry.runtime_data.client.list_voicemails(VOICEMAILS_PER_LISTING)
            except HoldSlayerError as err:
                raise Unresolvable(f"cannot read the voicemails: {err}") from err
            listed = (valid_voicemail(v) for v in result.get("voicemails") or [])
            found = next((v for v in listed if v and v["voicemail_id"] == voicemail_id), None)
        if found is None:
            raise Unresolvable(f"no voicemail {voicemail_id}")
        return found

    async def _voicemails(self, entry: HoldSlayerConfigEntry) -> BrowseMediaSource:
        result = await entry.runtime_data.client.list_voicemails(VOICEMAILS_PER_LISTING)
        children = [
            BrowseMediaSource(
                domain=DOMAIN,
                identifier=f"{entry.entry_id}/voicemail/{voicemail['voicemail_id']}",
                media_class=MediaClass.MUSIC,
                media_content_type="audio/wav",
                title=voicemail_title(voicemail),
                can_play=True,
                can_expand=False,
            )
            for voicemail in (valid_voicemail(v) for v in result.get("voicemails") or [])
            if voicemail is not None
        ]
        return _folder(f"{entry.entry_id}/voicemail", "Voicemail", children)

    async def _browse(self, entry: HoldSlayerConfigEntry, rest: list[str]) -> BrowseMediaSource:
        if not rest:
            return await self._entry_root(entry)
        kind, value = rest[0], "/".join(rest[1:])
        if kind == "voicemail":
            return await self._voicemails(entry)
        if kind == "call" and value:
            return await self._call(entry, value)
        calls = (await entry.runtime_data.client.get_history(CALLS_PER_LISTING)).get("calls", [])
        if kind == "date":
            return self._grouped(entry, "date", calls, _local_day, value)
        if kind == "company":
            return self._grouped(entry, "company", calls, _company_of, value)
        raise BrowseError(f"unknown folder {kind}")

    def _grouped(
        self, entry: HoldSlayerConfigEntry, kind: str, calls: list[dict[str, Any]], key: Any, value: str
    ) -> BrowseMediaSource:
        title = "By date" if kind == "date" else "By company"
        base = f"{entry.entry_id}/{kind}"
        if not value:
            groups = sorted({key(call) for call in calls}, reverse=kind == "date")
            return _folder(base, title, [_folder(f"{base}/{group}", group) for group in groups])
        chosen = [call for call in calls if key(call) == value]
        children = [_folder(f"{entry.entry_id}/call/{call['call_id']}", _call_title(call)) for call in chosen]
        return _folder(f"{base}/{value}", value, children)

    async def _call(self, entry: HoldSlayerConfigEntry, call_id: str) -> BrowseMediaSource:
        detail = await entry.runtime_data.client.get_call(call_id)
        children = [
            BrowseMediaSource(
                domain=DOMAIN,
                identifier=f"{entry.entry_id}/rec/{call_id}/{rec['name']}",
                media_class=MediaClass.MUSIC,
                media_content_type="audio/wav",
                title=LEG_TITLES.get(str(rec.get("leg")), str(rec.get("leg"))),
                can_play=True,
                can_expand=False,
            )
            for rec in detail.get("recordings", [])
        ]
        return _folder(f"{entry.entry_id}/call/{call_id}", _call_title(detail.get("call", {})), children)


class RecordingView(HomeAssistantView):
    """Serve a recording fetched from the sidecar (signed or authenticated requests only)."""

    url = "/api/hold_slayer/recording/{entry_id}/{call_id}/{name}"
    name = "api:hold_slayer:recording"
    requires_auth = True

    def __init__(self) -> None:
        """Start with an empty cache."""
        self._cache: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    async def get(self, request: web.Request, entry_id: str, call_id: str, name: str) -> web.StreamResponse:
        """Return the WAV (or the byte range asked for)."""
        hass: HomeAssistant = request.app["hass"]
        if not _NAME.match(name) or not _NAME.match(call_id):
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        key = (entry_id, call_id, name)
        body = self._cache.get(key)
        if body is None:
            entry = next((e for e in _entries(hass) if e.entry_id == entry_id), None)
            if entry is None:
                return web.Response(status=HTTPStatus.NOT_FOUND)
            try:
                body = await entry.runtime_data.client.fetch_recording(call_id, name)
            except HoldSlayerError:
                return web.Response(status=HTTPStatus.NOT_FOUND)
            self._cache[key] = body
            while len(self._cache) > _CACHE_FILES:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return _ranged(request, body)


def _ranged(request: web.Request, body: bytes) -> web.Response:
    """Answer a Range request (RFC 9110 section 14) so a player can seek; the whole file otherwise."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("Range", "").strip())
    if not match or not (match.group(1) or match.group(2)):
        return web.Response(body=body, content_type="audio/wav", headers=headers)
    size = len(body)
    if match.group(1):
        start, end = int(match.group(1)), int(match.group(2) or size - 1)
    else:  # a suffix range: the last N bytes
        start, end = max(0, size - int(match.group(2))), size - 1
    end = min(end, size - 1)
    if start > end:
        return web.Response(
            status=HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, headers={"Content-Range": f"bytes */{size}"}
        )
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return web.Response(
        status=HTTPStatus.PARTIAL_CONTENT, body=body[start : end + 1], content_type="audio/wav", headers=headers
    )

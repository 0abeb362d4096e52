"""Minimal Wyoming protocol framing over asyncio streams (the protocol of HA's voice services).

An event is one JSON header line ``{"type", "data"?, "data_length"?, "payload_length"?}`` plus a newline, then
``data_length`` bytes of JSON data (merged into ``data``), then ``payload_length`` bytes of payload
(audio for ``audio-chunk``). See https://github.com/OHF-Voice/wyoming (README "Event format").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .api import VoiceEngineError

_VERSION = "1.5.4"
_MAX_HEADER = 64 * 1024
_MAX_PAYLOAD = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WyomingEvent:
    """One Wyoming event."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    payload: bytes = b""


def parse_tcp_url(url: str) -> tuple[str, int]:
    """Split ``tcp://host:port`` (or ``host:port``) into host and port; raise ValueError if malformed."""
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
        raise ValueError(f"expected tcp://host:port for a Wyoming service, got {url!r}")
    return parts.hostname, parts.port


async def write_event(writer: asyncio.StreamWriter, event: WyomingEvent) -> None:
    """Send one event (data as a separate JSON segment, as wyoming >= 1.2 does)."""
    data = json.dumps(event.data, separators=(",", ":")).encode() if event.data else b""
    header: dict[str, Any] = {"type": event.type, "version": _VERSION}
    if data:
        header["data_length"] = len(data)
    if event.payload:
        header["payload_length"] = len(event.payload)
    writer.write(json.dumps(header, separators=(",", ":")).encode() + b"\n" + data + event.payload)
    await writer.drain()


async def read_event(reader: asyncio.StreamReader) -> WyomingEvent:
    """Read one event; raise VoiceEngineError on EOF or a malformed frame."""
    try:
        line = await reader.readline()
        if not line:
            raise VoiceEngineError("Wyoming service closed the connection")
        if len(line) > _MAX_HEADER:
            raise VoiceEngineError("Wyoming header too long")
        header = json.loads(line)
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            raise VoiceEngineError(f"malformed Wyoming header: {line[:200]!r}")
        data: dict[str, Any] = dict(header.get("data") or {})
        data_length = int(header.get("data_length") or 0)
        payload_length = int(header.get("payload_length") or 0)
        if data_length > _MAX_HEADER or payload_length > _MAX_PAYLOAD:
            raise VoiceEngineError("Wyoming frame too large")
        if data_length:
            extra = json.loads(await reader.readexactly(data_length))
            if isinstance(extra, dict):
                data.update(extra)
        payload = await reader.readexactly(payload_length) if payload_length else b""
    except (ValueError, asyncio.IncompleteReadError) as err:
        raise VoiceEngineError(f"bad Wyoming frame: {err}") from err
    return WyomingEvent(header["type"], data, payload)


@asynccontextmanager
async def connect(url: str, timeout_s: float) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Open a TCP connection to a Wyoming service, mapping connection errors to VoiceEngineError."""
    host, port = parse_tcp_url(url)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError) as err:
        raise VoiceEngineError(f"cannot reach Wyoming service {url}: {err or type(err).__name__}") from err
    try:
        yield reader, writer
    finally:
        writer.close()
        with suppress(OSError):  # peer already gone: nothing left to flush
            await writer.wait_closed()


async def describe(url: str, timeout_s: float) -> dict[str, Any]:
    """Ask a Wyoming service for its ``info`` (capability handshake)."""
    async with connect(url, timeout_s) as (reader, writer):
        await write_event(writer, WyomingEvent("describe"))
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    event = await read_event(reader)
                    if event.type == "info":
                        return event.data
        except TimeoutError as err:
            raise VoiceEngineError(f"Wyoming service {url} did not answer describe in {timeout_s} s") from err

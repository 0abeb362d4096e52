"""Async websocket client for the Hold Slayer sidecar.

No Home Assistant imports: this module only needs aiohttp and ``protocol.py``, and it also runs on the
sidecar's Python 3.12 (contract tests, tools). One connection at a time; ``connect`` performs the
hello/welcome handshake and starts a reader task that resolves request futures and fans events out to
subscribers; ``listen`` keeps a connection up with capped exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp

from . import protocol
from .protocol import Command, ConfigureData, ConfigureResult, ErrorCode, MessageType, Snapshot

_LOGGER = logging.getLogger(__name__)

DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 10.0
# configure waits for the registrar (6 s in the sidecar) and the Wyoming services (3 s each, in parallel).
CONFIGURE_TIMEOUT = 20.0
HEARTBEAT_SECONDS = 30.0
# A list is read page by page; this many pages of MAX_PAGE_SIZE items is far more than any sidecar holds,
# and stops a sidecar that keeps answering with a cursor from holding the client forever.
MAX_PAGES = 1000
_MAX_TRANSCRIPT_PAGES = 50  # 50 x 1000 lines: a day-long call; more is a sidecar bug, not a transcript


class HoldSlayerError(Exception):
    """Base error of the Hold Slayer client."""


class HoldSlayerConnectionError(HoldSlayerError):
    """The sidecar cannot be reached, or the connection dropped."""


class HoldSlayerCertificateError(HoldSlayerConnectionError):
    """The sidecar's TLS certificate is not the one pinned at setup."""


class HoldSlayerAuthenticationError(HoldSlayerError):
    """The sidecar refused the token."""


class HoldSlayerVersionError(HoldSlayerError):
    """The sidecar speaks a protocol version this client does not."""

    def __init__(self, message: str, server_protocol: int | None = None) -> None:
        """Remember the server's protocol version when it told us."""
        super().__init__(message)
        self.server_protocol = server_protocol


class HoldSlayerCommandError(HoldSlayerError):
    """The sidecar answered a request with a failed result."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the sidecar's machine-readable code beside its message."""
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _digest(fingerprint: str) -> bytes:
    try:
        digest = bytes.fromhex(fingerprint.replace(":", "").strip())
    except ValueError as err:
        raise ValueError(f"not a SHA-256 fingerprint: {fingerprint!r}") from err
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f"not a SHA-256 fingerprint: {fingerprint!r}")
    return digest


def format_fingerprint(digest: bytes) -> str:
    """Format a certificate digest as ``AB:CD:...`` (as the sidecar logs it)."""
    return ":".join(f"{byte:02X}" for byte in digest)


async def fetch_tls_fingerprint(
    host: str, port: int, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
) -> str | None:
    """Return the SHA-256 fingerprint of the certificate the sidecar presents, or None when it has no TLS.

    Used once, at setup, to show the user what will be pinned; nothing is sent over this connection.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed by design: the fingerprint, shown and pinned, is the check
    try:
        async with asyncio.timeout(connect_timeout):
            _reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except ssl.SSLError:
        return None  # a plain ws:// sidecar (on loopback): it answered, but not with TLS
    except (OSError, TimeoutError) as err:
        raise HoldSlayerConnectionError(f"cannot connect to {host}:{port}: {err}") from err
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    return format_fingerprint(hashlib.sha256(der).digest()) if der else None


@dataclass(frozen=True, slots=True)
class Welcome:
    """What the sidecar said when it accepted us."""

    protocol: int
    sidecar_version: str
    capabilities: tuple[str, ...]
    snapshot: Snapshot
    sidecar_id: str | None = None


@dataclass(frozen=True, slots=True)
class SidecarEvent:
    """One pushed event."""

    seq: int
    name: str
    data: dict[str, Any]


EventCallback = Callable[[SidecarEvent], None]


@dataclass(slots=True)
class Backoff:
    """Capped exponential backoff with jitter, so many clients do not reconnect in lockstep."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    attempt: int = field(default=0, init=False)

    def next_delay(self) -> float:
        """Return the next delay: half fixed, half random ("equal jitter")."""
        delay = min(self.maximum, self.initial * self.factor**self.attempt)
        self.attempt += 1
        return delay / 2 + random.uniform(0, delay / 2)  # jitter, not cryptography

    def reset(self) -> None:
        """Start again from the initial delay after a successful connection."""
        self.attempt = 0


class HoldSlayerClient:
    """Typed async client of the sidecar's websocket API."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        session: aiohttp.ClientSession,
        *,
        client_name: str = "home_assistant",
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        backoff: Backoff | None = None,
        tls_fingerprint: str | None = None,
    ) -> None:
        """Store where and how to connect; nothing happens until ``connect``.

        With ``tls_fingerprint`` (SHA-256, hex, colons allowed) the client speaks wss:// and accepts only
        the certificate with that fingerprint: the sidecar's is self-signed, so the pin is the trust.
        """
        self.host = host
        self.port = port
        self._pin = aiohttp.Fingerprint(_digest(tls_fingerprint)) if tls_fingerprint else None
        self._token = token
        self._session = session
        self._client_name = client_name
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._backoff = backoff or Backoff()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 1
        self._subscribers: list[EventCallback] = []
        self.welcome: Welcome | None = None

    @property
    def url(self) -> str:
        """Return the websocket URL of the sidecar."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self._pin else 'ws'}://{host}:{self.port}{protocol.WS_PATH}"

    @property
    def connected(self) -> bool:
        """Return True while an authenticated connection is open."""
        return self._ws is not None and not self._ws.closed and self._reader is not None and not self._reader.done()

    # -- connection lifecycle ------------------------------------------------------------------

    async def connect(self) -> Welcome:
        """Open the websocket and perform the hello/welcome handshake."""
        if self.connected:
            await self.disconnect()
        try:
            ws = await self._session.ws_connect(
                self.url,
                heartbeat=HEARTBEAT_SECONDS,
                max_msg_size=protocol.MAX_MESSAGE_BYTES,
                timeout=aiohttp.ClientWSTimeout(ws_close=self._connect_timeout),
                ssl=self._pin if self._pin is not None else True,
            )
        except aiohttp.ServerFingerprintMismatch as err:
            raise HoldSlayerCertificateError(
                f"the sidecar at {self.url} presented a certificate ({format_fingerprint(err.got)}) that is not "
                "the one pinned when it was added; if it was reinstalled, reconfigure the entry"
            ) from err
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise HoldSlayerConnectionError(f"cannot connect to {self.url}: {err}") from err
        try:
            welcome = await asyncio.wait_for(self._handshake(ws), self._connect_timeout)
        except TimeoutError as err:
            await ws.close()
            raise HoldSlayerConnectionError("the sidecar did not answer the hello") from err
        except BaseException:
            await ws.close()
            raise
        self._ws = ws
        self.welcome = welcome
        self._reader = asyncio.create_task(self._read_loop(ws), name="hold_slayer-client-reader")
        return welcome

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> Welcome:
        await ws.send_str(protocol.encode(protocol.hello(self._token, self._client_name)))
        msg = await ws.receive()
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            raise _close_error(ws.close_code)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise HoldSlayerConnectionError(f"unexpected websocket frame during handshake: {msg.type!r}")
        try:
            message = protocol.decode(msg.data)
        except protocol.ProtocolError as err:
            raise HoldSlayerConnectionError(f"malformed handshake reply: {err.message}") from err
        if message["type"] == MessageType.ERROR:
            raise _handshake_error(message["code"], message["message"])
        if message["type"] != MessageType.WELCOME:
            raise HoldSlayerConnectionError(f"expected welcome, got {message['type']}")
        if message["protocol"] != protocol.PROTOCOL_VERSION:
            raise HoldSlayerVersionError(
                f"sidecar speaks protocol {message['protocol']}, this client speaks {protocol.PROTOCOL_VERSION}",
                message["protocol"],
            )
        sidecar_id = message.get("sidecar_id")
        return Welcome(
            protocol=message["protocol"],
            sidecar_version=message["sidecar_version"],
            capabilities=tuple(str(cap) for cap in message.get("capabilities", [])),
            snapshot=cast(Snapshot, message["snapshot"]),
            sidecar_id=sidecar_id if isinstance(sidecar_id, str) else None,
        )

    async def disconnect(self) -> None:
        """Close the connection and fail every pending request."""
        reader, self._reader = self._reader, None
        ws, self._ws = self._ws, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if ws is not None and not ws.closed:
            await ws.close()
        self._fail_pending(HoldSlayerConnectionError("disconnected"))

    async def wait_closed(self) -> None:
        """Return when the current connection has ended (at once if there is none)."""
        if self._reader is not None:
            # asyncio.wait neither raises the reader's exception nor cancels the reader if we are cancelled.
            await asyncio.wait([self._reader])

    async def listen(
        self,
        *,
        on_connected: Callable[[Welcome], None],
        on_disconnected: Callable[[HoldSlayerError], None],
    ) -> None:
        """Stay connected until cancelled, reconnecting with backoff; report each transition."""
        try:
            while True:
                if not self.connected:
                    try:
                        welcome = await self.connect()
                    except HoldSlayerError as err:
                        _notify(on_disconnected, err)
                        delay = self._backoff.next_delay()
                        _LOGGER.debug("Reconnecting to %s in %.1f s: %s", self.url, delay, err)
                        await asyncio.sleep(delay)
                        continue
                    self._backoff.reset()
                    _notify(on_connected, welcome)
                await self.wait_closed()
                await self.disconnect()
                _notify(on_disconnected, HoldSlayerConnectionError("connection to the sidecar closed"))
        finally:
            await self.disconnect()

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._handle_text(msg.data)
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    _LOGGER.debug("Websocket error: %s", ws.exception())
                    break
        finally:
            self._fail_pending(HoldSlayerConnectionError("connection to the sidecar closed"))

    def _handle_text(self, raw: str) -> None:
        try:
            message = protocol.decode(raw)
        except protocol.ProtocolError as err:
            _LOGGER.warning("Ignoring malformed message from the sidecar: %s", err.message)
            return
        kind = message["type"]
        if kind == MessageType.RESULT:
            self._resolve(message)
        elif kind == MessageType.EVENT:
            self._dispatch(SidecarEvent(seq=message["seq"], name=message["event"], data=message["data"]))
        elif kind == MessageType.ERROR:
            _LOGGER.warning("Sidecar error %s: %s", message["code"], message["message"])

    def _resolve(self, message: dict[str, Any]) -> None:
        future = self._pending.pop(message["id"], None)
        if future is None or future.done():
            _LOGGER.debug("Result for unknown or timed-out request %s", message["id"])
            return
        if message["success"]:
            data = message.get("data")
            future.set_result(data if isinstance(data, dict) else {})
            return
        error = message.get("error")
        error = error if isinstance(error, dict) else {}
        future.set_exception(
            HoldSlayerCommandError(
                str(error.get("code", ErrorCode.INTERNAL_ERROR)), str(error.get("message", "request failed"))
            )
        )

    def _dispatch(self, event: SidecarEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                # A broken subscriber must not stop the reader, or every later result would time out.
                _LOGGER.exception("Error in Hold Slayer event subscriber")

    def _fail_pending(self, err: HoldSlayerError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(err)

    def subscribe_events(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback`` for every pushed event; return a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    # -- requests ------------------------------------------------------------------------------

    async def request(
        self, command: str, data: dict[str, Any] | None = None, *, answer_within: float | None = None
    ) -> dict[str, Any]:
        """Send one request and return the data of its successful result."""
        timeout = self._request_timeout if answer_within is None else answer_within
        ws = self._ws
        if ws is None or not self.connected:
            raise HoldSlayerConnectionError("not connected to the sidecar")
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await ws.send_str(protocol.encode(protocol.request(request_id, command, data)))
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as err:
            raise HoldSlayerConnectionError(f"no answer to {command} within {timeout} s") from err
        except (aiohttp.ClientError, ConnectionError) as err:
            raise HoldSlayerConnectionError(f"cannot send {command}: {err}") from err
        finally:
            self._pending.pop(request_id, None)

    async def configure(self, data: ConfigureData) -> ConfigureResult:
        """Send settings to the sidecar, which checks them (the registrar, Wyoming services) before applying."""
        result = await self.request(Command.CONFIGURE, dict(data), answer_within=CONFIGURE_TIMEOUT)
        return cast(ConfigureResult, result)

    async def get_settings(self) -> dict[str, Any]:
        """Return the settings applied from Home Assistant (no secrets: only whether one is set)."""
        return await self.request(Command.GET_SETTINGS)

    async def ping(self) -> None:
        """Check that the sidecar answers."""
        await self.request(Command.PING)

    async def get_snapshot(self) -> Snapshot:
        """Return the sidecar's full state."""
        return cast(Snapshot, await self.request(Command.GET_SNAPSHOT))

    async def place_call(
        self,
        target: str,
        *,
        company: str | None = None,
        intent: str | None = None,
        call_flow: str | None = None,
        transfer_to: str | None = None,
    ) -> str:
        """Ask the sidecar to call ``target``; return the new call id."""
        data: protocol.PlaceCallData = {"target": target}
        if company is not None:
            data["company"] = company
        if intent is not None:
            data["intent"] = intent
        if call_flow is not None:
            data["call_flow"] = call_flow
        if transfer_to is not None:
            data["transfer_to"] = transfer_to
        result = await self.request(Command.PLACE_CALL, dict(data))
        call_id = result.get("call_id")
        if not isinstance(call_id, str):
            raise HoldSlayerCommandError(ErrorCode.INVALID_DATA, "place_call result carries no call_id")
        return call_id

    async def hang_up(self, call_id: str) -> None:
        """End a call."""
        await self.request(Command.HANG_UP, {"call_id": call_id})

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send DTMF digits on a call."""
        await self.request(Command.SEND_DTMF, {"call_id": call_id, "digits": digits})

    async def list_call_flows(
        self, company: str | None = None, *, page_size: int = protocol.MAX_PAGE_SIZE
    ) -> dict[str, Any]:
        """Return every stored call flow (``{"flows": [...]}``), reading the sidecar's pages one by one."""
        flows = await self._all_pages(Command.LIST_CALL_FLOWS, "flows", {"company": company}, page_size)
        return {"flows": flows}

    async def get_call_flow(self, flow_id: str) -> dict[str, Any]:
        """Return one stored call flow."""
        return await self.request(Command.GET_CALL_FLOW, {"id": flow_id})

    async def save_call_flow(self, flow: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a call flow."""
        return await self.request(Command.SAVE_CALL_FLOW, {"flow": flow})

    async def delete_call_flow(self, flow_id: str) -> None:
        """Delete a stored call flow."""
        await self.request(Command.DELETE_CALL_FLOW, {"id": flow_id})

    async def get_history(self, limit: int = 20, **filters: Any) -> dict[str, Any]:
        """Return the ``limit`` most recent calls matching ``filters``, over as many pages as needed.

        Filters: company, number, outcome, since, until (ISO 8601), cursor (the ``next_cursor`` of an earlier answer).
        """
        query = {key: value for key, value in filters.items() if value is not None}
        first = await self.request(Command.GET_HISTORY, {**query, "limit": min(limit, protocol.MAX_PAGE_SIZE)})
        calls = _items(first, "calls")
        cursor = first.get("next_cursor")
        for _ in range(MAX_PAGES):
            if len(calls) >= limit or not isinstance(cursor, str):
                break
            page_size = min(limit - len(calls), protocol.MAX_PAGE_SIZE)
            page = await self.request(Command.GET_HISTORY, {**query, "limit": page_size, "cursor": cursor})
            calls += _items(page, "calls")
            cursor = page.get("next_cursor")
        return {**first, "calls": calls[:limit], "next_cursor": cursor if len(calls) >= limit else None}

    async def _all_pages(self, command: str, key: str, data: dict[str, Any], page_size: int) -> list[Any]:
        """Follow ``next_cursor`` from the first page to the last and return all items under ``key``."""
        query = {name: value for name, value in data.items() if value is not None}
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.request(command, {**query, "limit": page_size, **({"cursor": cursor} if cursor else {})})
            items += _items(page, key)
            next_cursor = page.get("next_cursor")
            if not isinstance(next_cursor, str) or next_cursor == cursor:
                return items
            cursor = next_cursor
        raise HoldSlayerCommandError(ErrorCode.INTERNAL_ERROR, f"{command}: more than {MAX_PAGES} pages")

    async def get_call(self, call_id: str) -> dict[str, Any]:
        """Return one call with its whole transcript, recordings and summary."""
        result = await self.request(Command.GET_CALL, {"call_id": call_id})
        # A long call's transcript comes in pages of lines; ask for the rest until it is complete.
        for _ in range(_MAX_TRANSCRIPT_PAGES):
            if not result.get("more_transcript") or not result.get("transcript"):
                break
            last = result["transcript"][-1]["seq"]
            more = await self.request(Command.GET_CALL, {"call_id": call_id, "after_seq": last})
            result["transcript"] += more.get("transcript", [])
            result["more_transcript"] = more.get("more_transcript", False)
        return result

    async def get_statistics(self, time_zone: str, company: str | None = None) -> dict[str, Any]:
        """Return hold statistics per company, by weekday and hour in ``time_zone``."""
        data: dict[str, Any] = {"time_zone": time_zone}
        if company is not None:
            data["company"] = company
        return await self.request(Command.GET_STATISTICS, data)

    async def get_forecast(self, company: str, time_zone: str) -> dict[str, Any]:
        """Return the expected hold now and the best time this week for one company."""
        return await self.request(Command.GET_FORECAST, {"company": company, "time_zone": time_zone})

    async def fetch_recording(self, call_id: str, name: str, max_bytes: int = 64 * 1024 * 1024) -> bytes:
        """Download one recording in chunks (the sidecar may run on another machine)."""
        parts: list[bytes] = []
        offset = 0
        while True:
            chunk = await self.request(Command.FETCH_RECORDING, {"call_id": call_id, "name": name, "offset": offset})
            data = base64.b64decode(str(chunk.get("data") or ""))
            parts.append(data)
            offset += len(data)
            if chunk.get("eof") or not data:
                return b"".join(parts)
            if offset > max_bytes:
                raise HoldSlayerCommandError(
                    ErrorCode.INVALID_DATA, f"recording {name} is larger than {max_bytes} bytes"
                )

    # -- the inbound half (issue #18) -------------------------------------------------------------

    async def list_devices(self) -> dict[str, Any]:
        """Return ``{"devices": [DeviceInfo], "global_dnd": bool}``."""
        return await self.request(Command.LIST_DEVICES)

    async def save_device(self, device: protocol.DeviceData) -> dict[str, Any]:
        """Create (no ``device_id``) or change a device; ``credentials`` is set once for a new registered phone."""
        return await self.request(Command.SAVE_DEVICE, dict(device))

    async def delete_device(self, device_id: str) -> None:
        """Delete a device (a registered phone's credentials stop working)."""
        await self.request(Command.DELETE_DEVICE, {"device_id": device_id})

    async def set_dnd(self, device_id: str | None, enabled: bool) -> None:
        """Turn Do Not Disturb on or off for one device, or for the whole line with ``device_id=None``."""
        await self.request(Command.SET_DND, {"device_id": device_id, "enabled": enabled})

    async def list_rules(self) -> list[protocol.RoutingRule]:
        """Return the routing rules in evaluation order."""
        return cast(list[protocol.RoutingRule], _items(await self.request(Command.LIST_RULES), "rules"))

    async def save_rule(self, rule: protocol.RoutingRule) -> protocol.RoutingRule:
        """Create (no ``rule_id``) or replace a routing rule; return it as stored."""
        result = await self.request(Command.SAVE_RULE, dict(rule))
        stored = result.get("rule")
        if not isinstance(stored, dict):
            raise HoldSlayerCommandError(ErrorCode.INVALID_DATA, "save_rule result carries no rule")
        return cast(protocol.RoutingRule, stored)

    async def delete_rule(self, rule_id: str) -> None:
        """Delete a routing rule."""
        await self.request(Command.DELETE_RULE, {"rule_id": rule_id})

    async def test_route(self, query: protocol.RouteQuery) -> protocol.RouteDecision:
        """Return what the rules would decide for a caller at a time, without a call."""
        result = await self.request(Command.TEST_ROUTE, dict(query))
        decision = result.get("decision")
        if not isinstance(decision, dict):
            raise HoldSlayerCommandError(ErrorCode.INVALID_DATA, "test_route result carries no decision")
        return cast(protocol.RouteDecision, decision)

    async def set_contacts(self, contacts: list[protocol.Contact]) -> int:
        """Replace the callers known by name; return how many the sidecar keeps (one per number)."""
        result = await self.request(Command.SET_CONTACTS, {"contacts": [dict(c) for c in contacts]})
        kept = result.get("contacts")
        if not isinstance(kept, int) or isinstance(kept, bool):
            raise HoldSlayerCommandError(ErrorCode.INVALID_DATA, "set_contacts result carries no count")
        return kept

    async def answer_inbound(self, call_id: str, device_id: str) -> None:
        """Ring just ``device_id`` for an inbound call now."""
        await self.request(Command.ANSWER_INBOUND, {"call_id": call_id, "device_id": device_id})

    async def reject_inbound(self, call_id: str, *, to_voicemail: bool = False) -> None:
        """Reject an inbound call, or send it to the message box."""
        await self.request(Command.REJECT_INBOUND, {"call_id": call_id, "to_voicemail": to_voicemail})

    async def list_voicemails(self, limit: int = 50) -> dict[str, Any]:
        """Return the newest ``limit`` voicemails and the unheard count, over as many pages as needed."""
        first = await self.request(Command.LIST_VOICEMAILS, {"limit": min(limit, protocol.MAX_PAGE_SIZE)})
        voicemails = _items(first, "voicemails")
        cursor = first.get("next_cursor")
        for _ in range(MAX_PAGES):
            if len(voicemails) >= limit or not isinstance(cursor, str):
                break
            page_size = min(limit - len(voicemails), protocol.MAX_PAGE_SIZE)
            page = await self.request(Command.LIST_VOICEMAILS, {"limit": page_size, "cursor": cursor})
            voicemails += _items(page, "voicemails")
            cursor = page.get("next_cursor")
        return {**first, "voicemails": voicemails[:limit]}

    async def mark_voicemail(self, voicemail_id: str, *, heard: bool = True) -> None:
        """Mark a voicemail heard (or unheard again)."""
        await self.request(Command.MARK_VOICEMAIL, {"voicemail_id": voicemail_id, "heard": heard})

    async def delete_voicemail(self, voicemail_id: str) -> None:
        """Delete a voicemail and its recording."""
        await self.request(Command.DELETE_VOICEMAIL, {"voicemail_id": voicemail_id})


def _items(page: dict[str, Any], key: str) -> list[Any]:
    value = page.get(key)
    return value if isinstance(value, list) else []


def _notify[T](callback: Callable[[T], None], value: T) -> None:
    """Run a listener callback; a broken callback must not end the reconnect loop."""
    try:
        callback(value)
    except Exception:
        _LOGGER.exception("Error in Hold Slayer connection callback")


def _handshake_error(code: str, message: str) -> HoldSlayerError:
    if code == ErrorCode.INVALID_AUTH:
        return HoldSlayerAuthenticationError(message)
    if code == ErrorCode.VERSION_MISMATCH:
        return HoldSlayerVersionError(message)
    return HoldSlayerConnectionError(f"{code}: {message}")


def _close_error(close_code: int | None) -> HoldSlayerError:
    if close_code == protocol.CLOSE_INVALID_AUTH:
        return HoldSlayerAuthenticationError("the sidecar refused the token")
    if close_code == protocol.CLOSE_VERSION_MISMATCH:
        return HoldSlayerVersionError("the sidecar speaks another protocol version")
    return HoldSlayerConnectionError(f"the sidecar closed the connection (code {close_code})")

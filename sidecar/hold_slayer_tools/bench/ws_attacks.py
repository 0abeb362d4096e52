"""Websocket attacks of the chaos run: fuzzed messages after authentication and idle connections before it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from hold_slayer_sidecar import protocol

_COMMANDS = [command.value for command in protocol.Command]


def fuzzed_messages(count: int, seed: int = 23) -> Iterator[str]:
    """Yield ``count`` text frames a broken or hostile client might send (valid UTF-8, each under 64 kB)."""
    rng = random.Random(seed)  # reproducible runs; not security relevant
    values: list[Any] = [None, True, 0, -1, 2**63, 1e308, "", "x" * 1000, [], {}, [[]], {"a": {}}, "☎" * 50]
    for index in range(count):
        kind = index % 6
        if kind == 0:  # the right shape, wrong types everywhere
            frame = {"type": rng.choice(values), "id": rng.choice(values), "command": rng.choice(values)}
            yield json.dumps(frame)
        elif kind == 1:  # real commands, hostile data
            data = {key: rng.choice(values) for key in ("target", "call_id", "digits", "transfer_to", "flow_id")}
            yield protocol.encode(protocol.request(index, rng.choice(_COMMANDS), data))
        elif kind == 2:  # nesting deeper than any parser's recursion limit
            depth = rng.choice([100, 1000, 5000])
            yield "[" * depth + "]" * depth
        elif kind == 3:  # not JSON, or cut JSON
            text = protocol.encode(protocol.request(index, "ping"))
            yield rng.choice(["", "{", "null", "[]", "42", '"x"', text[: rng.randint(0, len(text))], "\x00\x01"])
        elif kind == 4:  # a large but legal frame
            yield json.dumps({"type": "request", "id": index, "command": "ping", "data": {"pad": "A" * 60_000}})
        else:  # random bytes decoded as text
            yield rng.randbytes(rng.randint(1, 200)).decode("latin-1")


async def fuzz(url: str, token: str, count: int, *, max_connections: int = 100, limit_s: float = 120.0) -> Fuzzed:
    """Send ``count`` fuzzed frames over authenticated connections (a new one after each close), bounded."""
    result = Fuzzed()
    messages = fuzzed_messages(count)
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as http:
        while result.sent < count and result.connections < max_connections and time.monotonic() < deadline:
            result.connections += 1
            async with http.ws_connect(url, max_msg_size=0) as ws:
                await ws.send_str(protocol.encode(protocol.hello(token, "chaos-fuzzer")))
                await ws.receive(timeout=10)
                reader = asyncio.create_task(_count_frames(ws))
                await _send_until_closed(ws, messages, result, count)
                if not ws.closed:
                    await asyncio.sleep(2.0)  # the last answers
                result.closed += int(ws.closed)
                reader.cancel()
                result.answered += await _result(reader)
    return result


@dataclass
class Fuzzed:
    """What a fuzzing run sent and got back."""

    sent: int = 0
    answered: int = 0
    closed: int = 0  # connections the sidecar closed
    connections: int = 0


async def _send_until_closed(
    ws: aiohttp.ClientWebSocketResponse, messages: Iterator[str], result: Fuzzed, count: int
) -> None:
    with contextlib.suppress(ConnectionError, aiohttp.ClientError):
        while result.sent < count and not ws.closed:
            await ws.send_str(next(messages))
            result.sent += 1
            if result.sent % 200 == 0:
                await asyncio.sleep(0.05)  # bounded pace: the sidecar answers as it goes


async def _count_frames(ws: aiohttp.ClientWebSocketResponse) -> int:
    count = 0
    with contextlib.suppress(asyncio.CancelledError):
        async for _message in ws:
            count += 1
    return count


async def _result(task: asyncio.Task[int]) -> int:
    with contextlib.suppress(asyncio.CancelledError):
        return await task
    return 0


async def idle_connections(
    host: str, port: int, count: int, hold_s: float, during: Callable[[], Awaitable[bool]]
) -> tuple[int, int, bool]:
    """Hold ``count`` silent TCP connections open and run ``during``; return (opened, closed by server, its result)."""
    writers: list[asyncio.StreamWriter] = []
    readers: list[asyncio.StreamReader] = []
    for _ in range(count):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            break
        readers.append(reader)
        writers.append(writer)
    await asyncio.sleep(hold_s)
    result = await during()
    closed = sum(1 for reader in readers if reader.at_eof())
    for writer in writers:
        writer.close()
    return len(writers), closed, result


async def can_authenticate(url: str, token: str) -> bool:
    """Whether a new client can still connect and be welcomed."""
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(10)) as ws:
            await ws.send_str(protocol.encode(protocol.hello(token, "chaos-probe")))
            reply = await ws.receive(timeout=10)
            return reply.type is aiohttp.WSMsgType.TEXT and json.loads(reply.data).get("type") == "welcome"
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
        return False

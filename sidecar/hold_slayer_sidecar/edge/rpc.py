"""A JSON-RPC 2.0 client for kamailio's jsonrpcs module over its Unix datagram socket in the run dir."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import socket
from pathlib import Path
from typing import Any

from .errors import EdgeError


class EdgeRpcError(EdgeError):
    """kamailio did not answer a JSON-RPC request, or answered with an error."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        """Keep kamailio's error code when it gave one (404: no such record)."""
        super().__init__(message)
        self.code = code


# One reply datagram: ul.dump of a household's few bindings is a few kB; 256 kB leaves room for many.
_MAX_REPLY = 256 * 1024
_ids = itertools.count(1)


class KamailioRpc:
    """Sends one JSON-RPC request at a time to ``socket_path`` and waits for its reply."""

    def __init__(self, socket_path: Path, timeout_s: float = 2.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()

    async def call(self, method: str, *params: str | int) -> Any:
        """Run ``method`` with positional ``params``; return its result or raise EdgeRpcError."""
        request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": next(_ids)}
        async with self._lock:  # kamailio answers datagrams in order; one outstanding request keeps ids simple
            reply = await asyncio.to_thread(self._exchange, json.dumps(request).encode())
        try:
            message = json.loads(reply)
        except ValueError as err:
            raise EdgeRpcError(f"kamailio answered {method} with something that is not JSON: {err}") from err
        if not isinstance(message, dict):
            raise EdgeRpcError(f"kamailio answered {method} with {type(message).__name__}, not an object")
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            raise EdgeRpcError(f"kamailio {method}: {error.get('message', error)}", code=error.get("code"))
        return message.get("result")

    def _exchange(self, payload: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # An abstract address (Linux): nothing to clean up, and the reply comes back to this socket only.
            sock.bind(f"\0hold-slayer-rpc-{os.getpid()}-{secrets.token_hex(6)}")
            sock.settimeout(self.timeout_s)
            try:
                sock.sendto(payload, str(self.socket_path))
                return sock.recv(_MAX_REPLY)
            except TimeoutError as err:
                raise EdgeRpcError(f"kamailio did not answer on {self.socket_path} within {self.timeout_s} s") from err
            except OSError as err:
                raise EdgeRpcError(f"cannot reach kamailio's RPC socket {self.socket_path}: {err}") from err

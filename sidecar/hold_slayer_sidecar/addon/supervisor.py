"""Announce the sidecar to Home Assistant through the Supervisor's discovery API."""

from __future__ import annotations

import logging
from typing import Any, Final

import aiohttp

_LOGGER = logging.getLogger(__name__)

SUPERVISOR_URL: Final = "http://supervisor"
# The integration's domain: HA starts its ``async_step_hassio`` with this config.
DISCOVERY_SERVICE: Final = "hold_slayer"
REQUEST_TIMEOUT_S: Final = 10.0


class DiscoveryError(Exception):
    """The Supervisor refused or did not answer the discovery message."""


async def announce(
    *, supervisor_url: str, supervisor_token: str, host: str, port: int, token: str, sidecar_id: str
) -> str:
    """POST the discovery message; return the Supervisor's uuid for it."""
    message: dict[str, Any] = {
        "service": DISCOVERY_SERVICE,
        "config": {"host": host, "port": port, "token": token, "sidecar_id": sidecar_id},
    }
    headers = {"Authorization": f"Bearer {supervisor_token}"}
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(f"{supervisor_url}/discovery", json=message, headers=headers) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        raise DiscoveryError(f"cannot reach the Supervisor at {supervisor_url}: {err}") from err
    if response.status != 200 or not isinstance(body, dict) or body.get("result") != "ok":
        raise DiscoveryError(f"the Supervisor refused the discovery message ({response.status}): {body}")
    data = body.get("data")
    return str(data.get("uuid", "")) if isinstance(data, dict) else ""

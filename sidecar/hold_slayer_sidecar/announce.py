"""Announce a sidecar bound off loopback on the LAN with multicast DNS (RFC 6762) service discovery (RFC 6763).

Home Assistant's zeroconf integration sees ``_hold-slayer._tcp.local.`` and offers the sidecar; the TXT record
carries the sidecar's persistent id (the config entry's unique id), so a sidecar that moves to another
address is recognised as the same one. A sidecar bound to loopback is reachable from this machine only, so
announcing it would only advertise something nobody else can use: it stays silent.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Final

import ifaddr
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from .protocol import PROTOCOL_VERSION, WS_PATH

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE: Final = "_hold-slayer._tcp.local."
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})


class AnnounceError(Exception):
    """The service could not be announced."""


def is_loopback(host: str) -> bool:
    """Return True when ``host`` is a loopback name or address (nothing off this machine can reach it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def announced_addresses(host: str) -> list[str]:
    """Return the addresses to publish: every non-loopback one for a wildcard bind, else the bound one."""
    if host in _WILDCARDS:
        found = [
            str(ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip)
            for adapter in ifaddr.get_adapters()
            for ip in adapter.ips
        ]
        return [
            a for a in found if not ipaddress.ip_address(a).is_loopback and not ipaddress.ip_address(a).is_link_local
        ]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return [socket.gethostbyname(host)]


class ServiceAnnouncer:
    """Registers one ``_hold-slayer._tcp`` service while the sidecar runs."""

    def __init__(
        self,
        *,
        addresses: list[str],
        port: int,
        sidecar_id: str,
        version: str,
        tls: bool = False,
        interfaces: list[str] | None = None,
    ) -> None:
        self._info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"Hold Slayer {sidecar_id[:8]}.{SERVICE_TYPE}",
            port=port,
            parsed_addresses=addresses,
            properties={
                "id": sidecar_id,
                "version": version,
                "protocol": str(PROTOCOL_VERSION),
                "path": WS_PATH,
                "tls": "1" if tls else "0",  # wss:// with a certificate HA pins at setup
            },
            server=f"hold-slayer-{sidecar_id[:8]}.local.",
        )
        self._interfaces = interfaces or addresses
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Announce the service (probing for a unique name first, as RFC 6762 section 8 asks)."""
        try:
            self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.All)
            await self._zeroconf.async_register_service(self._info, allow_name_change=True)
        except (OSError, ValueError) as err:
            await self.stop()
            raise AnnounceError(f"cannot announce {SERVICE_TYPE}: {err}") from err
        _LOGGER.info("announced as %s on %s", self._info.name, ", ".join(self._info.parsed_addresses()))

    async def stop(self) -> None:
        """Say goodbye (TTL 0 records) and close the sockets."""
        if self._zeroconf is None:
            return
        zeroconf, self._zeroconf = self._zeroconf, None
        try:
            await zeroconf.async_unregister_all_services()
        finally:
            await zeroconf.async_close()

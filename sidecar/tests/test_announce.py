"""Zeroconf: a sidecar bound off loopback is found on the network with its id; one on loopback stays silent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hold_slayer_sidecar import __main__ as sidecar_main
from hold_slayer_sidecar.announce import SERVICE_TYPE, ServiceAnnouncer, announced_addresses, is_loopback
from hold_slayer_sidecar.settings import SidecarSettings
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

SIDECAR_ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True), ("LOCALHOST", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("sidecar.lan", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_wildcard_bind_publishes_no_loopback_address() -> None:
    for address in announced_addresses("0.0.0.0"):
        assert not is_loopback(address)
    assert announced_addresses("192.168.1.5") == ["192.168.1.5"]


@pytest.fixture
async def listener() -> AsyncIterator[AsyncZeroconf]:
    """A zeroconf instance on the loopback interface only: the test's multicast never leaves this machine."""
    zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    yield zeroconf
    await zeroconf.async_close()


async def _lookup(listener: AsyncZeroconf) -> AsyncServiceInfo | None:
    names: list[str] = []
    browser = AsyncServiceBrowser(listener.zeroconf, SERVICE_TYPE, handlers=[lambda **kw: names.append(kw["name"])])
    try:
        for _ in range(50):
            if names:
                break
            await asyncio.sleep(0.1)
    finally:
        await browser.async_cancel()
    if not names:
        return None
    info = AsyncServiceInfo(SERVICE_TYPE, names[0])
    return info if await info.async_request(listener.zeroconf, 3000) else None


async def test_announcer_publishes_id_port_and_path(listener: AsyncZeroconf) -> None:
    announcer = ServiceAnnouncer(addresses=["127.0.0.1"], port=8765, sidecar_id=SIDECAR_ID, version="0.1.0")
    await announcer.start()
    try:
        info = await _lookup(listener)
    finally:
        await announcer.stop()
    assert info is not None
    assert info.port == 8765
    assert info.parsed_addresses() == ["127.0.0.1"]
    assert info.decoded_properties == {
        "id": SIDECAR_ID, "version": "0.1.0", "protocol": "1", "path": "/api/ws", "tls": "0"
    }  # fmt: skip


async def test_sidecar_announces_only_off_loopback(
    tmp_path: Path, listener: AsyncZeroconf, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The sidecar's own wiring: silent on 127.0.0.1; on 0.0.0.0 it announces (here kept to loopback)."""
    caplog.set_level(logging.INFO)
    async with contextlib.AsyncExitStack() as cleanup:
        await sidecar_main.announce(SidecarSettings(host="127.0.0.1"), 8765, SIDECAR_ID, "tok", cleanup)
        assert "announced" not in caplog.text and "paste" not in caplog.text

    monkeypatch.setattr(sidecar_main, "announced_addresses", lambda host: ["127.0.0.1"])
    async with contextlib.AsyncExitStack() as cleanup:
        await sidecar_main.announce(SidecarSettings(host="0.0.0.0"), 8766, SIDECAR_ID, "tok", cleanup)
        info = await _lookup(listener)
        assert info is not None and info.port == 8766
    assert "when it asks for the token, paste: tok" in caplog.text

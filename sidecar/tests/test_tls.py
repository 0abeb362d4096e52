"""wss:// off loopback: a self-signed certificate made once and kept, whose fingerprint clients pin."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hold_slayer_sidecar.__main__ import tls_setup
from hold_slayer_sidecar.settings import SidecarSettings
from hold_slayer_sidecar.tls import fingerprint, format_fingerprint, load_or_create_certificate
from sidecar_harness import Sidecar, hello

TOKEN = "tls-test-token-0123456789abcdef"


def test_certificate_made_once_and_private(tmp_path: Path) -> None:
    cert, key = load_or_create_certificate(tmp_path, "Hold Slayer sidecar test")
    first = fingerprint(cert)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert load_or_create_certificate(tmp_path, "other") == (cert, key)
    assert fingerprint(cert) == first  # a restart keeps the pin valid
    assert len(first.split(":")) == 32


@pytest.mark.parametrize(
    ("host", "tls", "expected"),
    [("127.0.0.1", None, False), ("::1", None, False), ("0.0.0.0", None, True), ("192.168.1.5", None, True),
     ("0.0.0.0", False, False), ("127.0.0.1", True, True)],
)  # fmt: skip
def test_tls_when_bound_off_loopback(tmp_path: Path, host: str, tls: bool | None, expected: bool) -> None:
    context, pin = tls_setup(SidecarSettings(host=host, tls=tls, data_dir=tmp_path), "0123456789abcdef")
    assert (context is not None) is expected
    assert (pin is not None) is expected


@pytest.fixture
async def tls_sidecar(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """A real sidecar serving wss:// on loopback (HOLD_SLAYER_TLS forces what binding off loopback does)."""
    process = Sidecar(tmp_path, token=TOKEN, env={"HOLD_SLAYER_TLS": "true", "HOLD_SLAYER_VOICE__TTS": "espeak"})
    try:
        yield {"tmp": tmp_path, **await process.ready()}
    finally:
        process.stop()


async def _hello(http: aiohttp.ClientSession, url: str, ssl_arg: Any) -> dict[str, Any]:
    async with http.ws_connect(url, ssl=ssl_arg) as ws:
        return await hello(ws, TOKEN, "tls-test")


@pytest.mark.slow
async def test_real_sidecar_serves_wss_with_the_logged_certificate(tls_sidecar: dict[str, Any]) -> None:
    url = tls_sidecar["ws_url"]
    assert url.startswith("wss://127.0.0.1:")
    pin = tls_sidecar["tls_fingerprint"]
    assert pin == fingerprint(tls_sidecar["tmp"] / "data" / "tls_cert.pem")
    assert pin in (tls_sidecar["tmp"] / "sidecar.log").read_text()  # the log shows what HA will show

    # The certificate a client actually receives is the pinned one.
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", tls_sidecar["ws_port"], ssl=ssl._create_unverified_context()
    )
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    assert format_fingerprint(hashlib.sha256(der).digest()) == pin

    async with aiohttp.ClientSession() as http:
        welcome = await _hello(http, url, aiohttp.Fingerprint(bytes.fromhex(pin.replace(":", ""))))
        assert welcome["type"] == "welcome"
        with pytest.raises(aiohttp.ServerFingerprintMismatch):
            await _hello(http, url, aiohttp.Fingerprint(bytes(32)))  # another certificate: refused
        with pytest.raises(aiohttp.ClientError):
            await _hello(http, url.replace("wss://", "ws://"), True)  # nothing in clear text

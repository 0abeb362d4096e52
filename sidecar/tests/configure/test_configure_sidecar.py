"""``configure`` against the real sidecar: a SIPp registrar, Wyoming services, hostile data, settings that persist."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.configure.store import FILE_NAME
from peers import sipp_registrar, wyoming_service
from sidecar_harness import Client, Sidecar, connect, free_port

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed")

TOKEN = "configure-token-of-24-chars-or-more"
TRUNK = {"username": "alice", "password": "secret", "dtmf_method": "sip_info", "dtmf_duration_ms": 100}


@pytest.fixture
async def sidecar(tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """Start the real sidecar (again, with the same data dir, on every call); yield a client factory."""
    processes: list[Sidecar] = []
    clients = contextlib.AsyncExitStack()

    async def start() -> Client:
        # The edge takes the SIP port once a trunk is set and the sidecar restarts.
        sidecar = Sidecar(tmp_path, token=TOKEN, sip_port=free_port(socket.SOCK_DGRAM), sip_workers=1)
        processes.append(sidecar)
        ready = await sidecar.ready()
        return await clients.enter_async_context(connect(ready["ws_url"], TOKEN, "configure-test"))

    async def stop_all() -> None:
        await clients.aclose()
        for sidecar in processes:
            await asyncio.to_thread(sidecar.stop)

    start.stop_all = stop_all  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        await stop_all()


async def test_trunk_registers_with_digest_auth_and_is_kept_for_the_next_start(
    sidecar: Callable[[], Any], tmp_path: Path
) -> None:
    client = await sidecar()
    assert client.welcome["snapshot"]["sidecar"]["registration"]["state"] == "not_configured"
    async with sipp_registrar(tmp_path, user="alice", password="secret") as (port, sipp):
        result = await client.ask("configure", {"trunk": {"registrar": f"sip:127.0.0.1:{port}", **TRUNK}})
        assert result["success"], result
        assert result["data"]["applied"] == ["trunk"]
        registration = result["data"]["registration"]
        assert registration == {"state": "registered", "code": 200, "reason": None, "registrar": f"127.0.0.1:{port}"}
        assert await asyncio.wait_for(sipp.wait(), 10) == 0  # SIPp saw the challenge answered correctly
    settings = await client.ask("get_settings")
    trunk = settings["data"]["trunk"]
    assert trunk["password_set"] is True
    assert "secret" not in json.dumps(settings)  # secrets never come back
    assert settings["data"]["engines"]["sip_workers"] == "ok"
    applied = [e for e in client.events if e["event"] == "settings_applied"]
    assert applied and applied[-1]["data"]["registration"]["state"] == "registered"
    snapshot = await client.ask("get_snapshot")
    assert "secret" not in json.dumps(snapshot)
    kept = tmp_path / "data" / FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text())["trunk"]["password"] == "secret"

    await sidecar.stop_all()  # type: ignore[attr-defined]
    again = await sidecar()
    registration = again.welcome["snapshot"]["sidecar"]["registration"]
    # The YAML had no trunk: the one set from HA is used after the restart (its registrar is gone now).
    assert registration["registrar"] == f"127.0.0.1:{port}"
    assert registration["state"] in ("registering", "failed")


async def test_a_wrong_password_shows_the_registrars_403_and_applies_nothing(
    sidecar: Callable[[], Any], tmp_path: Path
) -> None:
    client = await sidecar()
    async with sipp_registrar(tmp_path, user="alice", password="other") as (port, _sipp):
        result = await client.ask(
            "configure", {"trunk": {"registrar": f"127.0.0.1:{port}", **TRUNK}, "user_phones": ["+15550100"]}
        )
    assert not result["success"]
    assert result["error"] == {"code": "sip_error", "message": "the registrar rejected the password (403)"}
    settings = await client.ask("get_settings")
    assert "trunk" not in settings["data"] and "user_phones" not in settings["data"]
    assert settings["data"]["registration"]["state"] == "not_configured"
    assert not (tmp_path / "data" / FILE_NAME).exists()


async def test_a_registrar_that_does_not_answer_is_named_with_408(sidecar: Callable[[], Any]) -> None:
    client = await sidecar()
    port = free_port(socket.SOCK_DGRAM)
    result = await client.ask("configure", {"trunk": {"registrar": f"sip:127.0.0.1:{port}", **TRUNK}})
    assert result["error"] == {
        "code": "sip_error",
        "message": f"no answer from the registrar at 127.0.0.1:{port} (408)",
    }
    assert (await client.ask("get_settings"))["data"]["registration"]["state"] == "not_configured"


async def test_wyoming_services_are_asked_before_they_are_used(sidecar: Callable[[], Any]) -> None:
    client = await sidecar()
    closed = free_port(socket.SOCK_STREAM)
    refused = await client.ask("configure", {"voice": {"stt": "wyoming", "stt_url": f"127.0.0.1:{closed}"}})
    assert refused["error"] == {
        "code": "invalid_data",
        "message": f"voice.stt_url: no Wyoming service at 127.0.0.1:{closed}",
    }
    async with wyoming_service("tts") as tts_only:
        wrong = await client.ask("configure", {"voice": {"stt": "wyoming", "stt_url": tts_only, "tts": "espeak"}})
        assert wrong["error"]["code"] == "invalid_data"
        assert "offers no speech-to-text (it offers: tts)" in wrong["error"]["message"]
        async with wyoming_service("asr") as asr:
            ok = await client.ask(
                "configure", {"voice": {"stt": "wyoming", "stt_url": asr, "tts": "wyoming", "tts_url": tts_only}}
            )
            assert ok["success"], ok
            assert ok["data"]["applied"] == ["voice"]
            voice = (await client.ask("get_settings"))["data"]["voice"]
            assert (voice["stt_url"], voice["tts_url"]) == (f"tcp://{asr}", f"tcp://{tts_only}")
            assert ok["data"]["engines"]["llm"] == "not configured"


HOSTILE: list[tuple[str, Any]] = [
    ("not an object", {"trunk": "sip:x"}),
    ("number as text", {"trunk": {"registrar": "127.0.0.1", "username": "a", "dtmf_duration_ms": "120"}}),
    ("bool as number", {"trunk": {"registrar": "127.0.0.1", "username": "a", "dtmf_gap_ms": True}}),
    ("huge registrar", {"trunk": {"registrar": "a" * 100_000, "username": "a"}}),
    ("huge password", {"trunk": {"registrar": "127.0.0.1", "username": "a", "password": "p" * 10_000}}),
    ("header injection", {"trunk": {"registrar": "sip:127.0.0.1\r\nRoute: <sip:evil>", "username": "a"}}),
    ("header in a parameter", {"trunk": {"registrar": "sip:127.0.0.1;lr?Route=evil", "username": "a"}}),
    ("user in the registrar", {"trunk": {"registrar": "sip:bob@127.0.0.1", "username": "a"}}),
    ("CRLF in the user", {"trunk": {"registrar": "127.0.0.1", "username": "a\r\nVia: x"}}),
    ("unknown field", {"trunk": {"registrar": "127.0.0.1", "username": "a", "expires": 1}}),
    ("unknown section", {"sip": {"bind_host": "0.0.0.0"}}),
    ("emergency 911", {"user_phones": ["911"]}),
    ("emergency 112 spelled", {"user_phones": ["+1 (911)"]}),
    ("emergency by tel:", {"user_phones": ["tel:112"]}),
    ("emergency by sip:", {"user_phones": ["sip:911@trunk.example"]}),
    ("phones not a list", {"user_phones": "+15550100"}),
    ("too many phones", {"user_phones": [f"+1555010{i:04d}" for i in range(6)]}),
    ("phone not text", {"user_phones": [15550100]}),
    ("wyoming without port", {"voice": {"stt": "wyoming", "stt_url": "core-whisper"}}),
    ("llm with credentials", {"voice": {"llm_url": "http://user:pw@127.0.0.1:11434"}}),
    ("llm not http", {"voice": {"llm_url": "file:///etc/passwd"}}),
    ("courtesy placeholder", {"courtesy": {"greeting": "{name.__class__}"}}),
    ("courtesy conversion", {"courtesy": {"greeting": "Hi {name!x}"}}),
    ("courtesy huge padding", {"courtesy": {"greeting": "{name:>99999999}"}}),
    ("receptionist conversion", {"receptionist": {"greeting": "Hi {owner!x}"}}),
    ("receptionist placeholder", {"receptionist": {"greeting": "{owner.__class__}"}}),
    ("receptionist unknown placeholder", {"receptionist": {"greeting": "Hi, {name}'s line"}}),
    ("receptionist name with braces", {"receptionist": {"owner_name": "{owner}"}}),
    ("nothing", {}),
]


async def test_hostile_configure_data_is_refused_and_nothing_is_applied(
    sidecar: Callable[[], Any], tmp_path: Path
) -> None:
    client = await sidecar()  # one sidecar for every case: it must stay well through all of them
    ok = await client.ask("configure", {"user_phones": ["+15550100200"]})
    assert ok["success"], ok
    kept = (tmp_path / "data" / FILE_NAME).read_bytes()
    for case, data in HOSTILE:
        # A valid section beside the bad one: all or nothing, so it must not be applied either.
        request = {"courtesy": {"name": "Mallory"}, **data} if data and "courtesy" not in data else data
        result = await client.ask("configure", request)
        assert not result["success"], case
        assert result["error"]["code"] == "invalid_data", (case, result)
        assert len(result["error"]["message"]) < 2000, case
        settings = (await client.ask("get_settings"))["data"]
        assert settings["user_phones"] == ["+15550100200"], case
        assert "courtesy" not in settings and "trunk" not in settings and "receptionist" not in settings, case
    assert (tmp_path / "data" / FILE_NAME).read_bytes() == kept
    assert (await client.ask("ping"))["success"]

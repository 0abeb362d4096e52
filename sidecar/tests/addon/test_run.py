"""The add-on's entry point for real: options.json in, a real sidecar out, announced to a stand-in Supervisor."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.addon.supervisor import DiscoveryError, announce

CONFIG_YAML = Path(__file__).resolve().parents[3] / "hold_slayer_addon" / "config.yaml"
SUPERVISOR_TOKEN = "supervisor-token-for-this-addon"


class StandInSupervisor:
    """Answers POST /discovery the way the Supervisor does, and keeps what it was sent."""

    def __init__(self, *, status: int = 200) -> None:
        self.status = status
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=8)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _discovery(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {SUPERVISOR_TOKEN}":
            return web.json_response({"result": "error", "message": "Unauthorized"}, status=401)
        self.received.put_nowait(await request.json())
        if self.status != 200:
            return web.json_response({"result": "error", "message": "nope"}, status=self.status)
        return web.json_response({"result": "ok", "data": {"uuid": "5f1a"}})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/discovery", self._discovery)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def supervisor() -> AsyncIterator[StandInSupervisor]:
    stand_in = StandInSupervisor()
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


def write_options(tmp_path: Path) -> Path:
    """A fresh install's options, on free ports so the test runs beside anything else."""
    options = yaml.safe_load(CONFIG_YAML.read_text(encoding="utf-8"))["options"]
    options["port"] = 0
    options["trunk"]["sip_port"] = 0
    options["voice"]["tts"] = "espeak"  # faster to start than piper; the engine choice is not under test
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    return path


def loopback_only(tmp_path: Path) -> Path:
    """The advanced file keeping SIP on loopback: a test sends nothing beyond 127.0.0.1 (and needs no edge)."""
    path = tmp_path / "hold_slayer.yaml"
    path.write_text("sip:\n  bind_host: 127.0.0.1\n", encoding="utf-8")
    return path


@pytest.mark.slow
async def test_options_start_a_real_sidecar_announced_to_supervisor(
    tmp_path: Path, supervisor: StandInSupervisor
) -> None:
    data = tmp_path / "data"
    log = (tmp_path / "addon.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 - a plain child like the Supervisor's, polled below
        [sys.executable, "-m", "hold_slayer_sidecar.addon", "--options", str(write_options(tmp_path)),
         "--data-dir", str(data), "--extra-config", str(loopback_only(tmp_path)),
         "--supervisor-url", supervisor.url],
        env={**os.environ, "SUPERVISOR_TOKEN": SUPERVISOR_TOKEN},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        message = await asyncio.wait_for(supervisor.received.get(), timeout=60)
        assert message["service"] == "hold_slayer"
        config = message["config"]
        assert config["host"] == "127.0.0.1"
        assert config["token"] == (data / "token").read_text().strip()
        assert config["sidecar_id"] == (data / "sidecar_id").read_text().strip()
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{config['port']}{protocol.WS_PATH}") as ws,
        ):
            await ws.send_str(protocol.encode(protocol.hello(config["token"], "addon-test")))
            welcome = json.loads((await ws.receive(timeout=10)).data)
        assert welcome["type"] == "welcome", welcome
        assert welcome["sidecar_id"] == config["sidecar_id"]  # the id the sidecar keeps is the one announced
        assert welcome["snapshot"]["sidecar"]["engines"]["sip"] == "ok"

        process.send_signal(signal.SIGTERM)  # what the Supervisor does on "stop"; passed on to the sidecar
        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    assert b"announced as" not in (tmp_path / "addon.log").read_bytes()  # on loopback: no zeroconf
    written = yaml.safe_load((data / "sidecar.yaml").read_text())
    assert written["host"] == "127.0.0.1"
    assert written["sip"]["bind_host"] == "127.0.0.1"  # the advanced file may keep SIP on loopback (tests do)


async def test_supervisor_refusal_is_an_error(supervisor: StandInSupervisor) -> None:
    supervisor.status = 400
    with pytest.raises(DiscoveryError, match="refused"):
        await announce(
            supervisor_url=supervisor.url,
            supervisor_token=SUPERVISOR_TOKEN,
            host="h",
            port=1,
            token="t",
            sidecar_id="i",
        )
    with pytest.raises(DiscoveryError, match="refused"):
        await announce(
            supervisor_url=supervisor.url, supervisor_token="wrong", host="h", port=1, token="t", sidecar_id="i"
        )


async def test_unreachable_supervisor_is_an_error() -> None:
    with pytest.raises(DiscoveryError, match="cannot reach"):
        await announce(
            supervisor_url="http://127.0.0.1:9", supervisor_token="x", host="h", port=1, token="t", sidecar_id="i"
        )


async def test_bad_options_exit_2(tmp_path: Path) -> None:
    (tmp_path / "options.json").write_text("[]")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hold_slayer_sidecar.addon", "--options", str(tmp_path / "options.json"),
         "--data-dir", str(tmp_path)],
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert b"must be a mapping" in result.stderr

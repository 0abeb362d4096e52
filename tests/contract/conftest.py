"""Start the REAL sidecar as a subprocess for contract tests (free ports, temporary data dir)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.const import DOMAIN

REPO = Path(__file__).resolve().parents[2]
SIDECAR_PYTHON = REPO / ".venv-sidecar" / "bin" / "python"
TOKEN = "contract-token-of-24-chars-or-more"
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RunningSidecar:
    """Where a started sidecar listens."""

    host: str
    port: int
    sip_uri: str
    token: str
    log: Path
    pid: int = 0  # the sidecar process (its children are the media workers)
    sip_port: int = 0  # where INVITEs for the sidecar go (the edge's port when there is one)


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], RunningSidecar]:
    if not SIDECAR_PYTHON.exists():
        pytest.skip("sidecar environment missing: run scripts/setup")
    tmp_path.mkdir(parents=True, exist_ok=True)
    ready = tmp_path / "ready.json"
    log = tmp_path / "sidecar.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(SIDECAR_PYTHON),
                "-m",
                "hold_slayer_sidecar",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--sip-host",
                "127.0.0.1",
                "--sip-port",
                "0",
                "--token",
                TOKEN,
                "--data-dir",
                str(tmp_path / "data"),
                "--ready-file",
                str(ready),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (ready.exists() and ready.stat().st_size):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"sidecar did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    sip_uri = str(info.get("sip_uri", ""))
    sip_port = int(info.get("sip_port") or 0)
    return process, RunningSidecar("127.0.0.1", int(info["ws_port"]), sip_uri, TOKEN, log, process.pid, sip_port)


def start_sim(tmp_path: Path, module: str, *args: str) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    """Start a simulator (company or phone); its first stdout line is a JSON ready message."""
    if not SIDECAR_PYTHON.exists():
        pytest.skip("sidecar environment missing: run scripts/setup")
    log = tmp_path / f"{module.rsplit('.', 1)[-1]}.log"
    with log.open("wb") as err:
        process = subprocess.Popen(
            [str(SIDECAR_PYTHON), "-m", module, "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=tmp_path,
        )
    assert process.stdout is not None
    line = process.stdout.readline()  # the simulators print nothing else on stdout, so the pipe never fills
    if not line:
        process.wait(timeout=5)
        pytest.fail(f"{module} did not start:\n{log.read_text(errors='replace')[-3000:]}")
    return process, json.loads(line)


def start_sidecar(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], RunningSidecar]:
    """Start the real sidecar (see ``_start``)."""
    return _start(tmp_path, *extra)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a started process (see ``_stop``)."""
    _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def real_sidecar(tmp_path_factory: pytest.TempPathFactory) -> Generator[RunningSidecar]:
    """Run the real sidecar once per test module (it takes seconds to start and to stop)."""
    process, running = _start(tmp_path_factory.mktemp("sidecar"))
    try:
        yield running
    finally:
        _stop(process)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain aiohttp session for the real client."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@contextlib.asynccontextmanager
async def loaded_entry(hass: HomeAssistant, sidecar: RunningSidecar) -> AsyncGenerator[MockConfigEntry]:
    """The integration set up (and loaded) against ``sidecar``; unloaded on the way out."""
    config_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hold Slayer",
        data={CONF_HOST: sidecar.host, CONF_PORT: sidecar.port, CONF_TOKEN: sidecar.token},
        unique_id=f"{sidecar.host}:{sidecar.port}",
        minor_version=2,
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    yield config_entry
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()

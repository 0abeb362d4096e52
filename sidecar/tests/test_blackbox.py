"""The real sidecar as a subprocess (real PJSUA2, store and voice engines): handshake, commands, shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hold_slayer_sidecar import protocol
from sidecar_harness import Sidecar, connect, hello

TOKEN = "blackbox-token-of-24-chars-or-more"


@pytest.fixture
async def sidecar(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    process = Sidecar(tmp_path, token=TOKEN)
    try:
        yield {"process": process.process, "tmp": tmp_path, **await process.ready()}
    finally:
        process.stop()


async def test_real_sidecar_serves_clients_and_stops_cleanly(sidecar: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{sidecar['ws_port']}/health") as response:
            assert await response.json() == {"status": "ok"}
        async with http.ws_connect(sidecar["ws_url"]) as intruder:
            assert (await hello(intruder, "nope", "blackbox"))["code"] == "invalid_auth"
            await intruder.receive(timeout=5)
            assert intruder.close_code == protocol.CLOSE_INVALID_AUTH
        async with connect(sidecar["ws_url"], TOKEN, "blackbox", http=http) as client:
            engines = client.welcome["snapshot"]["sidecar"]["engines"]
            assert engines["sip"] == "ok" and engines["tts"] == "ok" and engines["stt"] == "ok"
            emergency = await client.ask("place_call", {"target": "911", "transfer_to": "sip:me@127.0.0.1"})
            assert emergency["error"]["code"] == "emergency_number"
            no_trunk = await client.ask("place_call", {"target": "5551234", "transfer_to": "sip:me@127.0.0.1"})
            assert no_trunk["error"]["code"] == "sip_error" and "trunk" in no_trunk["error"]["message"]
            flow = {"id": "x", "name": "X", "steps": [{"kind": "hold"}]}
            assert (await client.ask("save_call_flow", {"flow": flow}))["success"]
            history = await client.ask("get_history", {})
            assert history["data"]["calls"][0]["outcome"] == "failed"  # the refused trunk call is on record
    process: subprocess.Popen[bytes] = sidecar["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert (sidecar["tmp"] / "data" / "hold_slayer.sqlite3").exists()


def test_refuses_to_start_with_a_short_token(tmp_path: Path) -> None:
    env = {**os.environ, "HOLD_SLAYER_TOKEN": "one-character-is-not-ok"}
    done = subprocess.run(
        [sys.executable, "-m", "hold_slayer_sidecar", "--data-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "has 23 characters; use at least 24" in done.stderr
    assert not (tmp_path / "hold_slayer.sqlite3").exists()


def test_help() -> None:
    done = subprocess.run([sys.executable, "-m", "hold_slayer_sidecar", "--help"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0 and "--token" in done.stdout


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def loads_pjsua2(pid: int) -> bool:
    """Whether the process has PJSUA2's native module mapped (what ``import pjsua2`` loads)."""
    mapped = {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "/" in line}
    return any(Path(path).name.startswith("_pjsua2.") for path in mapped)  # _pjsua2.cpython-312-...so


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_sidecar_runs_pjsua2_only_in_its_media_workers(sidecar: dict[str, Any]) -> None:
    process: subprocess.Popen[bytes] = sidecar["process"]
    assert len(sidecar["sip_ports"]) == 2  # the default: two workers, each its own SIP port
    assert sidecar["sip_port"] == sidecar["sip_ports"][0]
    for _ in range(100):  # the two workers and the spare started for the next restart
        if len(workers := children(process.pid)) == 3 and all(loads_pjsua2(pid) for pid in workers):
            break
        await asyncio.sleep(0.1)
    assert len(workers) == 3 and all(loads_pjsua2(pid) for pid in workers)  # the check sees PJSUA2 there...
    assert not loads_pjsua2(process.pid)  # ...and the sidecar itself never imported it


async def test_workers_end_with_a_killed_sidecar(sidecar: dict[str, Any]) -> None:
    """``kill -9`` of the sidecar leaves no orphan PJSUA2 process holding SIP ports."""
    process: subprocess.Popen[bytes] = sidecar["process"]
    workers = children(process.pid)
    assert workers
    process.kill()
    process.wait()
    for _ in range(100):
        if not any(alive(pid) for pid in workers):
            break
        await asyncio.sleep(0.1)
    assert not any(alive(pid) for pid in workers)

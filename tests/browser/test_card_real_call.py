"""The card during a REAL call: real sidecar, simulated company and phone over SIP, real hass, chromium.

Nothing is scripted here: the sidecar (``python -m hold_slayer_sidecar``) dials the simulated First City
Bank (``python -m hold_slayer_sim.company``) over SIP on 127.0.0.1, presses through its menu with a stored
call flow, waits through hold music and announcements, detects the agent, rings the simulated phone
(``python -m hold_slayer_sim.phone``) and bridges. The test starts the call from the card and hangs up
from the card.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .harness import (
    CARD,
    CHROMIUM,
    DASHBOARD_PATH,
    free_port,
    logged_in_page,
    open_dashboard,
    record_states,
    run_hass,
    screenshot_light_and_dark,
    shown_states,
)
from .hass_config import REPO, SCREENSHOTS, PreparedConfig, write_config

SIDECAR_PYTHON = REPO / ".venv-sidecar" / "bin" / "python"
BANK = REPO / "sidecar" / "hold_slayer_sim" / "companies" / "first_city_bank.yaml"
TOKEN = "real-call-browser-test-token-0001"
FLOW_ID = "first-city-bank-card-disputes"
REASON = "I was double charged on my card"
CALL_TIMEOUT_S = 240  # the bank's dispute queue answers after about 40 s on hold; 2 busy cores stretch it

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
    pytest.mark.skipif(not SIDECAR_PYTHON.exists(), reason="the sidecar environment is not built"),
]


@contextlib.asynccontextmanager
async def _child(args: list[str], log: Path, env: dict[str, str] | None = None) -> AsyncIterator[Any]:
    """Run one sidecar-environment process; stop it (SIGTERM, then SIGKILL) when the block ends."""
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            str(SIDECAR_PYTHON),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            cwd=REPO / "sidecar",
            env={**os.environ, **(env or {})},
        )
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def _ready_line(proc: Any, within_s: float = 180) -> dict[str, Any]:
    """The simulators announce themselves with one JSON line on stdout."""
    line = await asyncio.wait_for(proc.stdout.readline(), within_s)
    assert line, "the simulator exited before it was ready"
    ready: dict[str, Any] = json.loads(line)
    return ready


async def _ready_file(path: Path, proc: Any, within_s: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert proc.returncode is None, "the sidecar exited before it was ready"
        with contextlib.suppress(FileNotFoundError, ValueError):
            ready: dict[str, Any] = json.loads(await asyncio.to_thread(path.read_text))
            return ready
        await asyncio.sleep(0.2)
    raise AssertionError("the sidecar did not write its ready file")


@pytest.fixture
async def real_call_setup(socket_enabled: None, tmp_path: Path) -> AsyncIterator[tuple[PreparedConfig, str]]:
    """Company simulator, phone simulator, real sidecar, and hass configured for them."""
    logs = tmp_path / "logs"
    logs.mkdir()
    company_args = ["-m", "hold_slayer_sim.company", "--company", str(BANK), "--port", "0", "--host", "127.0.0.1"]
    phone_args = ["-m", "hold_slayer_sim.phone", "--port", "0", "--host", "127.0.0.1", "--answer-after", "1"]
    ready_file = tmp_path / "sidecar.ready.json"
    sidecar_args = ["-m", "hold_slayer_sidecar", "--port", "0", "--sip-port", "0", "--host", "127.0.0.1"]
    sidecar_args += ["--data-dir", str(tmp_path / "data"), "--ready-file", str(ready_file)]
    async with (
        _child([*company_args, "--report", str(logs / "company.jsonl")], logs / "company.log") as company,
        _child([*phone_args, "--report", str(logs / "phone.jsonl")], logs / "phone.log") as phone,
        _child(sidecar_args, logs / "sidecar.log", env={"HOLD_SLAYER_TOKEN": TOKEN}) as sidecar,
    ):
        bank_uri = (await _ready_line(company))["companies"]["first_city_bank"]
        phone_uri = (await _ready_line(phone))["uri"]
        ready = await _ready_file(ready_file, sidecar)
        prepared = write_config(
            tmp_path / "config",
            port=free_port(),
            sidecar_port=int(ready["ws_port"]),
            sidecar_token=TOKEN,
            companies=[
                {
                    "name": "First City Bank",
                    "number": bank_uri,
                    "aliases": ["bank"],
                    "reason": REASON,
                    "call_flow": FLOW_ID,
                    "transfer_to": phone_uri,
                }
            ],
            card_config=CARD,
        )
        async with run_hass(prepared, tmp_path):
            yield prepared, bank_uri


async def _save_call_flow(prepared: PreparedConfig, bank_uri: str) -> None:
    """Store the bank's menu path (cards 1, disputes 2, then hold) through the integration's action."""
    steps: list[dict[str, Any]] = []
    for key in ("1", "2"):
        # The menus accept keys while they speak (barge-in), so a short pause is enough.
        steps += [{"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": key}]
    flow = {
        "id": FLOW_ID,
        "name": "First City Bank: card disputes",
        "company": "first_city_bank",
        "number": bank_uri,
        "intent": REASON,
        "department": "card_disputes",
        "steps": [*steps, {"kind": "hold"}],
    }
    headers = {"Authorization": f"Bearer {prepared.access_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(f"{prepared.url}/api/services/hold_slayer/save_call_flow", json={"flow": flow}) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def test_card_during_a_real_call(real_call_setup: tuple[PreparedConfig, str], tmp_path: Path) -> None:
    """Call the simulated bank from the card; the card shows each stage of the real call; hang up."""
    from playwright.async_api import expect

    prepared, bank_uri = real_call_setup
    await _save_call_flow(prepared, bank_uri)
    errors: list[str] = []
    async with logged_in_page(prepared, tmp_path / "profile", errors) as page:
        card = await open_dashboard(page, f"{prepared.url}{DASHBOARD_PATH}")
        label = card.get_by_test_id("state-label")
        await expect(label).to_have_text("Ready", timeout=20_000)
        await record_states(card)

        await card.get_by_test_id("company-select").select_option("First City Bank")
        await card.get_by_test_id("place-call").click()  # no reason typed: the company's default reason

        await expect(label).to_have_text("On hold", timeout=60_000)
        await expect(card.get_by_test_id("hold-timer")).to_be_visible()
        await expect(label).to_have_text("Connected", timeout=CALL_TIMEOUT_S * 1000)
        await expect(card.get_by_test_id("human-banner")).to_contain_text("connected to a person")
        await expect(card.locator("#transcript")).not_to_be_empty()
        await screenshot_light_and_dark(
            page, card, SCREENSHOTS / "card-real-call.png", SCREENSHOTS / "card-real-call-dark.png"
        )

        await card.get_by_test_id("hang-up").click()
        await expect(label).to_have_text("Call ended", timeout=30_000)
        states = await shown_states(page)

    # Every stage a person cares about appeared, in order. The sidecar may go back from "probing" to
    # "hold" (it asked "Hello?" and heard a recording), and a brief "human" may be folded into
    # "ringing_user" by the frontend, which renders once per batch of state pushes.
    assert _in_order(states, ["idle", "dialing", "ivr", "hold", "ringing_user", "bridged", "ended"]), states
    assert states.count("bridged") == 1 and states[-1] == "ended", states
    assert not errors, errors


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    """True when ``wanted`` is a subsequence of ``seen``."""
    remaining = iter(seen)
    return all(state in remaining for state in wanted)

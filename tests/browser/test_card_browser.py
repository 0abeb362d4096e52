"""The card in a real browser: real ``hass`` process, real integration, headless Debian chromium.

hass runs as its own process (``launcher.py``) with a config dir this test writes. The integration's
config entry points at a protocol-true stand-in sidecar in this process (``standin_sidecar.py``), which
scripts a call: dialing, phone menu, hold, a person answers, the user is connected. The test clicks the
card's buttons and checks that each click arrives at the sidecar as the right protocol request.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from .hass_config import REPO, PreparedConfig, write_config
from .standin_sidecar import StandinSidecar, new_call, now_iso

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS = REPO / "docs"
SIDECAR_TOKEN = "browser-test-secret"
COMPANIES = [
    {"name": "Northwind Bank", "number": "+15555550100", "aliases": ["bank"], "reason": "card services"},
    {"name": "Skyways Airlines", "number": "sip:agent@127.0.0.1:5999", "aliases": ["airline"]},
]
CARD = {"type": "custom:hold-slayer-card", "title": "Hold Slayer"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_for_hass(prepared: PreparedConfig, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Wait until the call state sensor exists (hass up, integration connected to the sidecar)."""
    headers = {"Authorization": f"Bearer {prepared.access_token}"}
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(headers=headers) as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"hass exited with {proc.returncode}; see {prepared.config_dir}")
            try:
                async with session.get(f"{prepared.url}/api/states/sensor.hold_slayer_call_state") as resp:
                    if resp.status == 200 and (await resp.json())["state"] == "idle":
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise AssertionError(f"hass did not come up within {timeout} s; log in {prepared.config_dir}")


@pytest.fixture
async def sidecar(socket_enabled: None) -> AsyncIterator[StandinSidecar]:
    """The stand-in sidecar on a free port."""
    server = StandinSidecar(token=SIDECAR_TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def hass_process(tmp_path: Path, sidecar: StandinSidecar) -> AsyncIterator[PreparedConfig]:
    """A real hass on 127.0.0.1 with the integration set up against the stand-in sidecar."""
    prepared = write_config(
        tmp_path / "config",
        port=_free_port(),
        sidecar_port=sidecar.port,
        sidecar_token=SIDECAR_TOKEN,
        companies=COMPANIES,
        card_config=CARD,
    )
    log = (tmp_path / "hass.out").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
        [sys.executable, str(Path(__file__).with_name("launcher.py")), "-c", str(prepared.config_dir), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        await _wait_for_hass(prepared, proc)
        yield prepared
    finally:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        log.close()


def _tokens(prepared: PreparedConfig) -> dict[str, Any]:
    """What the frontend keeps in localStorage after a login, here with our long-lived token."""
    return {
        "hassUrl": prepared.url,
        "clientId": f"{prepared.url}/",
        "access_token": prepared.access_token,
        "refresh_token": prepared.refresh_token,
        "token_type": "Bearer",
        "expires_in": 86400,
        "expires": int(time.time() * 1000) + 23 * 3600 * 1000,
    }


async def test_card_follows_a_call(hass_process: PreparedConfig, sidecar: StandinSidecar, tmp_path: Path) -> None:
    """Start a call from the card, watch it move through every stage, press a key and hang up."""
    from playwright.async_api import async_playwright, expect

    prepared = hass_process
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            viewport={"width": 430, "height": 900},  # phone width
            device_scale_factor=2,
            color_scheme="light",
        )
        await context.add_init_script(f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(_tokens(prepared)))});")
        page = context.pages[0] if context.pages else await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "hold" in msg.text else None)
        page.on("console", lambda msg: print("CONSOLE", msg.type, msg.text))
        expect.set_options(timeout=20_000)

        await page.goto(f"{prepared.url}/lovelace/calls")
        card = page.locator("hold-slayer-card")
        await page.wait_for_timeout(5000)
        await page.screenshot(path="/tmp/hs_debug.png")
        print("DEBUG", await page.evaluate("""() => { const out = []; const walk = (root) => { for (const el of root.querySelectorAll('*')) { if (el.tagName.toLowerCase().includes('error')) out.push(el.tagName + ' ' + JSON.stringify(el._config || el.config || el.error || null)); if (el.shadowRoot) walk(el.shadowRoot); } }; walk(document); return out.join('\\n'); }"""))
        label = card.get_by_test_id("state-label")
        await expect(label).to_have_text("Ready")
        assert await page.evaluate("window.customCards.some((c) => c.type === 'hold-slayer-card')")
        editor = await page.evaluate("customElements.get('hold-slayer-card').getConfigElement().tagName")
        assert editor == "HOLD-SLAYER-CARD-EDITOR"

        # Idle: the form lists the configured companies; a click places the call through the integration.
        select = card.get_by_test_id("company-select")
        await expect(select.locator("option")).to_have_text(["Northwind Bank", "Skyways Airlines"])
        await select.select_option("Northwind Bank")
        await card.get_by_test_id("reason").fill("dispute a card charge")
        await card.get_by_test_id("place-call").click()
        placed = await sidecar.wait_for_command("place_call")
        assert placed["data"] == {
            "target": "+15555550100",
            "company": "Northwind Bank",
            "intent": "dispute a card charge",
        }

        call = dict(new_call("call-1", "+15555550100", "Northwind Bank"), intent="dispute a card charge")
        await sidecar.push("call_state", call)
        await expect(label).to_have_text("Dialing")
        await expect(card.locator("#company")).to_have_text("Northwind Bank")

        await sidecar.push("call_state", {"call_id": "call-1", "state": "ivr", "state_since": now_iso()})
        await sidecar.push(
            "transcript",
            {"call_id": "call-1", "speaker": "company", "text": "For cards, press 2.", "offset_s": 4.1},
        )
        await sidecar.push("dtmf_sent", {"call_id": "call-1", "digits": "2"})
        await expect(label).to_have_text("Navigating the menu")
        await expect(card.locator("#transcript")).to_contain_text("For cards, press 2.")

        hold_started = (datetime.now(UTC) - timedelta(minutes=12, seconds=34)).isoformat()
        await sidecar.push(
            "hold_started",
            {"call_id": "call-1", "state": "hold", "hold_started_at": hold_started, "department": "card services"},
        )
        await sidecar.push(
            "transcript",
            {"call_id": "call-1", "speaker": "company", "text": "Your call is important to us.", "offset_s": 31.0},
        )
        await expect(label).to_have_text("On hold")
        timer = card.get_by_test_id("hold-timer")
        await expect(timer).to_have_text(__import__("re").compile(r"^12:3\d$"))
        first = await timer.text_content()
        await page.wait_for_timeout(2200)  # the timer counts on its own, between state pushes
        assert _seconds(await timer.text_content()) - _seconds(first) >= 2

        human_at = datetime.now(UTC).isoformat()
        await sidecar.push(
            "human_detected",
            {"call_id": "call-1", "state": "human", "human_detected_at": human_at, "hold_seconds": 754.0},
        )
        await sidecar.push(
            "transcript",
            {"call_id": "call-1", "speaker": "agent", "text": "Hi, this is Dana in card services.", "offset_s": 790.2},
        )
        banner = card.get_by_test_id("human-banner")
        await expect(banner).to_be_visible()
        await expect(label).to_have_text("Person on the line")
        await expect(card.locator("#transcript")).to_contain_text("this is Dana")
        await _screenshots(page, card)

        await sidecar.push("user_ringing", {"call_id": "call-1", "state": "ringing_user"})
        await expect(label).to_have_text("Ringing your phone")
        await sidecar.push("bridged", {"call_id": "call-1", "state": "bridged"})
        await expect(label).to_have_text("Connected")
        await expect(banner).to_contain_text("connected to a person")

        # Keypad: a key press reaches the sidecar as send_dtmf on this call.
        await card.locator("#keypad-toggle").click()
        await card.locator("#keypad button[data-digit='1']").click()
        dtmf = await sidecar.wait_for_command("send_dtmf")
        assert dtmf["data"] == {"call_id": "call-1", "digits": "1"}

        await card.get_by_test_id("hang-up").click()
        hang_up = await sidecar.wait_for_command("hang_up")
        assert hang_up["data"] == {"call_id": "call-1"}
        await sidecar.push("call_ended", {"call_id": "call-1", "state": "ended", "outcome": "connected"})
        await expect(label).to_have_text("Call ended")
        await expect(card.get_by_test_id("place-call")).to_be_visible()
        await expect(banner).to_be_hidden()

        assert not errors, errors
        await context.close()


def _seconds(text: str | None) -> int:
    parts = [int(part) for part in (text or "0").split(":")]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total


async def _screenshots(page: Any, card: Any) -> None:
    """Save the card in the light and the dark theme (the moment a person answers)."""
    DOCS.mkdir(exist_ok=True)
    await page.wait_for_timeout(300)  # let the banner's first frame settle
    await card.screenshot(path=str(DOCS / "card.png"), animations="disabled")
    await page.emulate_media(color_scheme="dark")
    await page.wait_for_timeout(800)  # the frontend switches theme on the media query change
    await card.screenshot(path=str(DOCS / "card-dark.png"), animations="disabled")
    await page.emulate_media(color_scheme="light")

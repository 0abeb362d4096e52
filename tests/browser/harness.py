"""Shared pieces of the browser tests: a real hass process and a headless chromium logged in to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from .hass_config import PreparedConfig, write_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CARD = {"type": "custom:hold-slayer-card", "title": "Hold Slayer"}
DASHBOARD_PATH = "/lovelace/calls"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (hass binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def hass_with_card(
    workdir: Path, sidecar_port: int, sidecar_token: str, companies: list[dict[str, Any]]
) -> AsyncIterator[PreparedConfig]:
    """Run a real hass on 127.0.0.1 with the integration set up against a sidecar and the card on a dashboard."""
    prepared = write_config(
        workdir / "config",
        port=free_port(),
        sidecar_port=sidecar_port,
        sidecar_token=sidecar_token,
        companies=companies,
        card_config=CARD,
    )
    async with run_hass(prepared, workdir):
        yield prepared


async def _wait_for_hass(prepared: PreparedConfig, proc: subprocess.Popen[bytes], startup_s: float) -> None:
    """Wait until the call state sensor exists (hass up, integration connected to the sidecar)."""
    headers = {"Authorization": f"Bearer {prepared.access_token}"}
    deadline = time.monotonic() + startup_s
    async with aiohttp.ClientSession(headers=headers) as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"hass exited with {proc.returncode}; see {prepared.config_dir}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{prepared.url}/api/states/sensor.hold_slayer_call_state") as resp:
                    if resp.status == 200 and (await resp.json())["state"] == "idle":
                        return
            await asyncio.sleep(0.5)
    raise AssertionError(f"hass did not come up within {startup_s} s; log in {prepared.config_dir}")


@contextlib.asynccontextmanager
async def run_hass(prepared: PreparedConfig, workdir: Path, startup_s: float = 120) -> AsyncIterator[None]:
    """Run ``hass -c CONFIG`` (through launcher.py) until the block ends."""
    log = (workdir / "hass.out").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
        [sys.executable, str(Path(__file__).with_name("launcher.py")), "-c", str(prepared.config_dir), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        await _wait_for_hass(prepared, proc, startup_s)
        yield
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


@contextlib.asynccontextmanager
async def logged_in_page(prepared: PreparedConfig, profile: Path, errors: list[str]) -> AsyncIterator[Any]:
    """A phone-sized headless chromium page, already logged in to hass; card errors land in ``errors``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 430, "height": 900},  # phone width
            device_scale_factor=2,
            color_scheme="light",
        )
        try:
            await context.add_init_script(
                f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(_tokens(prepared)))});"
            )
            page = context.pages[0] if context.pages else await context.new_page()
            # Only the card's own errors count (the frontend logs skipped view transitions on reloads).
            page.on(
                "pageerror",
                lambda err: errors.append(err.stack or str(err)) if "hold-slayer" in (err.stack or "") else None,
            )
            yield page
        finally:
            await context.close()


async def open_dashboard(page: Any, url: str) -> Any:
    """Open the dashboard until the card renders; return the card's locator.

    The frontend imports extra modules concurrently with the first dashboard render. When the card's
    module finishes between "element not defined yet" and the placeholder being attached, the frontend's
    own rebuild event is lost and a "Custom element doesn't exist" placeholder stays until the next load
    (a race in the frontend, not in the card); on this machine the very first load of a fresh profile
    often does not define the card within seconds, while a reload finds the module cached and defined.
    """
    card = page.locator("hold-slayer-card")
    for _attempt in range(4):
        await page.goto(url)
        try:
            await card.get_by_test_id("state-label").wait_for(timeout=10_000)
        except Exception:
            continue
        return card
    raise AssertionError("the card never rendered on the dashboard")


async def record_states(card: Any) -> None:
    """Record every call state the card shows, in order, into ``window.__hsStates``."""
    await card.evaluate(
        """(card) => {
          window.__hsStates = [];
          const label = card.shadowRoot.getElementById('state-label');
          const rec = () => {
            const s = label.dataset.state;
            if (window.__hsStates[window.__hsStates.length - 1] !== s) window.__hsStates.push(s);
          };
          rec();
          new MutationObserver(rec).observe(label, { attributes: true, childList: true, subtree: true });
        }"""
    )


async def shown_states(page: Any) -> list[str]:
    """The call states recorded by ``record_states``."""
    return list(await page.evaluate("window.__hsStates"))


async def screenshot_light_and_dark(page: Any, card: Any, light: Path, dark: Path) -> None:
    """Save the card in the light and the dark theme."""
    light.parent.mkdir(exist_ok=True)
    await page.wait_for_timeout(300)  # let the banner's first frame settle
    await card.screenshot(path=str(light), animations="disabled")
    await page.emulate_media(color_scheme="dark")
    await page.wait_for_timeout(800)  # the frontend switches theme on the media query change
    await card.screenshot(path=str(dark), animations="disabled")
    await page.emulate_media(color_scheme="light")

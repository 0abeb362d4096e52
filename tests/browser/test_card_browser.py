"""The card in a real browser: real ``hass`` process, real integration, headless Debian chromium.

hass runs as its own process (``launcher.py``) with a config dir this test writes. The integration's
config entry points at a protocol-true stand-in sidecar in this process (``standin_sidecar.py``), which
scripts a call: dialing, phone menu, hold, a person answers, the user is connected. The test clicks the
card's buttons and checks that each click arrives at the sidecar as the right protocol request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from .hass_config import SCREENSHOTS, PreparedConfig, write_config
from .standin_sidecar import StandinSidecar, new_call, now_iso

SIDECAR_TOKEN = "browser-test-secret-of-24-characters"
COMPANIES = [
    {"name": "Northwind Bank", "number": "+15555550100", "aliases": ["bank"], "reason": "card services"},
    {"name": "Skyways Airlines", "number": "sip:agent@127.0.0.1:5999", "aliases": ["airline"]},
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


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
        port=free_port(),
        sidecar_port=sidecar.port,
        sidecar_token=SIDECAR_TOKEN,
        companies=COMPANIES,
        card_config=CARD,
    )
    async with run_hass(prepared, tmp_path):
        yield prepared


async def test_card_follows_a_call(hass_process: PreparedConfig, sidecar: StandinSidecar, tmp_path: Path) -> None:
    """Start a call from the card, watch it move through every stage, press a key and hang up."""
    from playwright.async_api import expect

    expect.set_options(timeout=20_000)
    errors: list[str] = []
    async with logged_in_page(hass_process, tmp_path / "profile", errors) as page:
        card = await open_dashboard(page, f"{hass_process.url}{DASHBOARD_PATH}")
        label = card.get_by_test_id("state-label")
        await expect(label).to_have_text("Ready")
        await record_states(card)
        assert await page.evaluate("window.customCards.some((c) => c.type === 'hold-slayer-card')")
        # The visual editor: HA's ha-form with our schema; an edit comes back as config-changed.
        edited = await page.evaluate(
            """async () => {
              const editor = customElements.get('hold-slayer-card').getConfigElement();
              editor.hass = document.querySelector('home-assistant').hass;
              editor.setConfig({ type: 'custom:hold-slayer-card', title: 'Calls' });
              document.body.appendChild(editor);
              const form = editor.querySelector('ha-form');
              const changed = new Promise((resolve) =>
                editor.addEventListener('config-changed', (ev) => resolve(ev.detail.config)));
              form.dispatchEvent(new CustomEvent('value-changed',
                { detail: { value: { ...form.data, show_keypad: false } } }));
              const config = await changed;
              editor.remove();
              return { tag: editor.tagName, fields: form.schema.map((f) => f.name), data: form.data, config };
            }"""
        )
        assert edited["tag"] == "HOLD-SLAYER-CARD-EDITOR"
        assert edited["fields"][:2] == ["entity", "title"]
        assert edited["data"]["entity"] == "sensor.hold_slayer_call_state"
        assert edited["data"]["title"] == "Calls"
        assert edited["config"]["show_keypad"] is False

        # Idle: the form lists the configured companies; a click places the call through the integration.
        select = card.get_by_test_id("company-select")
        await expect(select.locator("option")).to_have_text(["Northwind Bank", "Skyways Airlines"])
        await card.screenshot(path=str(SCREENSHOTS / "card-idle.png"), animations="disabled")
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
        await expect(timer).to_have_text(re.compile(r"^12:3\d$"))
        first = await timer.text_content()
        await page.wait_for_timeout(3500)  # the timer counts on its own, between state pushes
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
        await screenshot_light_and_dark(page, card, SCREENSHOTS / "card.png", SCREENSHOTS / "card-dark.png")

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

        assert await shown_states(page) == [
            "idle",
            "dialing",
            "ivr",
            "hold",
            "human",
            "ringing_user",
            "bridged",
            "ended",
        ]
    assert not errors, errors


def _seconds(text: str | None) -> int:
    parts = [int(part) for part in (text or "0").split(":")]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total

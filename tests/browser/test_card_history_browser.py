"""The card's history view in a real browser: real hass, real integration, headless Debian chromium.

The stand-in sidecar holds one past call (a ticket number, a promise, recordings of the company leg and
of both sides). The card lists it, opens its transcript, and a click on the agent's line seeks the mixed
recording, fetched through the integration's authenticated view, to that moment.
"""

from __future__ import annotations

import io
import math
import re
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .harness import CHROMIUM, DASHBOARD_PATH, hass_with_card, logged_in_page, open_dashboard
from .hass_config import SCREENSHOTS, PreparedConfig
from .standin_sidecar import StandinSidecar, now_iso

SIDECAR_TOKEN = "browser-history-secret-0123456789"
COMPANIES = [{"name": "Northwind Bank", "number": "+15555550100", "aliases": ["bank"], "reason": "card services"}]
MIX_OFFSET_S = 60.0  # the mixed recording starts when the user was bridged, a minute into the call

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def tone_wav(seconds: float, hz: float) -> bytes:
    """A real 8 kHz 16-bit WAV the browser can decode and seek in."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000))) for i in range(int(seconds * 8000))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(frames)
    return out.getvalue()


def past_call(sidecar: StandinSidecar) -> None:
    """One finished call with a promise, as get_history and get_call report it."""
    row = {
        "call_id": "past-1",
        "target": "+15555550100",
        "company": "Northwind Bank",
        "started_at": now_iso(3600),
        "ended_at": now_iso(3480),
        "duration_s": 120.0,
        "hold_seconds": 52.0,
        "outcome": "connected",
        "status": "ended",
        "reference": "48219",
        "headline": "Spoke with Dana at Northwind Bank; reference 48219",
    }
    sidecar.history = [
        row,
        {**row, "call_id": "past-0", "outcome": "no_human", "reference": None, "hold_seconds": 600.0},
    ]
    transcript = [
        (1, "company", 2.0, "Thank you for calling Northwind Bank. For cards, press 2."),
        (2, "company", 9.5, "All our agents are busy. Please hold."),
        (3, "agent", 62.0, "Hi, this is Dana. Your ticket number is 4 8 2 1 9."),
        (4, "you", 66.5, "Thanks. When will the refund arrive?"),
        (5, "agent", 71.0, "You'll see the refund of 45 dollars within 5 business days."),
    ]
    sidecar.details["past-1"] = {
        "call": row,
        "transcript": [
            {"seq": seq, "speaker": who, "offset_s": at, "duration_s": 3.0, "text": text, "leg": "company"}
            for seq, who, at, text in transcript
        ],
        "recordings": [
            {"name": "past-1-company.wav", "leg": "company", "offset_s": 1.0},
            {"name": "past-1-user.wav", "leg": "user", "offset_s": MIX_OFFSET_S},
            {"name": "past-1-mix.wav", "leg": "mix", "offset_s": MIX_OFFSET_S},
        ],
        "summary": {
            "text": "Spoke with Dana at Northwind Bank; reference 48219",
            "agent_name": "Dana",
            "reference": "48219",
            "commitments": [
                {"text": "You'll see the refund of 45 dollars within 5 business days.", "due": "2026-12-14"}
            ],
        },
        "more_transcript": False,
    }
    sidecar.recordings = {
        "past-1-company.wav": tone_wav(30.0, 440.0),
        "past-1-user.wav": tone_wav(20.0, 330.0),
        "past-1-mix.wav": tone_wav(20.0, 550.0),
    }


@pytest.fixture
async def sidecar(socket_enabled: None) -> AsyncIterator[StandinSidecar]:
    """The stand-in sidecar with one past call."""
    server = StandinSidecar(token=SIDECAR_TOKEN)
    past_call(server)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def hass_process(tmp_path: Path, sidecar: StandinSidecar) -> AsyncIterator[PreparedConfig]:
    """A real hass on 127.0.0.1 with the integration set up against the stand-in sidecar."""
    async with hass_with_card(tmp_path, sidecar.port, SIDECAR_TOKEN, COMPANIES) as prepared:
        yield prepared


async def test_history_list_transcript_and_click_to_seek(
    hass_process: PreparedConfig, sidecar: StandinSidecar, tmp_path: Path
) -> None:
    """Open the history, open a call, click the agent's line: the mixed recording plays from that moment."""
    from playwright.async_api import expect

    expect.set_options(timeout=20_000)
    errors: list[str] = []
    async with logged_in_page(hass_process, tmp_path / "profile", errors) as page:
        card = await open_dashboard(page, f"{hass_process.url}{DASHBOARD_PATH}")
        await card.get_by_test_id("history-toggle").click()
        items = card.get_by_test_id("history-item")
        await expect(items).to_have_count(2)
        await expect(items.first).to_contain_text("Northwind Bank")
        await expect(items.first).to_contain_text("ref 48219")
        await expect(items.nth(1)).to_contain_text("no human")
        asked = await sidecar.wait_for_command("get_history")
        assert asked["data"]["limit"] == 20

        await items.first.click()
        view = card.get_by_test_id("call-view")
        await expect(view).to_be_visible()
        await expect(card.get_by_test_id("reference")).to_have_text("48219")
        await expect(card.get_by_test_id("summary")).to_contain_text("(by 2026-12-14)")
        lines = card.get_by_test_id("history-line")
        await expect(lines).to_have_count(5)
        await expect(lines.nth(2)).to_contain_text("Agent")
        await expect(lines.nth(2)).to_contain_text("1:02")

        # Click the agent's refund promise (71 s into the call; the mix started at 60 s): the player seeks to 11 s.
        await lines.nth(4).click()
        player = card.get_by_test_id("player")
        await expect(player).to_have_attribute("src", re.compile(r"past-1-mix\.wav\?authSig="))
        await page.wait_for_function(
            """(card) => { const a = card.shadowRoot.querySelector('audio');
                           return a && a.readyState >= 1 && Math.abs(a.currentTime - 11) < 0.6; }""",
            arg=await card.element_handle(),
        )
        assert (await sidecar.wait_for_command("fetch_recording"))["data"]["name"] == "past-1-mix.wav"
        await expect(lines.nth(4)).to_have_class(re.compile(r"\bcurrent\b"))

        # A line from before the bridge plays the company leg's recording instead (it started 1 s in).
        await lines.nth(1).click()
        await page.wait_for_function(
            """(card) => { const a = card.shadowRoot.querySelector('audio');
                           return a.src.includes('past-1-company.wav') && a.readyState >= 1
                                  && Math.abs(a.currentTime - 8.5) < 0.6; }""",
            arg=await card.element_handle(),
        )
        await lines.nth(4).click()
        await page.evaluate("(card) => card.shadowRoot.querySelector('audio').pause()", await card.element_handle())
        await card.screenshot(path=str(SCREENSHOTS / "card-history.png"), animations="disabled")
    assert not errors, errors

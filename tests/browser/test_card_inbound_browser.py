"""The card's calls coming in and voicemail, in a real browser against a real hass and a protocol-true sidecar.

A call comes in: the card shows who it is and what the receptionist heard, lists the devices (read with
list_devices), and its Answer, Reject and To voicemail buttons arrive at the sidecar as answer_inbound and
reject_inbound. The voicemail list shows the transcripts, and Heard arrives as mark_voicemail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .harness import CHROMIUM, DASHBOARD_PATH, hass_with_card, logged_in_page, open_dashboard
from .hass_config import SCREENSHOTS, PreparedConfig
from .standin_sidecar import StandinSidecar, now_iso

SIDECAR_TOKEN = "browser-test-secret-of-24-characters"
COMPANIES = [{"name": "Northwind Bank", "number": "+15555550100", "aliases": ["bank"]}]


def _device(device_id: str, name: str, priority: int, **extra: object) -> dict[str, object]:
    return {
        "device_id": device_id,
        "name": name,
        "kind": "sip_uri",
        "address": f"sip:{device_id}@192.168.1.30",
        "priority": priority,
        "ring_timeout_s": 20.0,
        "dnd": False,
        "registered": None,
        "ringing": False,
        "last_call_at": None,
        "last_caller": None,
        **extra,
    }


DENTIST = {
    "call_id": "in-1",
    "caller": "+15550100300",
    "caller_name": "Dr. Molar's office",
    "dialled": "+15550100999",
    "state": "screening",
    "decision": {
        "action": "receptionist",
        "rule_id": None,
        "rule_name": None,
        "device_ids": [],
        "reason": "no rule matched",
    },
    "purpose": "tomorrow's appointment",
    "urgency": "normal",
    "heard": "Hi, this is the dentist's office about tomorrow's appointment at nine.",
    "robocall": False,
    "reason": None,
    "ringing_devices": [],
    "answered_by": None,
    "voicemail_id": None,
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
async def sidecar(socket_enabled: None) -> AsyncIterator[StandinSidecar]:
    """The stand-in sidecar with two devices and two voicemails."""
    server = StandinSidecar(token=SIDECAR_TOKEN)
    server.inbound = {
        "global_dnd": False,
        "devices": [_device("dev-kitchen", "Kitchen phone", 10), _device("dev-desk", "Desk phone", 20, dnd=True)],
        "calls": [],
        "unheard_voicemails": 1,
        "last_caller": None,
    }
    server.voicemails = [
        {
            "voicemail_id": "vm-2",
            "call_id": "in-0",
            "caller": "+15550100400",
            "caller_name": "Sam",
            "dialled": None,
            "received_at": now_iso(3600),
            "duration_s": 14.0,
            "transcript": "It's Sam, call me back about Saturday's match.",
            "recording": "vm-2.wav",
            "heard": False,
        },
        {
            "voicemail_id": "vm-1",
            "call_id": "in-00",
            "caller": "+15550100500",
            "caller_name": None,
            "dialled": None,
            "received_at": now_iso(86400),
            "duration_s": 31.0,
            "transcript": "Hello, this is the garage: your car is ready for pick-up.",
            "recording": "vm-1.wav",
            "heard": True,
        },
    ]
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def hass_process(tmp_path: Path, sidecar: StandinSidecar) -> AsyncIterator[PreparedConfig]:
    """A real hass on 127.0.0.1 with the integration set up against the stand-in sidecar."""
    async with hass_with_card(tmp_path, sidecar.port, SIDECAR_TOKEN, COMPANIES) as prepared:
        yield prepared


async def test_card_shows_a_call_coming_in_and_voicemail(
    hass_process: PreparedConfig, sidecar: StandinSidecar, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    expect.set_options(timeout=20_000)
    errors: list[str] = []
    async with logged_in_page(hass_process, tmp_path / "profile", errors) as page:
        card = await open_dashboard(page, f"{hass_process.url}{DASHBOARD_PATH}")
        incoming = card.get_by_test_id("incoming")
        await expect(incoming).to_be_hidden()
        await expect(card.locator("#voicemail-badge")).to_have_text("1")

        await sidecar.push("incoming_call", dict(DENTIST, started_at=now_iso()))
        await expect(incoming).to_be_visible()
        await expect(card.get_by_test_id("in-caller")).to_have_text("Dr. Molar's office")
        await expect(card.get_by_test_id("in-state")).to_have_text("The receptionist is talking to them")
        await expect(card.get_by_test_id("in-heard")).to_contain_text("about tomorrow's appointment at nine")
        # The devices come from list_devices, in ring order; one on Do Not Disturb says so.
        options = card.get_by_test_id("in-device").locator("option")
        await expect(options).to_have_text(["Kitchen phone", "Desk phone (do not disturb)"])
        await page.wait_for_timeout(300)
        await card.screenshot(path=str(SCREENSHOTS / "card-inbound.png"), animations="disabled")

        await card.get_by_test_id("in-device").select_option("dev-desk")
        await card.get_by_test_id("in-answer").click()
        answered = await sidecar.wait_for_command("answer_inbound")
        assert answered["data"] == {"call_id": "in-1", "device_id": "dev-desk"}

        await card.get_by_test_id("in-voicemail").click()
        to_voicemail = await sidecar.wait_for_command("reject_inbound")
        assert to_voicemail["data"] == {"call_id": "in-1", "to_voicemail": True}
        await sidecar.push("inbound_state", dict(DENTIST, state="voicemail", started_at=now_iso()))
        await expect(card.get_by_test_id("in-state")).to_have_text("Leaving a message")
        await expect(card.get_by_test_id("in-voicemail")).to_be_hidden()
        await card.get_by_test_id("in-reject").click()
        sidecar.requests = [
            r for r in sidecar.requests if r["command"] != "reject_inbound" or r["data"].get("to_voicemail") is not True
        ]
        rejected = await sidecar.wait_for_command("reject_inbound")
        assert rejected["data"] == {"call_id": "in-1", "to_voicemail": False}
        await sidecar.push("inbound_rejected", dict(DENTIST, state="rejected", started_at=now_iso()))
        await expect(incoming).to_be_hidden()

        # Voicemail: the list with transcripts, newest first, the unheard one marked; Heard reaches the sidecar.
        await card.get_by_test_id("voicemail-toggle").click()
        items = card.get_by_test_id("voicemail")
        await expect(items).to_have_count(2)
        await expect(card.get_by_test_id("voicemail-transcript").first).to_have_text(
            "It's Sam, call me back about Saturday's match."
        )
        await expect(items.nth(1)).to_contain_text("your car is ready")
        await expect(items.first.get_by_test_id("voicemail-heard")).to_be_visible()
        await expect(items.nth(1).get_by_test_id("voicemail-heard")).to_have_count(0)
        await card.screenshot(path=str(SCREENSHOTS / "card-voicemail.png"), animations="disabled")
        await items.first.get_by_test_id("voicemail-heard").click()
        marked = await sidecar.wait_for_command("mark_voicemail")
        assert marked["data"] == {"voicemail_id": "vm-2", "heard": True}
        await sidecar.push("voicemail_changed", {"voicemail_id": "vm-2", "heard": True, "deleted": False, "unheard": 0})
        await expect(card.locator("#voicemail-badge")).to_be_hidden()
        await expect(items.first.get_by_test_id("voicemail-heard")).to_have_count(0)
    assert not errors, errors

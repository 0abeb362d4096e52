"""Logbook lines for Hold Slayer call events."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.hold_slayer.logbook import format_duration


@pytest.mark.parametrize(
    ("event", "data", "message", "icon"),
    [
        ("hold_started", {"company": "Acme Bank"}, "Acme Bank: put on hold", "mdi:timer-sand"),
        (
            "hold_started",
            {"company": "Acme Bank", "department": "card services"},
            "Acme Bank: put on hold for card services",
            "mdi:timer-sand",
        ),
        (
            "human_detected",
            {"company": "Acme Bank", "hold_seconds": 754.2},
            "Acme Bank: a person answered after 12:34 on hold",
            "mdi:account-voice",
        ),
        ("human_detected", {"target": "+18005550100"}, "+18005550100: a person answered", "mdi:account-voice"),
        ("user_ringing", {"company": "Telco"}, "Telco: ringing your phone", "mdi:cellphone-sound"),
        ("bridged", {"company": "Telco"}, "Telco: you are connected", "mdi:phone-in-talk"),
        (
            "call_ended",
            {"company": "Telco", "outcome": "no_human"},
            "Telco: call ended before a person answered",
            "mdi:phone-hangup",
        ),
        ("call_ended", {}, "Unknown company: call ended", "mdi:phone-hangup"),
        (
            "call_failed",
            {"company": "Telco", "reason": "486 Busy Here"},
            "Telco: call failed: 486 Busy Here",
            "mdi:phone-alert",
        ),
    ],
)
async def test_humanify_call_events(
    hass: HomeAssistant, event: str, data: dict[str, object], message: str, icon: str
) -> None:
    hass.config.components.add("recorder")
    assert await async_setup_component(hass, "logbook", {})
    assert await async_setup_component(hass, "hold_slayer", {})
    await hass.async_block_till_done()

    domain, describe = hass.data["logbook"].external_events[f"hold_slayer_{event}"]
    entry = describe(SimpleNamespace(data=data))  # the logbook passes a lazy event with .data

    assert domain == "hold_slayer"
    assert entry == {"name": "Hold Slayer", "message": message, "icon": icon}


def test_format_duration() -> None:
    assert format_duration(5) == "0:05"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(-3) == "0:00"

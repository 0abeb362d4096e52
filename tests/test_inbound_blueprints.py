"""Blueprints of the inbound half: announce the caller, a voicemail transcript to the phone, Do Not Disturb at night."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed, async_mock_service

from .test_blueprints import _use_blueprint


def _incoming(hass: HomeAssistant, **data: Any) -> None:
    payload = {
        "call_id": "in-1",
        "caller": "+15550100300",
        "caller_name": None,
        "purpose": None,
        "action": "receptionist",
    }
    hass.bus.async_fire("hold_slayer_incoming_call", {**payload, **data})


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("data", "spoken"),
    [
        (
            {"caller_name": "Dr. Molar's office", "purpose": "tomorrow's appointment"},
            "Call from Dr. Molar's office, about tomorrow's appointment.",
        ),
        ({}, "Call from number +15550100300."),
        ({"caller": "anonymous"}, "Call from an unknown caller."),
    ],
)
async def test_announce_caller(hass: HomeAssistant, data: dict[str, Any], spoken: str) -> None:
    speak = async_mock_service(hass, "tts", "speak")
    await _use_blueprint(hass, "announce_caller", {"tts_entity": "tts.piper", "speakers": ["media_player.kitchen"]})
    _incoming(hass, **data)
    await hass.async_block_till_done()
    assert [call.data["message"] for call in speak] == [spoken]
    assert speak[0].data["media_player_entity_id"] == ["media_player.kitchen"]


async def test_announce_caller_skips_calls_that_do_not_ring(hass: HomeAssistant) -> None:
    speak = async_mock_service(hass, "tts", "speak")
    await _use_blueprint(hass, "announce_caller", {"tts_entity": "tts.piper", "speakers": ["media_player.kitchen"]})
    _incoming(hass, action="reject")
    await hass.async_block_till_done()
    assert not speak


@pytest.fixture
def phone(hass: HomeAssistant) -> dr.DeviceEntry:
    """A phone as the Companion app registers it (notify.mobile_app_<name>)."""
    entry = MockConfigEntry(domain="mobile_app")
    entry.add_to_hass(hass)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("mobile_app", "pixel")}, name="Pixel 9"
    )


async def test_voicemail_to_phone_play_then_heard(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    notify = async_mock_service(hass, "notify", "mobile_app_pixel_9")
    play = async_mock_service(hass, "media_player", "play_media")
    heard = async_mock_service(hass, "hold_slayer", "mark_voicemail_heard")
    await _use_blueprint(hass, "notify_voicemail", {"notify_device": phone.id, "speaker": "media_player.kitchen"})
    hass.bus.async_fire(
        "hold_slayer_voicemail",
        {
            "voicemail_id": "vm-2",
            "caller": "+15550100300",
            "caller_name": "Sam",
            "duration_s": 74.4,
            "transcript": "It's Sam, call me back about Saturday.",
            "media_content_id": "media-source://hold_slayer/e/voicemail/vm-2",
            "config_entry_id": "e",
        },
    )
    await _settle()
    [sent] = notify
    assert sent.data["title"] == "Voicemail from Sam (1:14)"
    assert sent.data["message"] == "It's Sam, call me back about Saturday."
    assert [a["action"] for a in sent.data["data"]["actions"]] == ["HOLD_SLAYER_PLAY_vm-2", "HOLD_SLAYER_HEARD_vm-2"]
    hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_PLAY_vm-9"})  # another message's
    await _settle()
    assert not play
    for _ in range(2):  # Play twice: the message plays twice
        hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_PLAY_vm-2"})
        await _settle()
    assert [c.data["media_content_id"] for c in play] == ["media-source://hold_slayer/e/voicemail/vm-2"] * 2
    assert play[0].data["entity_id"] == ["media_player.kitchen"]
    hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_HEARD_vm-2"})
    await _settle()
    assert [c.data for c in heard] == [{"voicemail_id": "vm-2", "config_entry_id": "e"}]


async def test_voicemail_without_transcript(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    notify = async_mock_service(hass, "notify", "mobile_app_pixel_9")
    await _use_blueprint(hass, "notify_voicemail", {"notify_device": phone.id, "speaker": "media_player.kitchen"})
    hass.bus.async_fire(
        "hold_slayer_voicemail", {"voicemail_id": "vm-3", "caller": None, "transcript": None, "duration_s": 5}
    )
    await _settle()
    assert notify[0].data["title"] == "Voicemail from an unknown caller (0:05)"
    assert notify[0].data["message"] == "No transcript: play the message to hear it."


async def _dnd(hass: HomeAssistant, freezer: FrozenDateTimeFactory, at: str) -> tuple[list[Any], list[Any]]:
    await hass.config.async_set_time_zone("UTC")
    freezer.move_to(at)
    on = async_mock_service(hass, "switch", "turn_on")
    off = async_mock_service(hass, "switch", "turn_off")
    await _use_blueprint(hass, "dnd_at_night", {"dnd_switch": "switch.hold_slayer_do_not_disturb"})
    return on, off


async def test_dnd_on_at_bedtime_off_in_the_morning(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    on, off = await _dnd(hass, freezer, "2026-12-01 21:59:58+00:00")
    freezer.move_to("2026-12-01 22:00:00+00:00")
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert [c.data["entity_id"] for c in on] == [["switch.hold_slayer_do_not_disturb"]]
    freezer.move_to("2026-12-02 07:00:00+00:00")
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert len(off) == 1 and len(on) == 1


@pytest.mark.parametrize(("at", "turned_on"), [("2026-12-02 03:00:00+00:00", 1), ("2026-12-02 12:00:00+00:00", 0)])
async def test_dnd_after_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, at: str, turned_on: int
) -> None:
    on, off = await _dnd(hass, freezer, at)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert len(on) == turned_on and not off

"""Blueprints: each loads with HA's own automation blueprint schema and does its job when triggered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import automation, conversation
from homeassistant.components.blueprint import models
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util import yaml as yaml_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from .common import FakeHoldSlayerClient

BLUEPRINTS = Path(__file__).resolve().parents[1] / "blueprints" / "automation"
ALL_BLUEPRINTS = sorted(path.relative_to(BLUEPRINTS).as_posix() for path in BLUEPRINTS.glob("hold_slayer/*.yaml"))


@contextmanager
def repo_blueprints() -> Iterator[None]:
    """Load blueprints from the repository's blueprints/ folder instead of the config dir."""

    def load(self: models.DomainBlueprints, blueprint_path: str) -> models.Blueprint:
        return models.Blueprint(
            yaml_util.load_yaml_dict(BLUEPRINTS / blueprint_path),
            expected_domain=self.domain,
            path=blueprint_path,
            schema=self._blueprint_schema,
        )

    with patch.object(models.DomainBlueprints, "_load_blueprint", load):
        yield


async def _use_blueprint(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    with repo_blueprints():
        assert await async_setup_component(
            hass,
            automation.DOMAIN,
            {automation.DOMAIN: {"use_blueprint": {"path": f"hold_slayer/{name}.yaml", "input": inputs}}},
        )
        await hass.async_block_till_done()
    assert hass.states.async_entity_ids(automation.DOMAIN), "the automation was not created"


async def _settle() -> None:
    """Let triggered automations run up to their wait step.

    ``hass.async_block_till_done`` would wait for the automation run itself, which is parked in
    ``wait_for_trigger`` until a notification button is pressed.
    """
    for _ in range(20):
        await asyncio.sleep(0)


def _fire_human_detected(hass: HomeAssistant, call_id: str = "call-7", company: str | None = "Acme Bank") -> None:
    hass.bus.async_fire(
        "hold_slayer_human_detected",
        {"call_id": call_id, "company": company, "target": "+18005550100", "config_entry_id": "e", "device_id": "d"},
    )


@pytest.mark.parametrize("path", ALL_BLUEPRINTS)
def test_blueprint_schema(path: str) -> None:
    """Every blueprint passes HA's automation blueprint schema and declares sensible inputs."""
    blueprint = models.Blueprint(
        yaml_util.load_yaml_dict(BLUEPRINTS / path),
        expected_domain=automation.DOMAIN,
        path=path,
        schema=automation.config.AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.name.startswith("Hold Slayer - ")
    assert blueprint.metadata["description"]
    assert blueprint.inputs
    # Re-import from the UI ("Re-import blueprint") fetches this address: it must be this very file.
    assert (
        blueprint.metadata["source_url"]
        == f"https://github.com/hold-slayer/hold-slayer/blob/main/blueprints/automation/{path}"
    )


def test_all_blueprints_exist() -> None:
    assert ALL_BLUEPRINTS == [
        "hold_slayer/announce_caller.yaml",
        "hold_slayer/announce_human_detected.yaml",
        "hold_slayer/conversation_call.yaml",
        "hold_slayer/dnd_at_night.yaml",
        "hold_slayer/notify_call_summary.yaml",
        "hold_slayer/notify_human_detected.yaml",
        "hold_slayer/notify_voicemail.yaml",
        "hold_slayer/scheduled_call.yaml",
    ]


# -- phone notification ------------------------------------------------------------------------------


@pytest.fixture
def phone(hass: HomeAssistant) -> dr.DeviceEntry:
    """A phone as the Companion app registers it (notify.mobile_app_<name>)."""
    entry = MockConfigEntry(domain="mobile_app")
    entry.add_to_hass(hass)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("mobile_app", "pixel")}, name="Pixel 9"
    )


async def _notify_setup(hass: HomeAssistant, phone: dr.DeviceEntry, **inputs: Any) -> tuple[list[ServiceCall], ...]:
    notify = async_mock_service(hass, "notify", "mobile_app_pixel_9")
    hang_up = async_mock_service(hass, "hold_slayer", "hang_up")
    coming = async_mock_service(hass, "test", "coming")
    await _use_blueprint(
        hass,
        "notify_human_detected",
        {"notify_device": phone.id, "coming_actions": [{"action": "test.coming"}], **inputs},
    )
    return notify, hang_up, coming


async def test_notify_then_hang_up(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    notify, hang_up, coming = await _notify_setup(hass, phone)

    _fire_human_detected(hass)
    await _settle()

    assert len(notify) == 1
    data = notify[0].data
    assert data["title"] == "A person is on the line"
    assert data["message"] == "Acme Bank answered. Hold Slayer is ringing your phone."
    assert data["data"]["tag"] == "hold_slayer_call-7"
    assert [(a["action"], a["title"]) for a in data["data"]["actions"]] == [
        ("HOLD_SLAYER_HANG_UP_call-7", "Hang up"),
        ("HOLD_SLAYER_COMING_call-7", "I'm coming"),
    ]
    assert not hang_up

    # A button of another call is ignored; this call's "Hang up" ends this call.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_HANG_UP_call-1"})
    await _settle()
    assert not hang_up
    hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_HANG_UP_call-7"})
    await _settle()

    assert [call.data for call in hang_up] == [{"call_id": "call-7"}]
    assert not coming


async def test_notify_then_coming(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    _notify, hang_up, coming = await _notify_setup(hass, phone, message="{{ company }} is here")

    _fire_human_detected(hass, company=None)
    await _settle()
    assert _notify[0].data["message"] == "number +18005550100 is here"  # no company name: the number stands in
    hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_COMING_call-7"})
    await _settle()

    assert len(coming) == 1
    assert not hang_up


async def test_notify_buttons_expire(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    _notify, hang_up, coming = await _notify_setup(hass, phone, response_timeout={"seconds": 1})
    _fire_human_detected(hass)
    await _settle()

    # The wait's timeout runs on the event loop's clock, which freezegun does not move.
    await asyncio.sleep(1.2)
    hass.bus.async_fire("mobile_app_notification_action", {"action": "HOLD_SLAYER_HANG_UP_call-7"})
    await _settle()

    assert not hang_up
    assert not coming


# -- speaker announcement ----------------------------------------------------------------------------


async def test_announce_on_speakers(hass: HomeAssistant) -> None:
    speak = async_mock_service(hass, "tts", "speak")
    await _use_blueprint(
        hass,
        "announce_human_detected",
        {"tts_entity": "tts.piper", "speakers": ["media_player.kitchen", "media_player.office"]},
    )

    _fire_human_detected(hass)
    await hass.async_block_till_done()

    assert len(speak) == 1
    assert speak[0].data["entity_id"] == ["tts.piper"]
    assert speak[0].data["media_player_entity_id"] == ["media_player.kitchen", "media_player.office"]
    assert speak[0].data["message"] == "A person from Acme Bank is on the line. Pick up your phone."


# -- scheduled call ----------------------------------------------------------------------------------


async def _scheduled_setup(hass: HomeAssistant, **inputs: Any) -> list[ServiceCall]:
    place_call = async_mock_service(hass, "hold_slayer", "place_call")
    hass.states.async_set("sensor.hold_slayer_call_state", "idle")
    await _use_blueprint(
        hass, "scheduled_call", {"company": "my bank", "reason": "dispute a charge", "at_time": "09:00:00", **inputs}
    )
    return place_call


async def test_scheduled_call_at_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    await hass.config.async_set_time_zone("UTC")
    freezer.move_to("2026-11-23 08:59:58+00:00")  # a Monday
    place_call = await _scheduled_setup(hass)

    freezer.move_to("2026-11-23 09:00:00+00:00")
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()

    assert [call.data for call in place_call] == [{"company": "my bank", "reason": "dispute a charge"}]


async def test_scheduled_call_skips_weekend_and_busy_line(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    await hass.config.async_set_time_zone("UTC")
    freezer.move_to("2026-11-21 08:59:58+00:00")  # a Saturday
    place_call = await _scheduled_setup(hass, reason="")

    freezer.move_to("2026-11-21 09:00:00+00:00")
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert not place_call

    freezer.move_to("2026-11-23 09:00:00+00:00")  # Monday, but a call is already on hold
    hass.states.async_set("sensor.hold_slayer_call_state", "hold")
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert not place_call


async def test_scheduled_call_on_extra_trigger_with_condition(hass: HomeAssistant) -> None:
    hass.states.async_set("input_boolean.away", "off")
    place_call = await _scheduled_setup(
        hass,
        reason="",
        extra_triggers=[{"trigger": "event", "event_type": "call_the_bank_now"}],
        extra_conditions=[{"condition": "state", "entity_id": "input_boolean.away", "state": "off"}],
    )

    hass.bus.async_fire("call_the_bank_now")
    await hass.async_block_till_done()
    assert [call.data for call in place_call] == [{"company": "my bank"}]  # empty reason is left out

    hass.states.async_set("input_boolean.away", "on")
    hass.bus.async_fire("call_the_bank_now")
    await hass.async_block_till_done()
    assert len(place_call) == 1


# -- "call my bank" with the built-in conversation agent ----------------------------------------------


@pytest.fixture
async def voice(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The real integration (fake client), the built-in agent, and the conversation blueprint."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await _use_blueprint(hass, "conversation_call", {})


@pytest.mark.usefixtures("voice")
@pytest.mark.parametrize(
    ("sentence", "target", "reason", "name"),
    [
        ("call my bank", "+18005550100", "check my balance", "Acme Bank"),  # the company's default reason
        ("Call Acme Bank about a card dispute", "+18005550100", "a card dispute", "Acme Bank"),
        ("call telco", "sip:support@telco.example", None, "Telco"),
    ],
)
async def test_conversation_sentence_places_call(
    hass: HomeAssistant,
    mock_client: FakeHoldSlayerClient,
    sentence: str,
    target: str,
    reason: str | None,
    name: str,
) -> None:
    result = await conversation.async_converse(hass, sentence, None, Context(), language="en")

    speech = result.response.speech["plain"]["speech"]
    # The reply names the configured company, not the alias that was spoken ("my bank").
    assert speech == f"Calling {name}, I'll ring you when a person answers."
    mock_client.place_call.assert_awaited_once()
    assert mock_client.place_call.await_args.args == (target,)
    assert mock_client.place_call.await_args.kwargs["intent"] == reason


@pytest.mark.usefixtures("voice")
async def test_conversation_unknown_company(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    result = await conversation.async_converse(hass, "call my dentist", None, Context(), language="en")

    assert result.response.speech["plain"]["speech"] == "I couldn't call dentist. I can call Acme Bank or Telco."
    mock_client.place_call.assert_not_awaited()


# -- call summary ----------------------------------------------------------------------------------


SUMMARY = {
    "call_id": "call-9",
    "company": "Acme Bank",
    "text": "Spoke with Dana at Acme Bank; reference 48219",
    "agent_name": "Dana",
    "reference": "48219",
    "commitments": [
        {"text": "A technician will visit on Tuesday.", "due": "2026-12-08"},
        {"text": "You'll get a 20 dollar credit.", "due": None},
    ],
}


async def test_call_summary_reaches_the_phone(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    notify = async_mock_service(hass, "notify", "mobile_app_pixel_9")
    await _use_blueprint(hass, "notify_call_summary", {"notify_device": phone.id})

    hass.bus.async_fire("hold_slayer_call_summary", SUMMARY)
    await _settle()
    hass.bus.async_fire("hold_slayer_call_summary", {"call_id": "call-10", "company": "Acme Bank", "commitments": []})
    await _settle()

    assert len(notify) == 1  # the second call promised nothing: no notification
    assert notify[0].data["title"] == "Call with Acme Bank (ref 48219)"
    assert notify[0].data["message"] == (
        "Agent: Dana\n• A technician will visit on Tuesday. (by 2026-12-08)\n• You'll get a 20 dollar credit."
    )
    assert notify[0].data["data"]["tag"] == "hold_slayer_summary_call-9"

"""The inbound half for automations and maintainers: device triggers, logbook lines, diagnostics without callers."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from homeassistant.components import automation
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.hold_slayer.const import DOMAIN

from .inbound_common import FakeInboundSidecar, make_inbound_call, make_voicemail


@pytest.mark.parametrize(
    ("trigger_type", "event", "data"),
    [
        ("incoming_call", "incoming_call", make_inbound_call()),
        ("call_answered", "inbound_answered", make_inbound_call(state="answered", answered_by="dev-kitchen")),
        ("call_rejected", "inbound_rejected", make_inbound_call(state="rejected")),
        ("robocall_blocked", "robocall_blocked", make_inbound_call(state="ended", robocall=True)),
        ("voicemail", "voicemail", make_voicemail(call_id="in-1")),
    ],
)
async def test_inbound_device_triggers(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    inbound: FakeInboundSidecar,
    service_calls: list[ServiceCall],
    trigger_type: str,
    event: str,
    data: dict[str, Any],
) -> None:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, loaded.entry_id)})
    assert device is not None
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "triggers": {"platform": "device", "domain": DOMAIN, "device_id": device.id, "type": trigger_type},
                "actions": {"action": "test.automation", "data": {"who": "{{ trigger.event.data.caller_name }}"}},
            }
        },
    )
    inbound.client.emit(event, dict(data))
    await hass.async_block_till_done()
    assert [c.data["who"] for c in service_calls] == ["Dr. Molar's office"]


async def test_answered_event_names_the_device(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    events: list[dict[str, Any]] = []
    hass.bus.async_listen("hold_slayer_call_answered", lambda e: events.append(dict(e.data)))
    call = make_inbound_call(state="answered", answered_by="dev-kitchen", ringing_devices=["dev-kitchen", "dev-x"])
    inbound.client.emit("inbound_answered", call)
    await hass.async_block_till_done()
    assert events[0]["answered_by_name"] == "Kitchen phone"
    assert events[0]["ringing_device_names"] == ["Kitchen phone"]


@pytest.mark.parametrize(
    ("event", "data", "message", "icon"),
    [
        (
            "incoming_call",
            {"caller_name": "Mum", "action": "ring_chain"},
            "Mum: calling (ring chain)",
            "mdi:phone-incoming",
        ),
        (
            "incoming_call",
            {"caller": "+18005551234", "action": "reject", "rule": "Toll-free at night"},
            "+18005551234: calling (reject, rule Toll-free at night)",
            "mdi:phone-incoming",
        ),
        ("incoming_call", {}, "Unknown caller: calling", "mdi:phone-incoming"),
        (
            "call_answered",
            {"caller": "+15550100300", "answered_by_name": "Kitchen phone"},
            "+15550100300: answered on Kitchen phone",
            "mdi:phone-in-talk",
        ),
        ("call_answered", {"caller": "+15550100300"}, "+15550100300: answered", "mdi:phone-in-talk"),
        (
            "call_rejected",
            {"caller": "anonymous", "reason": "global DND"},
            "anonymous: rejected: global DND",
            "mdi:phone-cancel",
        ),
        (
            "robocall_blocked",
            {"caller": "+1800", "reason": "a recording"},
            "+1800: robocall blocked: a recording",
            "mdi:robot-off",
        ),
        (
            "voicemail",
            {"caller_name": "Sam", "duration_s": 74.0, "transcript": "secret"},
            "Sam: left a voicemail (1:14)",
            "mdi:voicemail",
        ),
    ],
)
async def test_inbound_logbook(
    hass: HomeAssistant, event: str, data: dict[str, object], message: str, icon: str
) -> None:
    hass.config.components.add("recorder")
    assert await async_setup_component(hass, "logbook", {})
    assert await async_setup_component(hass, "hold_slayer", {})
    await hass.async_block_till_done()
    _, describe = hass.data["logbook"].external_events[f"hold_slayer_{event}"]
    entry = describe(SimpleNamespace(data=data))
    assert entry == {"name": "Hold Slayer", "message": message, "icon": icon}
    assert "secret" not in entry["message"]  # what a caller said never goes into the logbook


async def test_inbound_diagnostics_redact_callers(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    inbound.client.emit("incoming_call", make_inbound_call())
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded)
    text = json.dumps(diagnostics)
    for personal in (
        "+15550100300",
        "Molar",
        "dentist",
        "sip:kitchen@192.168.1.30",
        "+1800*",
        "Please call us back",
        "+15550100200",
    ):
        assert personal not in text, personal
    assert diagnostics["inbound"]["supported"] is True
    assert {d["name"] for d in diagnostics["inbound"]["devices"]} == {"Kitchen phone", "Desk phone"}
    assert diagnostics["inbound"]["rules"][0]["action"] == "reject"
    assert diagnostics["inbound"]["unheard_voicemails"] == 1


async def test_voicemails_in_the_media_source(
    hass: HomeAssistant, loaded: MockConfigEntry, inbound: FakeInboundSidecar
) -> None:
    from homeassistant.components import media_source
    from homeassistant.components.media_source import Unresolvable

    assert await async_setup_component(hass, "media_source", {})
    inbound.voicemails.append(
        make_voicemail("vm-old", heard=True, transcript=None, call_id="in-0", recording="vm-old.wav")
    )
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert [child.title for child in root.children] == ["By date", "By company", "Voicemail"]
    folder = await media_source.async_browse_media(hass, root.children[2].media_content_id)
    titles = [child.title for child in folder.children]
    assert titles[0].startswith("\u2022 ") and "Dr. Molar's office (0:14): Please call us back" in titles[0]
    assert not titles[1].startswith("\u2022") and titles[1].endswith("(0:14)")
    played = await media_source.async_resolve_media(hass, folder.children[0].media_content_id, None)
    assert "/api/hold_slayer/recording/" in played.url and "/in-1/vm-1.wav" in played.url
    # One HA does not keep (older than the recent ten) is found on the sidecar.
    played = await media_source.async_resolve_media(hass, folder.children[1].media_content_id, None)
    assert "/in-0/vm-old.wav" in played.url
    for bad in ("vm-nope", "../x"):
        with pytest.raises(Unresolvable):
            await media_source.async_resolve_media(
                hass, f"media-source://{DOMAIN}/{loaded.entry_id}/voicemail/{bad}", None
            )
    inbound.voicemails.append(make_voicemail("vm-bad", recording="../../etc/passwd"))
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(
            hass, f"media-source://{DOMAIN}/{loaded.entry_id}/voicemail/vm-bad", None
        )
    from custom_components.hold_slayer.client import HoldSlayerConnectionError

    inbound.client.list_voicemails.side_effect = HoldSlayerConnectionError("gone")
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"media-source://{DOMAIN}/{loaded.entry_id}/voicemail/vm-x", None)
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"media-source://{DOMAIN}/nope/voicemail/vm-1", None)

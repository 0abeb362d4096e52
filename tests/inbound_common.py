"""The inbound half in tests: sample devices, rules, calls, voicemails, and a fake sidecar store behind the client."""

from __future__ import annotations

import copy
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import HoldSlayerCommandError
from custom_components.hold_slayer.const import SUBENTRY_DEVICE, SUBENTRY_RULE
from custom_components.hold_slayer.protocol import DeviceInfo, InboundCallInfo, RoutingRule, VoicemailInfo

from .common import FakeHoldSlayerClient

ALL_PLATFORMS = ["binary_sensor", "event", "sensor", "switch"]


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Set up an entry with every platform."""
    entry.add_to_hass(hass)
    with patch("custom_components.hold_slayer.PLATFORMS", ALL_PLATFORMS):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return entry


def make_device(device_id: str = "dev-kitchen", **overrides: Any) -> DeviceInfo:
    """Return a device as the sidecar reports it (a SIP phone in the kitchen by default)."""
    device: dict[str, Any] = {
        "device_id": device_id,
        "name": "Kitchen phone",
        "kind": "sip_uri",
        "address": "sip:kitchen@192.168.1.30",
        "priority": 10,
        "ring_timeout_s": 20.0,
        "dnd": False,
        "registered": None,
        "ringing": False,
        "last_call_at": "2026-12-01T18:00:00+00:00",
        "last_caller": "+15550100200",
    }
    device.update(overrides)
    return device  # type: ignore[return-value]


DESK_PHONE = make_device(
    "dev-desk",
    name="Desk phone",
    kind="registered",
    address="desk-7f3a",
    priority=20,
    registered=True,
    last_call_at=None,
)


def make_rule(rule_id: str = "rule-tollfree", **overrides: Any) -> RoutingRule:
    """Return a routing rule as the sidecar stores it (reject toll-free callers at night by default)."""
    rule: dict[str, Any] = {
        "rule_id": rule_id,
        "name": "Toll-free at night",
        "enabled": True,
        "priority": 10,
        "caller_pattern": "+1800*",
        "dialled_pattern": None,
        "time_start": "22:00",
        "time_end": "07:00",
        "days": [],
        "time_zone": "America/New_York",
        "known_contact": None,
        "action": "reject",
        "device_id": None,
        "reject_code": 603,
        "reject_message": None,
    }
    rule.update(overrides)
    return rule  # type: ignore[return-value]


def make_inbound_call(call_id: str = "in-1", **overrides: Any) -> InboundCallInfo:
    """Return an inbound call (the dentist, being screened by the receptionist, by default)."""
    call: dict[str, Any] = {
        "call_id": call_id,
        "caller": "+15550100300",
        "caller_name": "Dr. Molar's office",
        "dialled": "+15550100999",
        "started_at": "2026-12-02T14:00:00+00:00",
        "state": "screening",
        "decision": {
            "action": "receptionist",
            "rule_id": None,
            "rule_name": None,
            "device_ids": ["dev-kitchen", "dev-desk"],
            "reason": "no rule matched: the receptionist answers",
        },
        "purpose": "tomorrow's appointment",
        "urgency": "normal",
        "heard": "Hi, this is the dentist about tomorrow's appointment.",
        "robocall": False,
        "reason": None,
        "ringing_devices": [],
        "answered_by": None,
        "voicemail_id": None,
    }
    call.update(overrides)
    return call  # type: ignore[return-value]


def make_voicemail(voicemail_id: str = "vm-1", **overrides: Any) -> VoicemailInfo:
    """Return a voicemail (the dentist's message, unheard, by default)."""
    voicemail: dict[str, Any] = {
        "voicemail_id": voicemail_id,
        "call_id": "in-1",
        "caller": "+15550100300",
        "caller_name": "Dr. Molar's office",
        "dialled": "+15550100999",
        "received_at": "2026-12-02T14:01:00+00:00",
        "duration_s": 14.2,
        "transcript": "Please call us back to confirm tomorrow at nine.",
        "recording": "vm-1.wav",
        "heard": False,
    }
    voicemail.update(overrides)
    return voicemail  # type: ignore[return-value]


def device_subentry(device: DeviceInfo, subentry_id: str) -> ConfigSubentryData:
    """Return the subentry showing a device."""
    return ConfigSubentryData(
        data={
            "device_id": device["device_id"],
            "name": device["name"],
            "kind": device["kind"],
            "address": device["address"],
            "priority": device["priority"],
            "ring_timeout_s": device["ring_timeout_s"],
        },
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_DEVICE,
        title=device["name"],
        unique_id=device["device_id"],
    )


def rule_subentry(rule: RoutingRule, subentry_id: str) -> ConfigSubentryData:
    """Return the subentry showing a rule."""
    return ConfigSubentryData(
        data=dict(rule),
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_RULE,
        title=rule["name"],
        unique_id=rule["rule_id"],
    )


KITCHEN_SUBENTRY = device_subentry(make_device(), "01DEVKITCHEN00000000000000")
DESK_SUBENTRY = device_subentry(DESK_PHONE, "01DEVDESK000000000000000000")
RULE_SUBENTRY = rule_subentry(make_rule(), "01RULETOLLFREE000000000000")


class FakeInboundSidecar:
    """The sidecar's device and rule store, behind the fake client's inbound methods (one layer, no SIP)."""

    def __init__(self, client: FakeHoldSlayerClient) -> None:
        self.client = client
        self.devices: dict[str, DeviceInfo] = {"dev-kitchen": make_device(), "dev-desk": copy.deepcopy(DESK_PHONE)}
        self.rules: dict[str, RoutingRule] = {"rule-tollfree": make_rule()}
        self.voicemails: list[VoicemailInfo] = [make_voicemail()]
        self.global_dnd = False
        self._next = 1
        client.list_rules = AsyncMock(side_effect=lambda: [copy.deepcopy(r) for r in self.rules.values()])
        client.list_voicemails = AsyncMock(side_effect=self._list_voicemails)
        client.list_devices = AsyncMock(side_effect=self._list_devices)
        client.save_device = AsyncMock(side_effect=self._save_device)
        client.delete_device = AsyncMock(side_effect=self._delete_device)
        client.set_dnd = AsyncMock(side_effect=self._set_dnd)
        client.save_rule = AsyncMock(side_effect=self._save_rule)
        client.delete_rule = AsyncMock(side_effect=self._delete_rule)
        client.test_route = AsyncMock(
            return_value={
                "action": "reject",
                "rule_id": "rule-tollfree",
                "rule_name": "Toll-free at night",
                "device_ids": [],
                "reason": "rule 'Toll-free at night' (22:00-07:00 America/New_York)",
            }
        )
        client.answer_inbound = AsyncMock(return_value=None)
        client.reject_inbound = AsyncMock(return_value=None)
        client.mark_voicemail = AsyncMock(return_value=None)
        client.delete_voicemail = AsyncMock(return_value=None)
        self.publish()

    def publish(self, **overrides: Any) -> None:
        """Put the inbound state into the snapshot the next welcome carries."""
        self.client.snapshot["inbound"] = {
            "global_dnd": self.global_dnd,
            "devices": [copy.deepcopy(d) for d in self.devices.values()],
            "calls": [],
            "unheard_voicemails": sum(1 for v in self.voicemails if not v["heard"]),
            "last_caller": None,
            **overrides,
        }

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}-{self._next}"

    async def _list_voicemails(self, limit: int = 50) -> dict[str, Any]:
        unheard = sum(1 for v in self.voicemails if not v["heard"])
        return {"voicemails": copy.deepcopy(self.voicemails[:limit]), "next_cursor": None, "unheard": unheard}

    async def _list_devices(self) -> dict[str, Any]:
        return {"devices": copy.deepcopy(list(self.devices.values())), "global_dnd": self.global_dnd}

    async def _save_device(self, data: dict[str, Any]) -> dict[str, Any]:
        device_id = data.get("device_id") or self._id("dev")
        if data.get("device_id") and device_id not in self.devices:
            raise HoldSlayerCommandError("not_found", f"no device {device_id}")
        old = self.devices.get(device_id) or make_device(device_id, last_call_at=None, last_caller=None)
        registered = data["kind"] == "registered"
        address = f"user-{device_id}" if registered else data.get("address", "")
        device = {**old, **{k: v for k, v in data.items() if k != "reset_credentials"}, "address": address}
        device["registered"] = False if registered else None
        self.devices[device_id] = device  # type: ignore[assignment]
        self.client.emit("device_state", copy.deepcopy(device))
        self.publish()
        credentials = None
        if registered and (not data.get("device_id") or data.get("reset_credentials")):
            credentials = {
                "username": address,
                "password": "Zq8-secret-pw",
                "domain": "hs.local",
                "registrar": "192.168.1.5:5060",
            }
        return {"device": copy.deepcopy(device), "credentials": credentials}

    async def _delete_device(self, device_id: str) -> None:
        if self.devices.pop(device_id, None) is None:
            raise HoldSlayerCommandError("not_found", f"no device {device_id}")
        self.client.emit("device_deleted", {"device_id": device_id})
        self.publish()

    async def _set_dnd(self, device_id: str | None, enabled: bool) -> None:
        if device_id is None:
            self.global_dnd = enabled
            self.client.emit("dnd_changed", {"global_dnd": enabled})
            self.publish()
            return
        self.devices[device_id]["dnd"] = enabled
        self.client.emit("device_state", copy.deepcopy(self.devices[device_id]))
        self.publish()

    async def _save_rule(self, rule: dict[str, Any]) -> RoutingRule:
        if rule.get("caller_pattern") == "+1[800":  # what a sidecar's own check refuses, past the form's
            raise HoldSlayerCommandError("invalid_data", "caller_pattern: unbalanced [")
        rule_id = rule.get("rule_id") or self._id("rule")
        stored = {**rule, "rule_id": rule_id}
        self.rules[rule_id] = stored  # type: ignore[assignment]
        self.client.emit("rule_saved", copy.deepcopy(stored))
        return copy.deepcopy(stored)  # type: ignore[return-value]

    async def _delete_rule(self, rule_id: str) -> None:
        if self.rules.pop(rule_id, None) is None:
            raise HoldSlayerCommandError("not_found", f"no rule {rule_id}")
        self.client.emit("rule_deleted", {"rule_id": rule_id})

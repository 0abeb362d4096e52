"""Hostile data for every action: wrong types, missing fields, huge strings, unknown fields; a clear error, no command.

The fuller tables of one action (emergency spellings, SIP header injection, rule patterns) stay beside its own tests;
this one covers every action the integration registers, and fails when a new one has no row.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.const import DOMAIN

from .common import FakeHoldSlayerClient

HUGE = "x" * 100_000
_KINDS = [[], {}, None]  # no text, number or flag is a list, a mapping or nothing

# action -> payloads, each to be refused before anything reaches the sidecar.
HOSTILE: dict[str, list[dict[str, Any]]] = {
    "place_call": [
        {"number": v} for v in [*_KINDS, "", HUGE, "+15550100200\r\nVia: evil"]
    ] + [
        {"company": v} for v in [*_KINDS, "", HUGE]
    ] + [
        {"number": "+15550100200", "transfer_to": v} for v in [*_KINDS, "", "911"]
    ] + [
        {"number": "+15550100200", "call_flow": ""},
        # Longer than the sidecar takes (protocol.MAX_*_CHARS): refused by the schema, not later by the sidecar.
        {"number": "+15550100200", "reason": "x" * 501},
        {"number": "+15550100200", "reason": HUGE},
        {"number": "+15550100200", "call_flow": "x" * 65},
        {"number": "+15550100200", "transfer_to": "1" * 257},
        {"company": "x" * 121},
        {"number": "+15550100200", "launch": "rockets"},
        {"number": "+15550100200", "config_entry_id": []},
    ],
    "hang_up": [{"call_id": v} for v in [*_KINDS, ""]] + [{"call_id": "c", "bogus": 1}],
    "send_dtmf": [{}, *({"digits": v} for v in [*_KINDS, "", "1;2", HUGE]), {"digits": "1", "call_id": ""}],
    "save_call_flow": [{}, *({"flow": v} for v in ["x", 1, [], None]), {"flow": {}, "extra": 1}],
    "delete_call_flow": [{}, *({"flow_id": v} for v in [*_KINDS, ""])],
    "get_history": [
        *({"limit": v} for v in [[], {}, "many", 0, 10**30]),
        *({"since": v} for v in [[], "tuesday-ish"]),
        {"outcome": HUGE},
        {"cursor": HUGE},
        {"company": ""},
        {"bogus": 1},
    ],
    "get_call": [{}, *({"call_id": v} for v in [*_KINDS, "", HUGE])],
    "get_forecast": [{}, *({"company": v} for v in [*_KINDS, ""])],
    "add_device": [
        {},
        {"name": "A"},
        {"name": "", "kind": "number", "address": "+15550100"},
        {"name": HUGE, "kind": "number", "address": "+15550100"},
        {"name": "A", "kind": "fax"},
        {"name": "A", "kind": "number", "address": HUGE},
        {"name": "A", "kind": "number", "address": "+15550100", "priority": "first"},
        {"name": "A", "kind": "number", "address": "+15550100", "ring_timeout_s": []},
        {"name": "A", "kind": "number", "address": "+15550100", "bogus": 1},
    ],
    "remove_device": [{}, *({"device": v} for v in [*_KINDS, "", HUGE])],
    "add_rule": [
        {},
        {"name": "Night"},
        {"name": "Night", "action": "explode"},
        {"name": HUGE, "action": "dnd"},
        {"name": "Night", "action": "dnd", "days": ["someday"]},
        {"name": "Night", "action": "dnd", "priority": "high"},
        {"name": "Night", "action": "dnd", "enabled": "perhaps"},
        {"name": "Night", "action": "dnd", "known_contact": "friends"},
        {"name": "Night", "action": "dnd", "reject_code": "busy"},
        {"name": "Night", "action": "dnd", "caller_pattern": []},
    ],
    "remove_rule": [{}, *({"rule": v} for v in [*_KINDS, "", HUGE])],
    "list_rules": [{"bogus": 1}],
    "list_devices": [{"bogus": 1}],
    "test_route": [{}, *({"caller": v} for v in [*_KINDS, "", HUGE]), {"caller": "+15550100", "at": []}],
    "set_contacts": [
        {},
        # None is YAML's blank "contacts:": refused, not taken as an empty phone book ([] clears it on purpose)
        *({"contacts": v} for v in [None, "x", [1], [{"name": "A"}], [{"name": "A", "number": ""}]]),
        {"contacts": [{"name": "A", "number": "+1555", "x": 1}]},
        {"contacts": [{"name": "A", "number": "+1555"}] * 100_000},
    ],
    "answer_inbound": [{}, *({"device": v} for v in [*_KINDS, "", HUGE]), {"device": "Desk phone", "call_id": ""}],
    "reject_inbound": [*({"to_voicemail": v} for v in ["perhaps", [], None]), {"call_id": ""}],
    "mark_voicemail_heard": [
        {}, *({"voicemail_id": v} for v in [*_KINDS, "", HUGE]), {"voicemail_id": "v", "heard": "?"}
    ],
    "delete_voicemail": [{}, *({"voicemail_id": v} for v in [*_KINDS, "", HUGE])],
}  # fmt: skip
# How HA refuses a call made the wrong way (not the data): these would pass the test for the wrong reason.
WRONG_CALL = {"service_does_not_support_response", "service_lacks_response_request"}
CASES = [(action, data) for action, payloads in HOSTILE.items() for data in payloads]


def _sent(client: FakeHoldSlayerClient) -> dict[str, int]:
    """How often each command of the fake sidecar was awaited (the snapshot is read on every connect)."""
    mocks = {name: value for name, value in vars(client).items() if isinstance(value, AsyncMock)}
    return {name: mock.await_count for name, mock in mocks.items() if name != "get_snapshot"}


@pytest.mark.parametrize(("action", "data"), CASES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CASES)])
async def test_malformed_data_is_refused_and_nothing_is_sent(
    hass: HomeAssistant, loaded: MockConfigEntry, mock_client: FakeHoldSlayerClient, action: str, data: dict[str, Any]
) -> None:
    before = _sent(mock_client)
    with pytest.raises((vol.Invalid, ServiceValidationError)) as err:
        await hass.services.async_call(
            DOMAIN, action, data, blocking=True, return_response=action.startswith(("get_", "list_", "test_"))
        )
    assert getattr(err.value, "translation_key", None) not in WRONG_CALL, err.value  # refused for the data
    assert _sent(mock_client) == before


async def test_every_action_has_hostile_data(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    assert set(hass.services.async_services_for_domain(DOMAIN)) == set(HOSTILE)

"""Diagnostics: useful to a maintainer, with the token and every number or SIP URI redacted."""

from __future__ import annotations

import json

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from .common import TOKEN, FakeHoldSlayerClient


@pytest.mark.usefixtures("call_on_hold")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    snapshot: SnapshotAssertion,
) -> None:
    mock_client.emit("transcript", {"call_id": "call-1", "speaker": "agent", "text": "My card number is 4111 1111"})
    mock_client.emit("dtmf_sent", {"call_id": "call-1", "digits": "9876"})  # a PIN keyed into the menu
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)

    assert diagnostics == snapshot
    text = json.dumps(diagnostics)
    for secret in (TOKEN, "+18005550100", "sip:support@telco.example", "sip:me@192.168.1.20", "4111", "9876"):
        assert secret not in text
    assert diagnostics["calls"][0]["transcript_lines"] == 1

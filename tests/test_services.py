"""Actions: place_call, hang_up, send_dtmf and call flow management."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import HoldSlayerCommandError, HoldSlayerConnectionError
from custom_components.hold_slayer.const import DOMAIN
from custom_components.hold_slayer.protocol import MAX_INTENT_CHARS

from .common import FakeHoldSlayerClient

pytestmark = pytest.mark.usefixtures("init_integration")


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=response)


@pytest.mark.parametrize("spoken", ["Acme Bank", "acme bank", "my bank", "the bank", "Acme"])
async def test_place_call_by_company_name_or_alias(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, spoken: str
) -> None:
    response = await _call(hass, "place_call", {"company": spoken}, response=True)
    assert response == {"call_id": "call-2", "company": "Acme Bank", "target": "+18005550100"}
    mock_client.place_call.assert_awaited_once_with(
        "+18005550100",
        company="Acme Bank",
        intent="check my balance",
        call_flow="acme-bank",
        transfer_to="sip:me@192.168.1.20",
    )


async def test_place_call_overrides_company_defaults(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    await _call(
        hass,
        "place_call",
        {"company": "bank", "reason": "dispute a charge", "call_flow": "other", "transfer_to": "+1 555 010 2222"},
    )
    mock_client.place_call.assert_awaited_once_with(
        "+18005550100", company="Acme Bank", intent="dispute a charge", call_flow="other", transfer_to="+15550102222"
    )


async def test_place_call_takes_a_reason_as_long_as_the_sidecar_does(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient
) -> None:
    reason = "x" * MAX_INTENT_CHARS  # the longest the sidecar accepts: the schema must not refuse it first
    await _call(hass, "place_call", {"number": "+18005550123", "reason": reason})
    assert mock_client.place_call.await_args.kwargs["intent"] == reason


async def test_place_call_by_number(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    assert await _call(hass, "place_call", {"number": "+1 (800) 555-0123"}) is None
    mock_client.place_call.assert_awaited_once_with(
        "+18005550123", company=None, intent=None, call_flow=None, transfer_to="sip:me@192.168.1.20"
    )


async def test_place_call_by_sip_uri(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    await _call(hass, "place_call", {"number": "sip:queue@company.example", "reason": "billing"})
    assert mock_client.place_call.await_args.args == ("sip:queue@company.example",)
    assert mock_client.place_call.await_args.kwargs["intent"] == "billing"


# The spellings issue #17 found dialled; the whole table lives in sidecar/tests/policy/test_dialplan.py.
EMERGENCY_SPELLINGS = [
    "911", "112", "9 911", "sip:999@carrier.example", "tel:000", "sip:%39%31%31@carrier.example", "+1911",
    "1-911", "1 911", "+1 911", "1911", "00911", "01911", "99911", "00112",
]  # fmt: skip


@pytest.mark.parametrize("number", EMERGENCY_SPELLINGS)
async def test_place_call_refuses_emergency_numbers(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, number: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "place_call", {"number": number})
    assert err.value.translation_key == "emergency_number"
    mock_client.place_call.assert_not_awaited()


@pytest.mark.parametrize("transfer_to", ["+1 911", "112", "sip:911@pbx.example", "tel:+1-911"])
async def test_place_call_refuses_an_emergency_transfer_target(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, transfer_to: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "place_call", {"number": "+18005550100", "transfer_to": transfer_to})
    assert err.value.translation_key == "emergency_number"
    mock_client.place_call.assert_not_awaited()


@pytest.mark.parametrize(
    "data",
    [
        {"number": "sip:x@host?X-Injected=1&Subject=pwn"},
        {"number": "sip:bank@host;maddr=203.0.113.9"},
        {"number": "+18005550100", "transfer_to": "sip:me@host?Route=%3Csip:evil%3E"},
        {"number": "*72 555 0100"},
    ],
)
async def test_place_call_refuses_headers_routes_and_line_codes(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, data: dict[str, str]
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "place_call", data)
    assert err.value.translation_key == "invalid_target"
    mock_client.place_call.assert_not_awaited()


async def test_place_call_unknown_company(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "place_call", {"company": "the dentist"})
    assert err.value.translation_key == "unknown_company"
    assert err.value.translation_placeholders == {"company": "the dentist"}
    mock_client.place_call.assert_not_awaited()


@pytest.mark.parametrize(
    "data",
    [{}, {"company": "bank", "number": "+18005550100"}, {"number": ""}, {"reason": "x"}],
)
async def test_place_call_schema_errors(hass: HomeAssistant, data: dict[str, Any]) -> None:
    with pytest.raises(vol.Invalid):
        await _call(hass, "place_call", data)


async def test_place_call_invalid_number(hass: HomeAssistant) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "place_call", {"number": "call my mum"})
    assert err.value.translation_key == "invalid_target"


async def test_place_call_sidecar_refuses(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.place_call.side_effect = HoldSlayerCommandError("too_many_calls", "2 calls already in progress")
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "place_call", {"company": "bank"})
    assert err.value.translation_key == "sidecar_error"
    assert err.value.translation_placeholders == {"code": "too_many_calls", "message": "2 calls already in progress"}


async def test_place_call_sidecar_emergency_refusal(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.place_call.side_effect = HoldSlayerCommandError("emergency_number", "refused")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "place_call", {"number": "+18005550100"})
    assert err.value.translation_key == "emergency_number"


async def test_actions_need_a_connected_sidecar(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.connected = False
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "place_call", {"company": "bank"})
    assert err.value.translation_key == "not_connected"


async def test_connection_lost_during_request(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.place_call.side_effect = HoldSlayerConnectionError("closed")
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "place_call", {"company": "bank"})
    assert err.value.translation_key == "not_connected"


async def test_hang_up_current_call(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "hang_up", {})
    assert err.value.translation_key == "no_active_call"

    mock_client.emit("call_state", {"call_id": "call-9", "state": "hold", "started_at": "2026-11-21T10:00:00+00:00"})
    await hass.async_block_till_done()
    await _call(hass, "hang_up", {})
    mock_client.hang_up.assert_awaited_once_with("call-9")


async def test_hang_up_by_id(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    await _call(hass, "hang_up", {"call_id": "call-7"})
    mock_client.hang_up.assert_awaited_once_with("call-7")


async def test_hang_up_unknown_call(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.hang_up.side_effect = HoldSlayerCommandError("not_found", "no call call-7")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "hang_up", {"call_id": "call-7"})
    assert err.value.translation_key == "not_found"


async def test_send_dtmf(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.emit("call_state", {"call_id": "call-3", "state": "ivr", "started_at": "2026-11-21T10:00:00+00:00"})
    await hass.async_block_till_done()
    await _call(hass, "send_dtmf", {"digits": "12*#ab"})
    mock_client.send_dtmf.assert_awaited_once_with("call-3", "12*#AB")


@pytest.mark.parametrize("digits", ["", "12x", "1;2", "E", "1\x00", "9" * 65])
async def test_send_dtmf_rejects_bad_digits(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, digits: str
) -> None:
    with pytest.raises(vol.Invalid):
        await _call(hass, "send_dtmf", {"digits": digits, "call_id": "call-3"})
    mock_client.send_dtmf.assert_not_awaited()


async def test_send_dtmf_after_call_ended(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.emit("call_state", {"call_id": "call-3", "state": "ended", "started_at": "2026-11-21T10:00:00+00:00"})
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "send_dtmf", {"digits": "1"})
    assert err.value.translation_key == "no_active_call"


async def test_save_and_delete_call_flow(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    flow = {"id": "acme", "company": "Acme Bank", "steps": []}
    assert await _call(hass, "save_call_flow", {"flow": flow}, response=True) == {"id": "acme"}
    mock_client.save_call_flow.assert_awaited_once_with(flow)
    await _call(hass, "delete_call_flow", {"flow_id": "acme"})
    mock_client.delete_call_flow.assert_awaited_once_with("acme")


async def test_unknown_config_entry(hass: HomeAssistant) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "hang_up", {"call_id": "x", "config_entry_id": "nope"})
    assert err.value.translation_key == "entry_not_loaded"


async def test_explicit_config_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    await _call(hass, "hang_up", {"call_id": "x", "config_entry_id": init_integration.entry_id})
    mock_client.hang_up.assert_awaited_once_with("x")

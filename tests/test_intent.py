"""Voice: the HoldSlayerCall intent, through HA's intent API and the Assist LLM API."""

from __future__ import annotations

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.intent import (
    INTENT_CALL,
    Company,
    normalize,
    resolve_company,
    spoken_list,
)

from .common import FakeHoldSlayerClient


@pytest.fixture
async def init_integration(hass: HomeAssistant, init_integration: MockConfigEntry) -> MockConfigEntry:
    """Also set up HA's intent integration, which loads our intent.py platform (as default_config does)."""
    assert await async_setup_component(hass, "intent", {})
    return init_integration


async def _call(hass: HomeAssistant, company: str, reason: str | None = None) -> intent.IntentResponse:
    slots = {"company": {"value": company}}
    if reason is not None:
        slots["reason"] = {"value": reason}
    return await intent.async_handle(hass, "conversation", INTENT_CALL, slots, "call my bank", Context(), language="en")


@pytest.mark.parametrize(
    ("spoken", "company", "target"),
    [
        ("Acme Bank", "Acme Bank", "+18005550100"),
        ("my bank", "Acme Bank", "+18005550100"),  # alias with a filler word
        ("ACME", "Acme Bank", "+18005550100"),  # alias, any case
        ("the telco", "Telco", "sip:support@telco.example"),
    ],
)
async def test_call_by_name_or_alias(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    spoken: str,
    company: str,
    target: str,
) -> None:
    response = await _call(hass, spoken, "dispute a card charge")

    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert response.speech["plain"]["speech"] == f"Calling {company}, I'll ring you when a person answers."
    mock_client.place_call.assert_awaited_once()
    args, kwargs = mock_client.place_call.await_args
    assert args == (target,)
    assert kwargs["company"] == company
    assert kwargs["intent"] == "dispute a card charge"
    assert response.speech_slots == {"company": company, "call_id": "call-2"}


async def test_reason_defaults_to_company_reason(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    await _call(hass, "bank")
    assert mock_client.place_call.await_args.kwargs["intent"] == "check my balance"


async def test_unknown_company_lists_known_ones(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    response = await _call(hass, "my dentist")

    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.error_code is intent.IntentResponseErrorCode.NO_VALID_TARGETS
    assert (
        response.speech["plain"]["speech"] == "I don't know a company called my dentist. I can call Acme Bank or Telco."
    )
    mock_client.place_call.assert_not_awaited()


async def test_no_companies_configured(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    entry = MockConfigEntry(domain="hold_slayer", data={"host": "127.0.0.1", "port": 8765, "token": "t"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()

    response = await _call(hass, "bank")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert "no companies set up" in response.speech["plain"]["speech"]


async def test_sidecar_error_is_spoken(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    mock_client.connected = False  # the service refuses: not connected to the sidecar

    response = await _call(hass, "Telco")

    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.speech["plain"]["speech"].startswith("I couldn't call Telco:")
    mock_client.place_call.assert_not_awaited()


async def test_llm_agents_get_the_intent_as_a_tool(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client: FakeHoldSlayerClient
) -> None:
    """An LLM conversation agent (Assist API) sees HoldSlayerCall with its slots and can call it."""
    assert await async_setup_component(hass, "homeassistant", {})  # exposed-entities store of the Assist API
    context = llm.LLMContext(
        platform="test", context=Context(), language="en", assistant="conversation", device_id=None
    )
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, context)
    tool = next(tool for tool in api.tools if tool.name == INTENT_CALL)
    assert "live person answers" in tool.description
    schema_keys = {str(key): key for key in tool.parameters.schema}
    assert set(schema_keys) == {"company", "reason"}
    assert schema_keys["company"].description.startswith("Company name or nickname")

    result = await api.async_call_tool(llm.ToolInput(tool_name=INTENT_CALL, tool_args={"company": "my bank"}))

    assert result["response_type"] == "action_done"
    assert result["speech"]["plain"]["speech"] == "Calling Acme Bank, I'll ring you when a person answers."
    assert mock_client.place_call.await_args.args == ("+18005550100",)


@pytest.mark.parametrize("intent_first", [True, False])
async def test_intent_registered_once(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_client: FakeHoldSlayerClient,
    caplog: pytest.LogCaptureFixture,
    intent_first: bool,
) -> None:
    """Whichever loads first, the intent is registered once (a real HA log said it was overwritten)."""
    order = ["intent", "hold_slayer"] if intent_first else ["hold_slayer", "intent"]
    mock_config_entry.add_to_hass(hass)
    for domain in order:
        assert await async_setup_component(hass, domain, {})
    await hass.async_block_till_done()

    assert "is being overwritten" not in caplog.text
    assert [handler.intent_type for handler in intent.async_get(hass) if handler.intent_type == INTENT_CALL] == [
        INTENT_CALL
    ]


def test_resolution_rules() -> None:
    companies = [
        Company("Northwind Bank", ("bank",), "e"),
        Company("Northwind Airlines", (), "e"),
        Company("Skyways Airlines", ("airline",), "e"),
    ]
    assert normalize("  My   Bank! ") == "bank"
    assert resolve_company(companies, "my bank") == companies[0]
    assert resolve_company(companies, "skyways") == companies[2]  # one partial match
    assert resolve_company(companies, "northwind") is None  # two partial matches: ask, never guess
    assert resolve_company(companies, "wind") is None  # partial matches are whole words only
    assert resolve_company(companies, "   ") is None
    assert spoken_list(["A"]) == "A"
    assert spoken_list(["A", "B", "C"]) == "A, B or C"

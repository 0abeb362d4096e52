"""Config flow: connect to a sidecar, reconfigure, re-authenticate, options and company subentries."""

from __future__ import annotations

from unittest.mock import AsyncMock

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import (
    HoldSlayerAuthenticationError,
    HoldSlayerConnectionError,
    HoldSlayerVersionError,
)
from custom_components.hold_slayer.const import (
    CONF_ALIASES,
    CONF_NUMBER,
    CONF_REASON,
    CONF_TRANSFER_TO,
    DOMAIN,
    SUBENTRY_COMPANY,
)

from .common import HOST, PORT, TOKEN, FakeHoldSlayerClient

USER_INPUT = {CONF_HOST: HOST, CONF_PORT: PORT, CONF_TOKEN: TOKEN}

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def test_user_flow_creates_entry(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hold Slayer"
    assert result["data"] == USER_INPUT
    assert result["result"].unique_id == f"{HOST}:{PORT}"
    assert mock_client.connect_count == 1
    assert not mock_client.connected  # the probe connection is closed again


async def test_user_flow_prefers_sidecar_id(hass: HomeAssistant, mock_client: FakeHoldSlayerClient) -> None:
    mock_client.sidecar_id = "sidecar-abc"
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["result"].unique_id == "sidecar-abc"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (HoldSlayerConnectionError("refused"), "cannot_connect"),
        (HoldSlayerAuthenticationError("bad token"), "invalid_auth"),
        (HoldSlayerVersionError("protocol 2", 2), "incompatible_version"),
        (RuntimeError("boom"), "unknown"),
    ],
)
async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, error: Exception, key: str
) -> None:
    mock_client.connect = AsyncMock(side_effect=error)  # type: ignore[method-assign]
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": key}

    del mock_client.connect  # back to the working fake
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_a_short_token_is_refused_before_connecting(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**USER_INPUT, CONF_TOKEN: "x" * 23})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOKEN: "token_too_short"}
    assert mock_client.connect_count == 0
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: "short"})
    assert result["errors"] == {CONF_TOKEN: "token_too_short"}
    assert mock_client.connect_count == 0


async def test_user_flow_already_configured(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    mock_client.connect_error = HoldSlayerConnectionError("refused")
    new = {CONF_HOST: "192.168.1.5", CONF_PORT: 9000, CONF_TOKEN: "a-new-token-of-24-characters"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["errors"] == {"base": "cannot_connect"}

    mock_client.connect_error = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(mock_config_entry.data) == new
    assert mock_config_entry.unique_id == "192.168.1.5:9000"


async def test_reauth(
    hass: HomeAssistant, mock_client: FakeHoldSlayerClient, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"

    mock_client.connect_error = HoldSlayerAuthenticationError("still wrong")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "a-wrong-token-of-24-characters"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    mock_client.connect_error = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "the-right-token-of-24-characters"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_TOKEN] == "the-right-token-of-24-characters"


async def test_options_flow_transfer_target(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["integration", "trunk", "phones", "voice", "courtesy", "receptionist"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "integration"})
    assert result["step_id"] == "integration"

    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_TRANSFER_TO: "911"})
    assert result["errors"] == {CONF_TRANSFER_TO: "emergency_number"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_TRANSFER_TO: "not a phone"})
    assert result["errors"] == {CONF_TRANSFER_TO: "invalid_target"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TRANSFER_TO: "+1 (555) 010-9999"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {CONF_TRANSFER_TO: "+15550109999"}


async def test_sidecar_settings_need_a_connected_sidecar(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)  # not set up: no connection to send settings over
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "trunk"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_connected"


async def _start_company_flow(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_COMPANY), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return result["flow_id"]


async def test_add_company(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    mock_config_entry.add_to_hass(hass)
    flow_id = await _start_company_flow(hass, mock_config_entry)
    result = await hass.config_entries.subentries.async_configure(
        flow_id,
        {
            CONF_NAME: " Gas Company ",
            CONF_NUMBER: "+1 800-555-0199",
            CONF_ALIASES: ["the gas people", "gas", " "],
            CONF_REASON: "report an outage",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(s for s in mock_config_entry.subentries.values() if s.title == "Gas Company")
    assert subentry.subentry_type == SUBENTRY_COMPANY
    assert dict(subentry.data) == {
        CONF_NAME: "Gas Company",
        CONF_NUMBER: "+18005550199",
        CONF_ALIASES: ["gas", "the gas people"],
        CONF_REASON: "report an outage",
    }


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_NAME: "Police", CONF_NUMBER: "911"}, {CONF_NUMBER: "emergency_number"}),
        ({CONF_NAME: "Help", CONF_NUMBER: "sip:112@carrier.example"}, {CONF_NUMBER: "emergency_number"}),
        ({CONF_NAME: "Nonsense", CONF_NUMBER: "call me maybe"}, {CONF_NUMBER: "invalid_target"}),
        ({CONF_NAME: "acme bank", CONF_NUMBER: "+18005550111"}, {CONF_NAME: "name_in_use"}),
        ({CONF_NAME: "   ", CONF_NUMBER: "+18005550111"}, {CONF_NAME: "invalid_name"}),
        ({CONF_NAME: "Other", CONF_NUMBER: "+18005550111", CONF_ALIASES: ["Bank"]}, {CONF_NAME: "name_in_use"}),
        (
            {CONF_NAME: "Mine", CONF_NUMBER: "+18005550111", CONF_TRANSFER_TO: "999"},
            {CONF_TRANSFER_TO: "emergency_number"},
        ),
    ],
)
async def test_add_company_rejects_bad_input(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, user_input: dict[str, object], errors: dict[str, str]
) -> None:
    mock_config_entry.add_to_hass(hass)
    flow_id = await _start_company_flow(hass, mock_config_entry)
    result = await hass.config_entries.subentries.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_reconfigure_company(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    mock_config_entry.add_to_hass(hass)
    subentry = next(s for s in mock_config_entry.subentries.values() if s.title == "Telco")
    result = await mock_config_entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Telco", CONF_NUMBER: "sip:billing@telco.example", CONF_ALIASES: ["phone company"]},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    updated = mock_config_entry.subentries[subentry.subentry_id]
    assert updated.data[CONF_NUMBER] == "sip:billing@telco.example"
    assert updated.data[CONF_ALIASES] == ["phone company"]

"""Discovery: the add-on through the Supervisor (hassio) and a sidecar on the LAN (zeroconf)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.client import (
    HoldSlayerAuthenticationError,
    HoldSlayerCertificateError,
    HoldSlayerConnectionError,
)
from custom_components.hold_slayer.const import DOMAIN

from .common import FakeHoldSlayerClient

SIDECAR_ID = "0123456789abcdef0123456789abcdef"
LOG_TOKEN = "pasted-from-the-sidecar-log-0123"
ADDON_TOKEN = "Zk3pX0r9Yq1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7"
HASSIO = HassioServiceInfo(
    config={"host": "127.0.0.1", "port": 8765, "token": ADDON_TOKEN, "sidecar_id": SIDECAR_ID},
    name="Hold Slayer",
    slug="a0d7b954_hold_slayer",
    uuid="5f1a",
)
ZEROCONF = ZeroconfServiceInfo(
    ip_address=ip_address("192.168.1.40"),
    ip_addresses=[ip_address("192.168.1.40")],
    hostname="hold-slayer-01234567.local.",
    name="Hold Slayer 01234567._hold-slayer._tcp.local.",
    port=8765,
    type="_hold-slayer._tcp.local.",
    properties={"id": SIDECAR_ID, "version": "0.1.0", "protocol": "1", "path": "/api/ws"},
)

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


@pytest.fixture
def sidecar(mock_client: FakeHoldSlayerClient) -> FakeHoldSlayerClient:
    """The discovered sidecar answers with its id."""
    mock_client.sidecar_id = SIDECAR_ID
    return mock_client


async def test_hassio_confirm_creates_entry(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=HASSIO)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "Hold Slayer"}
    assert sidecar.connect_count == 0  # nothing happens before the user says yes

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: "127.0.0.1", CONF_PORT: 8765, CONF_TOKEN: ADDON_TOKEN}
    assert result["result"].unique_id == SIDECAR_ID
    assert sidecar.connect_count == 1


async def test_hassio_add_on_not_answering(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    sidecar.connect_error = HoldSlayerConnectionError("refused")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=HASSIO)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    sidecar.connect_error = None  # the add-on finished starting
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_hassio_already_configured_follows_new_port_and_token(
    hass: HomeAssistant, sidecar: FakeHoldSlayerClient
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SIDECAR_ID,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 9999, CONF_TOKEN: "old"},
        minor_version=2,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=HASSIO)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {CONF_HOST: "127.0.0.1", CONF_PORT: 8765, CONF_TOKEN: ADDON_TOKEN}


async def test_zeroconf_confirm_with_token(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=ZEROCONF)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"] == {
        "host": "192.168.1.40",
        "port": "8765",
        "fingerprint": "none: this sidecar does not encrypt",
    }

    sidecar.connect_error = HoldSlayerAuthenticationError("bad token")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "typo-typo-typo-typo-typo-typo"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    sidecar.connect_error = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: " from-the-log-0123456789abcdef \n"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: "from-the-log-0123456789abcdef"}
    assert result["result"].unique_id == SIDECAR_ID


async def test_zeroconf_already_configured_follows_new_address(
    hass: HomeAssistant, sidecar: FakeHoldSlayerClient
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SIDECAR_ID,
        data={CONF_HOST: "192.168.1.7", CONF_PORT: 8765, CONF_TOKEN: "kept"},
        minor_version=2,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=ZEROCONF)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: "kept"}  # token untouched


async def test_zeroconf_without_id_is_ignored(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    anonymous = ZeroconfServiceInfo(
        ip_address=ZEROCONF.ip_address,
        ip_addresses=ZEROCONF.ip_addresses,
        hostname=ZEROCONF.hostname,
        name=ZEROCONF.name,
        port=8765,
        type=ZEROCONF.type,
        properties={},
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=anonymous)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_sidecar_id"


async def test_zeroconf_another_sidecar_answers(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=ZEROCONF)
    sidecar.sidecar_id = "ffffffffffffffffffffffffffffffff"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: LOG_TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_sidecar"


async def test_user_flow_then_discovery_of_same_sidecar_aborts(
    hass: HomeAssistant, sidecar: FakeHoldSlayerClient
) -> None:
    """Added by hand first (unique id from the welcome), then announced: no second offer."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: LOG_TOKEN}
    )
    assert result["result"].unique_id == SIDECAR_ID
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=ZEROCONF)
    assert result["reason"] == "already_configured"


PIN = ":".join(["AB"] * 32)


async def test_zeroconf_tls_sidecar_is_pinned(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    """A sidecar that says tls=1: the form shows its certificate fingerprint and the entry pins it."""
    sidecar.tls_fingerprint = PIN
    tls = ZeroconfServiceInfo(
        ip_address=ZEROCONF.ip_address,
        ip_addresses=ZEROCONF.ip_addresses,
        hostname=ZEROCONF.hostname,
        name=ZEROCONF.name,
        port=8765,
        type=ZEROCONF.type,
        properties={**ZEROCONF.properties, "tls": "1"},
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=tls)
    assert result["description_placeholders"]["fingerprint"] == PIN
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: LOG_TOKEN})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["tls_fingerprint"] == PIN


async def test_zeroconf_tls_sidecar_gone(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    sidecar.connect_error = HoldSlayerConnectionError("refused")
    tls = ZeroconfServiceInfo(
        ip_address=ZEROCONF.ip_address,
        ip_addresses=ZEROCONF.ip_addresses,
        hostname=ZEROCONF.hostname,
        name=ZEROCONF.name,
        port=8765,
        type=ZEROCONF.type,
        properties={**ZEROCONF.properties, "tls": "1"},
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_ZEROCONF}, data=tls)
    assert result["reason"] == "cannot_connect"


async def test_user_flow_shows_and_pins_certificate(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    sidecar.tls_fingerprint = PIN
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: LOG_TOKEN}
    )
    assert result["step_id"] == "tls_confirm"
    assert result["description_placeholders"] == {"fingerprint": PIN}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: LOG_TOKEN, "tls_fingerprint": PIN}


async def test_reconfigure_pins_the_new_certificate(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SIDECAR_ID,
        data={CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: LOG_TOKEN, "tls_fingerprint": "00" * 32},
        minor_version=2,
    )
    entry.add_to_hass(hass)
    sidecar.tls_fingerprint = PIN
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "192.168.1.40", CONF_PORT: 8765, CONF_TOKEN: LOG_TOKEN}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["tls_fingerprint"] == PIN


async def test_certificate_changed_is_named(hass: HomeAssistant, sidecar: FakeHoldSlayerClient) -> None:
    sidecar.connect_error = HoldSlayerCertificateError("not the pinned certificate")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=HASSIO)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "certificate_changed"}

"""Contract: wss:// with the certificate pinned at setup, against the REAL sidecar (real client, real flow)."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.const import CONF_TLS_FINGERPRINT, DOMAIN

from .conftest import RunningSidecar, start_sidecar, stop

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture
def tls_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Generator[tuple[RunningSidecar, str]]:
    """The real sidecar with TLS on (what binding off loopback does), still on 127.0.0.1 for the test."""
    monkeypatch.setenv("HOLD_SLAYER_TLS", "true")
    process, running = start_sidecar(tmp_path)
    pin = json.loads((tmp_path / "ready.json").read_text())["tls_fingerprint"]
    try:
        yield running, pin
    finally:
        stop(process)


async def test_user_flow_pins_the_real_certificate(
    hass: HomeAssistant, tls_sidecar: tuple[RunningSidecar, str]
) -> None:
    sidecar, pin = tls_sidecar
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: sidecar.host, CONF_PORT: sidecar.port, CONF_TOKEN: sidecar.token}
    )
    assert result["step_id"] == "tls_confirm"
    assert result["description_placeholders"] == {"fingerprint": pin}  # the one the sidecar logs
    assert pin in sidecar.log.read_text()

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data[CONF_TLS_FINGERPRINT] == pin
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.client.url.startswith("wss://")
    assert hass.states.get("binary_sensor.hold_slayer_connected").state == "on"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_another_certificate_is_refused(
    hass: HomeAssistant, tls_sidecar: tuple[RunningSidecar, str], caplog: pytest.LogCaptureFixture
) -> None:
    sidecar, _pin = tls_sidecar
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_HOST: sidecar.host,
            CONF_PORT: sidecar.port,
            CONF_TOKEN: sidecar.token,
            CONF_TLS_FINGERPRINT: ":".join(["00"] * 32),  # pinned to a certificate the sidecar does not have
        },
        minor_version=2,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "not the one pinned" in (entry.reason or "")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_plain_sidecar_on_loopback_needs_no_pin(hass: HomeAssistant, real_sidecar: RunningSidecar) -> None:
    """A sidecar on loopback speaks plain ws://: the flow finds no certificate and pins nothing."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: real_sidecar.host, CONF_PORT: real_sidecar.port, CONF_TOKEN: real_sidecar.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_TLS_FINGERPRINT not in result["data"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)

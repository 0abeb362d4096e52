"""Contract: the REAL add-on entry point announces a REAL sidecar, and the integration sets it up from that.

``python -m hold_slayer_sidecar.addon`` reads an options file, starts the sidecar and POSTs its discovery
message to a stand-in Supervisor on 127.0.0.1; the message goes into the hassio config flow unchanged, the
user confirms, and the real client connects with the token it carried. Then a migrated 1.1 entry
(unique id host:port) adopts the sidecar's id on its first real connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from homeassistant.config_entries import SOURCE_HASSIO, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.hold_slayer.const import DOMAIN

from .conftest import REPO, SIDECAR_PYTHON, stop

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("socket_enabled")]
SUPERVISOR_TOKEN = "contract-supervisor-token"


@pytest.fixture
async def supervisor() -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, Any]]]]:
    """A stand-in Supervisor that accepts one add-on's discovery messages."""
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=4)

    async def discovery(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {SUPERVISOR_TOKEN}"
        received.put_nowait(await request.json())
        return web.json_response({"result": "ok", "data": {"uuid": "5f1a"}})

    app = web.Application()
    app.router.add_post("/discovery", discovery)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", received
    await runner.cleanup()


@pytest.fixture
def addon(tmp_path: Path, supervisor: tuple[str, asyncio.Queue[dict[str, Any]]]) -> Any:
    """Run the add-on's entry point with a fresh install's options (on free ports)."""
    if not SIDECAR_PYTHON.exists():
        pytest.skip("sidecar environment missing: run scripts/setup")
    options = yaml.safe_load((REPO / "hold_slayer_addon" / "config.yaml").read_text())["options"]
    options.update(port=0)
    options["trunk"]["sip_port"] = 0
    options["voice"]["tts"] = "espeak"
    # The add-on's SIP faces the host's network; a test keeps it on loopback (advanced file: no edge needed).
    loopback_sip = tmp_path / "hold_slayer.yaml"
    loopback_sip.write_text("sip:\n  bind_host: 127.0.0.1\n", encoding="utf-8")
    (tmp_path / "options.json").write_text(json.dumps(options))
    log = (tmp_path / "addon.log").open("wb")
    process = subprocess.Popen(
        [str(SIDECAR_PYTHON), "-m", "hold_slayer_sidecar.addon", "--options", str(tmp_path / "options.json"),
         "--data-dir", str(tmp_path / "data"), "--extra-config", str(loopback_sip),
         "--supervisor-url", supervisor[0]],
        env={**os.environ, "SUPERVISOR_TOKEN": SUPERVISOR_TOKEN},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process
    stop(process)
    log.close()


async def test_addon_discovered_and_set_up(
    hass: HomeAssistant, addon: Any, supervisor: tuple[str, asyncio.Queue[dict[str, Any]]]
) -> None:
    message = await asyncio.wait_for(supervisor[1].get(), timeout=60)
    info = HassioServiceInfo(config=message["config"], name="Hold Slayer", slug="local_hold_slayer", uuid="5f1a")

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=info)
    assert result["step_id"] == "hassio_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.unique_id == message["config"]["sidecar_id"]
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.hold_slayer_connected").state == "on"

    # The add-on restarts and announces itself again: no second entry, no second offer.
    again = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=info)
    assert again["reason"] == "already_configured"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_old_entry_adopts_real_sidecar_id(
    hass: HomeAssistant, addon: Any, supervisor: tuple[str, asyncio.Queue[dict[str, Any]]]
) -> None:
    config = (await asyncio.wait_for(supervisor[1].get(), timeout=60))["config"]
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"host": config["host"], "port": config["port"], "token": config["token"]},
        unique_id=f"{config['host']}:{config['port']}",
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.minor_version, entry.unique_id) == (2, config["sidecar_id"])
    assert await hass.config_entries.async_unload(entry.entry_id)

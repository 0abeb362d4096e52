"""The Lovelace card is served by the integration and loaded on every frontend page."""

from __future__ import annotations

import re
from http import HTTPStatus

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.hold_slayer.frontend import CARD_PATH, CARD_URL


async def test_card_is_served_and_registered(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> None:
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, "hold_slayer", {})
    await hass.async_block_till_done()

    urls = hass.data[DATA_EXTRA_MODULE_URL].urls
    assert [url for url in urls if url.startswith(CARD_URL)] == [f"{CARD_URL}?v=0.1.0"]

    client = await hass_client()
    response = await client.get(CARD_URL)
    assert response.status == HTTPStatus.OK
    assert "javascript" in response.headers["Content-Type"]
    assert await response.text() == CARD_PATH.read_text()


async def test_headless_install_without_frontend(hass: HomeAssistant) -> None:
    """No frontend, no http (a headless install): the integration still sets up."""
    assert await async_setup_component(hass, "hold_slayer", {})
    assert "frontend" not in hass.config.components


def test_card_is_self_contained() -> None:
    """A plain web component: no imports, no CDN, registered in the card picker with a visual editor."""
    source = CARD_PATH.read_text()
    assert not re.search(r"^\s*import\s", source, re.MULTILINE)
    assert not re.search(r"https?://", source)
    assert 'customElements.define("hold-slayer-card", HoldSlayerCard)' in source
    assert 'customElements.define("hold-slayer-card-editor", HoldSlayerCardEditor)' in source
    assert "static getConfigElement()" in source
    assert 'type: "hold-slayer-card"' in source  # window.customCards entry

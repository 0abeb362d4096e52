"""Serve the hold-slayer-card Lovelace card from the integration (no HACS frontend repo needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

CARD_FILENAME: Final = "hold-slayer-card.js"
CARD_URL: Final = f"/hold_slayer/{CARD_FILENAME}"
CARD_PATH: Final = Path(__file__).parent / CARD_FILENAME
_REGISTERED: HassKey[bool] = HassKey("hold_slayer_card_registered")


async def async_register_card(hass: HomeAssistant, version: str) -> None:
    """Serve the card's JavaScript and load it on every frontend page (once per HA run)."""
    if hass.data.get(_REGISTERED):
        return
    hass.data[_REGISTERED] = True
    # cache_headers=True is safe: the version query string below changes with every release.
    await hass.http.async_register_static_paths([StaticPathConfig(CARD_URL, str(CARD_PATH), True)])
    if "frontend" in hass.config.components:
        # Imported here: the frontend integration is an after-dependency, absent on headless installs.
        from homeassistant.components.frontend import add_extra_js_url

        add_extra_js_url(hass, f"{CARD_URL}?v={version}")

"""Actions with responses about past calls: the history, one call, and a company's hold forecast."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import voluptuous as vol
from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .media_source import RECORDING_URL, SIGNED_FOR
from .protocol import CallOutcome
from .services import (
    ATTR_CALL_ID,
    ATTR_COMPANY,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_NUMBER,
    _coordinator,
    _resolve_entry,
    _run,
    find_company,
)

SERVICE_GET_HISTORY: Final = "get_history"
SERVICE_GET_CALL: Final = "get_call"
SERVICE_GET_FORECAST: Final = "get_forecast"
ATTR_OUTCOME: Final = "outcome"
ATTR_SINCE: Final = "since"
ATTR_UNTIL: Final = "until"
ATTR_LIMIT: Final = "limit"
ATTR_CURSOR: Final = "cursor"
OUTCOMES: Final = [*(outcome.value for outcome in CallOutcome), "interrupted"]

_TEXT = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=256))
_ENTRY: dict[vol.Marker, object] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
GET_HISTORY_SCHEMA: Final = vol.Schema(
    {
        **_ENTRY,
        vol.Optional(ATTR_COMPANY): _TEXT,
        vol.Optional(ATTR_NUMBER): _TEXT,
        vol.Optional(ATTR_OUTCOME): vol.In(OUTCOMES),
        vol.Optional(ATTR_SINCE): cv.datetime,
        vol.Optional(ATTR_UNTIL): cv.datetime,
        vol.Optional(ATTR_LIMIT, default=20): vol.All(vol.Coerce(int), vol.Range(min=1, max=200)),
        vol.Optional(ATTR_CURSOR): vol.All(cv.string, vol.Length(max=100)),
    }
)
GET_CALL_SCHEMA: Final = vol.Schema(
    {**_ENTRY, vol.Required(ATTR_CALL_ID): vol.All(cv.string, vol.Length(min=1, max=64))}
)
GET_FORECAST_SCHEMA: Final = vol.Schema({**_ENTRY, vol.Required(ATTR_COMPANY): _TEXT})


@callback
def async_setup_history_actions(hass: HomeAssistant) -> None:
    """Register the history actions (once, in ``async_setup``)."""
    for name, handler, schema in (
        (SERVICE_GET_HISTORY, _get_history, GET_HISTORY_SCHEMA),
        (SERVICE_GET_CALL, _get_call, GET_CALL_SCHEMA),
        (SERVICE_GET_FORECAST, _get_forecast, GET_FORECAST_SCHEMA),
    ):
        hass.services.async_register(DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.ONLY)


def _company_name(call: ServiceCall) -> str | None:
    """Return the company as the sidecar knows it: a configured company's title ("my bank" -> "Bank")."""
    spoken = call.data.get(ATTR_COMPANY)
    if spoken is None:
        return None
    found = find_company(_resolve_entry(call), spoken)
    return found.title if found else str(spoken)


def _iso(value: datetime | None) -> str | None:
    return (
        None
        if value is None
        else dt_util.as_utc(
            value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())
        ).isoformat()
    )


async def _get_history(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    return await _run(
        coordinator.client.get_history(
            call.data[ATTR_LIMIT],
            company=_company_name(call),
            number=call.data.get(ATTR_NUMBER),
            outcome=call.data.get(ATTR_OUTCOME),
            since=_iso(call.data.get(ATTR_SINCE)),
            until=_iso(call.data.get(ATTR_UNTIL)),
            cursor=call.data.get(ATTR_CURSOR),
        )
    )


async def _get_call(call: ServiceCall) -> ServiceResponse:
    entry = _resolve_entry(call)
    coordinator = _coordinator(entry)
    call_id = call.data[ATTR_CALL_ID]
    result: dict[str, Any] = await _run(coordinator.client.get_call(call_id))
    # A signed URL per recording lets a card or a notification play it without the user's token.
    if "http" in call.hass.config.components:
        for recording in result.get("recordings", []):
            path = RECORDING_URL.format(entry_id=entry.entry_id, call_id=call_id, name=recording["name"])
            recording["url"] = async_sign_path(call.hass, path, SIGNED_FOR)
            recording["media_content_id"] = (
                f"media-source://{DOMAIN}/{entry.entry_id}/rec/{call_id}/{recording['name']}"
            )
    return result


async def _get_forecast(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(_resolve_entry(call))
    company = _company_name(call) or ""
    return await _run(coordinator.client.get_forecast(company, str(call.hass.config.time_zone)))

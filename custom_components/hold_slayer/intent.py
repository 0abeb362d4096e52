"""Voice: the HoldSlayerCall intent ("call my bank about a card dispute").

Registered as an ``intent.IntentHandler`` with a description and a slot schema, so LLM conversation
agents get it as a tool through HA's Assist API; the built-in agent reaches the same service through
the conversation-sentence blueprint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import intent

from .const import CONF_ALIASES, DOMAIN, SUBENTRY_COMPANY

INTENT_CALL: Final = "HoldSlayerCall"
SERVICE_PLACE_CALL: Final = "place_call"
# Words people put in front of a company name that never belong to it ("call MY bank", "THE airline").
_FILLER: Final = re.compile(r"^(?:my|the|our)\s+")
_NOT_WORD: Final = re.compile(r"[^\w\s]")


@dataclass(frozen=True, slots=True)
class Company:
    """A configured company: its display name and the other names people use for it."""

    name: str
    aliases: tuple[str, ...]
    config_entry_id: str


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the Hold Slayer intents."""
    intent.async_register(hass, CallCompanyIntent())


def normalize(name: str) -> str:
    """Fold a spoken or typed company name for comparison ("My  Bank!" -> "bank")."""
    folded = " ".join(_NOT_WORD.sub(" ", name.casefold()).split())
    return _FILLER.sub("", folded)


def configured_companies(hass: HomeAssistant) -> list[Company]:
    """Every company subentry of every loaded Hold Slayer config entry."""
    companies: list[Company] = []
    entry: ConfigEntry[Any]
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is not ConfigEntryState.LOADED:
            continue
        for subentry in entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_COMPANY:
                continue
            name = str(subentry.data.get(CONF_NAME) or subentry.title)
            companies.append(Company(name, _aliases(subentry.data.get(CONF_ALIASES)), entry.entry_id))
    return companies


def _aliases(raw: object) -> tuple[str, ...]:
    # The config flow stores a list; accept a comma-separated string too, as typed in YAML.
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(raw, (list, tuple)):
        return tuple(str(part).strip() for part in raw if str(part).strip())
    return ()


def resolve_company(companies: list[Company], spoken: str) -> Company | None:
    """Find the company a person meant: exact name or alias first, then one unambiguous partial match."""
    wanted = normalize(spoken)
    if not wanted:
        return None
    for company in companies:
        if wanted in {normalize(company.name), *(normalize(alias) for alias in company.aliases)}:
            return company
    # "Northwind" for "Northwind Bank": accept a partial match only when exactly one company fits.
    partial = [
        company
        for company in companies
        if any(_contains_words(normalize(name), wanted) for name in (company.name, *company.aliases))
    ]
    return partial[0] if len(partial) == 1 else None


def _contains_words(name: str, wanted: str) -> bool:
    return f" {wanted} " in f" {name} "


def spoken_list(names: list[str]) -> str:
    """Join names the way people say them: "A", "A or B", "A, B or C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


class CallCompanyIntent(intent.IntentHandler):
    """Place a call to a configured company and ring the user when a live person answers."""

    intent_type = INTENT_CALL
    description = (
        "Calls a company (bank, airline, utility, insurer, ...) for the user with Hold Slayer: it dials, "
        "navigates the phone menu, waits on hold, and rings the user's phone when a live person answers. "
        "Use the company name or nickname exactly as the user said it (for example 'my bank'), and the reason "
        "for the call if the user gave one."
    )
    slot_schema = {
        vol.Required("company", description="Company name or nickname, e.g. 'Northwind Bank' or 'my bank'"): (
            intent.non_empty_string
        ),
        vol.Optional("reason", description="Why the user is calling, e.g. 'dispute a card charge'"): (
            intent.non_empty_string
        ),
    }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Resolve the company, place the call, and answer in one spoken sentence."""
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        spoken: str = slots["company"]["value"].strip()
        reason: str | None = slots.get("reason", {}).get("value")
        response = intent_obj.create_response()

        companies = configured_companies(hass)
        if not companies:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                "Hold Slayer has no companies set up yet. Add one in the Hold Slayer integration settings.",
            )
            return response
        company = resolve_company(companies, spoken)
        if company is None:
            known = spoken_list(sorted(c.name for c in companies))
            response.async_set_error(
                intent.IntentResponseErrorCode.NO_VALID_TARGETS,
                f"I don't know a company called {spoken}. I can call {known}.",
            )
            return response

        data: dict[str, Any] = {"company": company.name}
        if reason and reason.strip():
            data["reason"] = reason.strip()
        try:
            result = await hass.services.async_call(
                DOMAIN,
                SERVICE_PLACE_CALL,
                data,
                blocking=True,
                context=intent_obj.context,
                return_response=True,
            )
        except HomeAssistantError as err:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE, f"I couldn't call {company.name}: {err}"
            )
            return response

        call_id = result.get("call_id") if isinstance(result, dict) else None
        call_id = call_id if isinstance(call_id, str) else None
        response.async_set_speech(f"Calling {company.name}, I'll ring you when a person answers.")
        response.async_set_speech_slots({"company": company.name, "call_id": call_id})
        response.async_set_results(
            [intent.IntentResponseTarget(name=company.name, type=intent.IntentResponseTargetType.CUSTOM, id=call_id)]
        )
        return response

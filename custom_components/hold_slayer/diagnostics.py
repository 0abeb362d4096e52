"""Diagnostics for a Hold Slayer config entry, with the token and every phone number or SIP URI redacted."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from .const import CONF_NUMBER, CONF_TRANSFER_TO
from .coordinator import HoldSlayerConfigEntry

# Secrets, anything that identifies who the user calls or where their phone is, and what was keyed or said:
# touch-tones sent are account numbers and PINs, transcripts hold what people read out to agents.
TO_REDACT: Final = {
    CONF_TOKEN,
    CONF_NUMBER,
    CONF_TRANSFER_TO,
    "target",
    "user_phone",
    "recordings",
    "digits_sent",
    "transcript",
    # The inbound half: who calls the household, what they said, where the phones are, whom the rules single out.
    "caller",
    "caller_name",
    "dialled",
    "heard",
    "purpose",
    "address",
    "last_caller",
    "caller_pattern",
    "dialled_pattern",
    "reject_message",
    "recording",
}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> dict[str, Any]:
    """Return what a maintainer needs to debug a report: entry, companies, sidecar and calls."""
    coordinator = entry.runtime_data
    state = coordinator.state
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "companies": [
            {
                "subentry_type": subentry.subentry_type,
                "title": subentry.title,
                "data": async_redact_data(dict(subentry.data), TO_REDACT),
            }
            for subentry in entry.subentries.values()
        ],
        "sidecar": {
            "connected": state.connected,
            "version": state.sidecar_version,
            "info": state.sidecar,
            "url": coordinator.client.url,
        },
        "inbound": {
            "supported": state.inbound.supported,
            "global_dnd": state.inbound.global_dnd,
            "devices": [async_redact_data(dict(device), TO_REDACT) for device in state.inbound.devices.values()],
            "rules": [async_redact_data(dict(rule), TO_REDACT) for rule in state.inbound.rules.values()],
            "calls": [async_redact_data(dict(call), TO_REDACT) for call in state.inbound.calls.values()],
            "unheard_voicemails": state.inbound.unheard_voicemails,
            "voicemails_kept": len(state.inbound.voicemails),  # the messages themselves are nobody else's business
        },
        # Transcripts are left out on purpose: people read account numbers and addresses to agents.
        "calls": [
            {**async_redact_data(dict(call), TO_REDACT), "transcript_lines": len(state.transcript(call_id))}
            for call_id, call in state.calls.items()
        ],
    }

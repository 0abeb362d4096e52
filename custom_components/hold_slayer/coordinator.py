"""Push coordinator: owns the sidecar connection and turns its events into state and bus events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .ai_summary import awaits_ai_task
from .client import (
    HoldSlayerAuthenticationError,
    HoldSlayerClient,
    HoldSlayerConnectionError,
    HoldSlayerError,
    HoldSlayerVersionError,
    SidecarEvent,
    Welcome,
)
from .const import (
    CONF_TLS_FINGERPRINT,
    DOMAIN,
    EVENT_CALL_FAILED,
    EVENT_PREFIX,
    ISSUE_INCOMPATIBLE,
    ISSUE_UNREACHABLE,
    LOGGER,
    UNREACHABLE_ISSUE_AFTER,
)
from .inbound_model import RECENT_VOICEMAILS, InboundApplied
from .model import AppliedEvent, HoldSlayerData
from .protocol import PROTOCOL_VERSION, CallInfo, EventType

if TYPE_CHECKING:
    from .history import HoldStatisticsCoordinator

type HoldSlayerConfigEntry = ConfigEntry[HoldSlayerCoordinator]
MilestoneListener = Callable[[str, CallInfo], None]
# Subentry id -> (subentry type, the sidecar's device or rule id, title): what the entities were built from.
type InboundSubentries = dict[str, tuple[str, str, str]]
# When each entry's sidecar was first found down while HA set the entry up. Outlives the coordinator,
# which HA builds afresh on every setup retry.
DATA_DOWN_SINCE: HassKey[dict[str, datetime]] = HassKey(f"{DOMAIN}_down_since")


def voicemail_media_id(entry_id: str, voicemail_id: str) -> str:
    """Return the media-source id that plays one voicemail (see media_source.py)."""
    return f"media-source://{DOMAIN}/{entry_id}/voicemail/{voicemail_id}"


def issue_id(kind: str, entry_id: str) -> str:
    """Return the repair issue id of one kind for one config entry."""
    return f"{kind}_{entry_id}"


@callback
def async_create_unreachable_issue(hass: HomeAssistant, entry_id: str, url: str) -> None:
    """Raise the "sidecar unreachable" repair (no fix flow: the fix is to start the sidecar)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(ISSUE_UNREACHABLE, entry_id),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_UNREACHABLE,
        translation_placeholders={"url": url, "minutes": str(int(UNREACHABLE_ISSUE_AFTER.total_seconds() // 60))},
    )


@callback
def async_sidecar_down_at_setup(hass: HomeAssistant, entry: ConfigEntry[Any], url: str) -> None:
    """Note a setup that found no sidecar; raise the repair once it has been down that long.

    HA retries a not-ready entry with a backoff capped at 80 s, so the repair appears at most one retry
    after the threshold; the first successful connection clears it (``HoldSlayerCoordinator._on_connected``).
    """
    since = hass.data.setdefault(DATA_DOWN_SINCE, {}).setdefault(entry.entry_id, dt_util.utcnow())
    if dt_util.utcnow() - since >= UNREACHABLE_ISSUE_AFTER:
        async_create_unreachable_issue(hass, entry.entry_id, url)


@callback
def async_forget_entry(hass: HomeAssistant, entry_id: str) -> None:
    """Drop an entry's repairs and down-since mark (the entry is being removed)."""
    hass.data.get(DATA_DOWN_SINCE, {}).pop(entry_id, None)
    for kind in (ISSUE_UNREACHABLE, ISSUE_INCOMPATIBLE):
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry_id))


class HoldSlayerCoordinator(DataUpdateCoordinator[HoldSlayerData]):
    """Keep one connection to the sidecar and fold its pushes into ``HoldSlayerData``."""

    config_entry: HoldSlayerConfigEntry

    def __init__(self, hass: HomeAssistant, entry: HoldSlayerConfigEntry, client: HoldSlayerClient) -> None:
        """Wire the client; nothing connects until the first refresh."""
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=None, always_update=True)
        self.client = client
        self.state = HoldSlayerData()
        self._milestone_listeners: list[MilestoneListener] = []
        self._unreachable_timer: CALLBACK_TYPE | None = None
        self._reauth_started = False
        self._last_seq: int | None = None
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False
        self._logged_lost = False  # HA's log-when-unavailable rule: log the loss once, and the return once
        self.statistics: HoldStatisticsCoordinator | None = None  # set up beside it (history.py)
        self.inbound_subentries: InboundSubentries = {}  # set by inbound_sync.async_adopt at setup
        self._subentry_listeners: list[Callable[[ConfigSubentry], None]] = []
        entry.async_on_unload(client.subscribe_events(self._handle_event))
        entry.async_on_unload(self._cancel_unreachable_timer)

    @classmethod
    def from_entry(cls, hass: HomeAssistant, entry: HoldSlayerConfigEntry) -> HoldSlayerCoordinator:
        """Build the client from the entry's data and wrap it."""
        client = HoldSlayerClient(
            entry.data[CONF_HOST],
            entry.data[CONF_PORT],
            entry.data[CONF_TOKEN],
            async_get_clientsession(hass),
            tls_fingerprint=entry.data.get(CONF_TLS_FINGERPRINT),
        )
        return cls(hass, entry, client)

    @property
    def device_id(self) -> str | None:
        """Return the device registry id of the sidecar device (for events and triggers)."""
        device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, self.config_entry.entry_id)})
        return device.id if device else None

    # -- connection ----------------------------------------------------------------------------

    async def _async_update_data(self) -> HoldSlayerData:
        """Connect (first refresh) or resync from a fresh snapshot."""
        if self._listener is not None and not self.client.connected:
            # Once started, the listener alone reconnects: a second connect here would race it.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": "reconnecting"},
            )
        try:
            if self.client.connected:
                self.state.apply_snapshot(await self.client.get_snapshot())
            else:
                self._on_connected(await self.client.connect(), notify=False)
            await self._async_load_inbound()
        except HoldSlayerAuthenticationError as err:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth") from err
        except HoldSlayerVersionError as err:
            self._create_incompatible_issue(err)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="incompatible_version",
                translation_placeholders={"error": str(err)},
            ) from err
        except HoldSlayerError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        return self.state

    @callback
    def async_start(self) -> None:
        """Start the long-lived listener; the config entry also cancels it on unload."""
        self._listener = self.config_entry.async_create_background_task(
            self.hass,
            self.client.listen(on_connected=self._on_connected, on_disconnected=self._on_disconnected),
            f"{DOMAIN}-listen-{self.config_entry.entry_id}",
        )

    async def async_stop(self) -> None:
        """Stop the listener first (so it cannot reconnect), then close the connection."""
        self._stopping = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self.client.disconnect()
        self._cancel_unreachable_timer()

    @property
    def sidecar_unreachable(self) -> bool:
        """Return True when the last connection attempt found no sidecar (not a refusal)."""
        cause = self.last_exception.__cause__ if self.last_exception is not None else None
        return isinstance(cause, HoldSlayerConnectionError)

    @callback
    def _on_connected(self, welcome: Welcome, *, notify: bool = True) -> None:
        self.logger.debug("Connected to Hold Slayer sidecar %s", welcome.sidecar_version)
        if self._logged_lost:
            self._logged_lost = False
            self.logger.info("Connection to the Hold Slayer sidecar at %s is back", self.client.url)
        self._cancel_unreachable_timer()
        self._reauth_started = False
        self._last_seq = None
        self.hass.data.get(DATA_DOWN_SINCE, {}).pop(self.config_entry.entry_id, None)
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_UNREACHABLE))
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_INCOMPATIBLE))
        self._adopt_sidecar_id(welcome.sidecar_id)
        self.state.connected = True
        if self.state.sidecar_version not in (None, welcome.sidecar_version):
            self._update_device_version(welcome.sidecar_version)
        self.state.sidecar_version = welcome.sidecar_version
        self.state.apply_snapshot(welcome.snapshot)
        if notify:
            self.async_set_updated_data(self.state)
            self.config_entry.async_create_task(self.hass, self._async_reload_inbound(), "hold_slayer-inbound")

    async def _async_load_inbound(self) -> None:
        """Read the rules and recent voicemails, which the snapshot does not carry (lists that can be long)."""
        if not self.state.inbound.supported:
            return
        try:
            self.state.inbound.set_rules(await self.client.list_rules())
            self.state.inbound.set_voicemails(await self.client.list_voicemails(RECENT_VOICEMAILS))
        except HoldSlayerError as err:
            # The call entities work without them; the next reconnect or event reads them again.
            self.logger.warning("Could not read the routing rules and voicemails: %s", err)

    async def _async_reload_inbound(self) -> None:
        await self._async_load_inbound()
        self.async_set_updated_data(self.state)

    def _adopt_sidecar_id(self, sidecar_id: str | None) -> None:
        """Make the sidecar's persistent id the entry's unique id (entries from before 1.2 used host:port)."""
        entry = self.config_entry
        if not sidecar_id or entry.unique_id == sidecar_id:
            return
        if self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, sidecar_id) is not None:
            self.logger.warning("Sidecar %s is configured twice; remove one of its entries", sidecar_id)
            return
        self.hass.config_entries.async_update_entry(entry, unique_id=sidecar_id)

    def _update_device_version(self, version: str) -> None:
        """Show the new version on the device after the sidecar was upgraded while we were away."""
        registry = dr.async_get(self.hass)
        if device := registry.async_get_device(identifiers={(DOMAIN, self.config_entry.entry_id)}):
            registry.async_update_device(device.id, sw_version=version)

    @callback
    def _on_disconnected(self, err: HoldSlayerError) -> None:
        if self._stopping:
            return
        was_connected = self.state.connected
        self.state.connected = False
        if isinstance(err, HoldSlayerAuthenticationError) and not self._reauth_started:
            self._reauth_started = True
            self.config_entry.async_start_reauth(self.hass)
        elif isinstance(err, HoldSlayerVersionError):
            self._create_incompatible_issue(err)
        if self._unreachable_timer is None:
            self._unreachable_timer = async_call_later(
                self.hass, UNREACHABLE_ISSUE_AFTER, self._create_unreachable_issue
            )
        if was_connected and not self._logged_lost:
            self._logged_lost = True
            self.logger.info("Lost connection to the Hold Slayer sidecar at %s: %s", self.client.url, err)
        # Entities turn unavailable while the sidecar is away (the connected sensor stays available).
        self.last_update_success = False
        self.async_update_listeners()

    # -- events --------------------------------------------------------------------------------

    @callback
    def _handle_event(self, event: SidecarEvent) -> None:
        if self._last_seq is not None and event.seq > self._last_seq + 1:
            # Lost events (should not happen on one TCP stream): the snapshot tells the truth.
            self.logger.debug("Event gap %s -> %s, resyncing", self._last_seq, event.seq)
            self.hass.async_create_task(self.async_request_refresh())
        self._last_seq = event.seq
        applied = self.state.apply_event(event)
        self._fire_bus_events(event, applied)
        if self.data is not None:
            self.async_set_updated_data(self.state)
        if applied.call is not None:
            for milestone in applied.milestones:
                for listener in list(self._milestone_listeners):
                    listener(milestone, applied.call)

    def fire_summary_event(self, event: SidecarEvent) -> None:
        """Announce a summary that was held back for the AI Task entity, which could not replace it."""
        self._fire_bus_events(event, AppliedEvent(call=self.state.calls.get(str(event.data.get("call_id")))), True)

    def _fire_bus_events(self, event: SidecarEvent, applied: AppliedEvent, held_back: bool = False) -> None:
        if (
            not held_back
            and event.name == EventType.CALL_SUMMARY
            and awaits_ai_task(self.config_entry.options, event.data)
        ):
            return  # the AI Task entity's summary follows (or this one, if it fails): one event per call
        if applied.inbound is not None:
            self._fire_inbound_event(applied.inbound)
            return
        data: dict[str, Any] = {}
        if applied.call is not None:
            data = {
                "call_id": applied.call["call_id"],
                "company": applied.call.get("company"),
                "target": applied.call.get("target"),
            }
        data.update(event.data)
        data["config_entry_id"] = self.config_entry.entry_id
        data["device_id"] = self.device_id
        self.hass.bus.async_fire(f"{EVENT_PREFIX}{event.name}", data)
        if EVENT_CALL_FAILED in applied.milestones:
            self.hass.bus.async_fire(f"{EVENT_PREFIX}{EVENT_CALL_FAILED}", data)

    def _fire_inbound_event(self, applied: InboundApplied) -> None:
        if applied.bus_event is None:
            return
        data = dict(applied.payload)
        devices = self.state.inbound.devices
        if answered_by := data.get("answered_by"):
            data["answered_by_name"] = devices[answered_by]["name"] if answered_by in devices else None
        if "ringing_devices" in data:
            data["ringing_device_names"] = [devices[d]["name"] for d in data["ringing_devices"] if d in devices]
        if applied.bus_event == "voicemail":
            data["media_content_id"] = voicemail_media_id(self.config_entry.entry_id, data["voicemail_id"])
        data["config_entry_id"] = self.config_entry.entry_id
        data["device_id"] = self.device_id
        self.hass.bus.async_fire(f"{EVENT_PREFIX}{applied.bus_event}", data)

    @callback
    def async_add_subentry_listener(self, listener: Callable[[ConfigSubentry], None]) -> CALLBACK_TYPE:
        """Call ``listener(subentry)`` for each device or rule subentry added while loaded; return an unsubscriber."""
        self._subentry_listeners.append(listener)

        @callback
        def remove() -> None:
            self._subentry_listeners.remove(listener)

        return remove

    @callback
    def async_subentry_added(self, subentry: ConfigSubentry) -> None:
        """Let each platform add the entities of a new device or rule (no reload: the connection stays up)."""
        for listener in list(self._subentry_listeners):
            listener(subentry)

    @callback
    def async_add_milestone_listener(self, listener: MilestoneListener) -> CALLBACK_TYPE:
        """Call ``listener(milestone, call)`` whenever a call reaches a milestone; return an unsubscriber."""
        self._milestone_listeners.append(listener)

        @callback
        def remove() -> None:
            self._milestone_listeners.remove(listener)

        return remove

    # -- repairs -------------------------------------------------------------------------------

    def _issue_id(self, kind: str) -> str:
        return issue_id(kind, self.config_entry.entry_id)

    @callback
    def _cancel_unreachable_timer(self) -> None:
        if self._unreachable_timer is not None:
            self._unreachable_timer()
            self._unreachable_timer = None

    @callback
    def _create_unreachable_issue(self, _now: datetime) -> None:
        self._unreachable_timer = None
        if self.state.connected:
            return
        async_create_unreachable_issue(self.hass, self.config_entry.entry_id, self.client.url)

    @callback
    def _create_incompatible_issue(self, err: HoldSlayerVersionError) -> None:
        server = str(err.server_protocol) if err.server_protocol is not None else "unknown"
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(ISSUE_INCOMPATIBLE),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_INCOMPATIBLE,
            translation_placeholders={"server": server, "client": str(PROTOCOL_VERSION)},
        )

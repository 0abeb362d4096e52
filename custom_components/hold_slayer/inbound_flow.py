"""Subentry flows of the inbound half: the devices calls ring on, and the routing rules that decide first.

The sidecar stores devices and rules; a form is checked here for a clear message at the field, then saved
on the sidecar, whose own refusal (``invalid_data``) is shown on the form too. A registered phone's digest
credentials are made by the sidecar and shown once, in the flow's last step, and never stored in HA.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .client import HoldSlayerCommandError, HoldSlayerError
from .const import (
    CONF_ADDRESS,
    CONF_DEVICE_ID,
    CONF_KIND,
    CONF_PRIORITY,
    CONF_RESET_CREDENTIALS,
    CONF_RING_TIMEOUT,
    CONF_RULE_ID,
    DEFAULT_PRIORITY,
    DEFAULT_RING_TIMEOUT,
    SUBENTRY_DEVICE,
    SUBENTRY_RULE,
)
from .coordinator import HoldSlayerCoordinator
from .inbound_validation import DAYS, MAX_RING_TIMEOUT, MIN_RING_TIMEOUT, clean_device, clean_rule, time_zones
from .protocol import DeviceData, DeviceKind, RoutingRule, RuleAction

_TEXT = TextSelector()
_PRIORITY = NumberSelector(NumberSelectorConfig(min=0, max=1000, step=1, mode=NumberSelectorMode.BOX))
KNOWN_CONTACT: Final = ("anyone", "contacts", "strangers")
# Stored in the subentry beside the ids: what the form shows when it is opened again.
RULE_FIELDS: Final = (
    "name",
    "enabled",
    "priority",
    "action",
    "device_id",
    "caller_pattern",
    "dialled_pattern",
    "time_start",
    "time_end",
    "days",
    "time_zone",
    "known_contact",
    "reject_code",
    "reject_message",
)


def _select(options: list[str] | list[SelectOptionDict], key: str | None, *, multiple: bool = False) -> SelectSelector:
    config = SelectSelectorConfig(options=options, multiple=multiple, mode=SelectSelectorMode.DROPDOWN, sort=False)
    if key is not None:
        config["translation_key"] = key
    return SelectSelector(config)


def _device_schema(*, editing: DeviceKind | None) -> vol.Schema:
    fields: dict[vol.Marker, Any] = {vol.Required("name"): _TEXT}
    if editing is None:
        fields[vol.Required(CONF_KIND, default=DeviceKind.SIP_URI.value)] = _select(
            [k.value for k in DeviceKind], "kind"
        )
    if editing != DeviceKind.REGISTERED:
        fields[vol.Optional(CONF_ADDRESS)] = _TEXT
    fields[vol.Required(CONF_PRIORITY, default=DEFAULT_PRIORITY)] = _PRIORITY
    fields[vol.Required(CONF_RING_TIMEOUT, default=DEFAULT_RING_TIMEOUT)] = NumberSelector(
        NumberSelectorConfig(
            min=MIN_RING_TIMEOUT, max=MAX_RING_TIMEOUT, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
        )
    )
    if editing == DeviceKind.REGISTERED:
        fields[vol.Optional(CONF_RESET_CREDENTIALS, default=False)] = BooleanSelector()
    return vol.Schema(fields)


class _SidecarFlow(ConfigSubentryFlow):
    """Shared plumbing: reach the sidecar of the entry, map its refusals to form errors."""

    def _coordinator(self) -> HoldSlayerCoordinator | None:
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED or not entry.runtime_data.client.connected:
            return None
        coordinator: HoldSlayerCoordinator = entry.runtime_data
        return coordinator

    @staticmethod
    def _sidecar_error(err: HoldSlayerError, placeholders: dict[str, str]) -> dict[str, str]:
        if isinstance(err, HoldSlayerCommandError):  # the sidecar answered: its words say what to change
            placeholders["error"] = err.message
            return {"base": "sidecar_refused"}
        return {"base": "cannot_connect"}

    def _names_taken(self, subentry_type: str, current_id: str | None) -> set[str]:
        return {
            sub.title.casefold()
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == subentry_type and sub.subentry_id != current_id
        }


class DeviceSubentryFlow(_SidecarFlow):
    """Add or edit a device calls ring on."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a device."""
        return await self._async_step_device("user", user_input, None)

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Edit a device (its kind stays: a registered phone and a number are different things)."""
        return await self._async_step_device("reconfigure", user_input, self._get_reconfigure_subentry().subentry_id)

    async def _async_step_device(
        self, step_id: str, user_input: dict[str, Any] | None, current_id: str | None
    ) -> SubentryFlowResult:
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="not_connected")
        current = self._get_entry().subentries[current_id] if current_id else None
        kind = DeviceKind(current.data[CONF_KIND]) if current else None
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"error": ""}
        if user_input is not None:
            device, errors = clean_device(user_input, kind=kind)
            if not errors and device["name"].casefold() in self._names_taken(SUBENTRY_DEVICE, current_id):
                errors["name"] = "name_in_use"
            if not errors:
                if current is not None:
                    device["device_id"] = str(current.data[CONF_DEVICE_ID])
                    device["reset_credentials"] = user_input.get(CONF_RESET_CREDENTIALS) is True
                try:
                    result = await coordinator.client.save_device(device)
                except HoldSlayerError as err:
                    errors = self._sidecar_error(err, placeholders)
                else:
                    return self._finish(device, result, current_id)
        suggested = user_input if user_input is not None else (dict(current.data) if current else None)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(_device_schema(editing=kind), suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _finish(self, device: DeviceData, result: dict[str, Any], current_id: str | None) -> SubentryFlowResult:
        found = result.get("device")
        saved: dict[str, Any] = found if isinstance(found, dict) else {}
        device_id = str(saved.get("device_id") or device.get("device_id") or "")
        data = {
            CONF_DEVICE_ID: device_id,
            "name": device["name"],
            CONF_KIND: device["kind"],
            CONF_ADDRESS: str(saved.get("address") or device.get("address") or ""),
            CONF_PRIORITY: device.get("priority", DEFAULT_PRIORITY),
            CONF_RING_TIMEOUT: device.get("ring_timeout_s", DEFAULT_RING_TIMEOUT),
        }
        credentials = result.get("credentials")
        shown = (
            {key: str(credentials.get(key, "")) for key in ("username", "password", "domain", "registrar")}
            if isinstance(credentials, dict)
            else None
        )
        if current_id is not None:
            entry, subentry = self._get_entry(), self._get_reconfigure_subentry()
            self.hass.config_entries.async_update_subentry(
                entry, subentry, title=device["name"], data=data, unique_id=device_id
            )
            if shown:  # a new password was asked for: show it once, like at creation
                return self.async_abort(reason="credentials_reset", description_placeholders=shown)
            return self.async_abort(reason="reconfigure_successful")
        if shown:
            return self.async_create_entry(
                title=device["name"],
                data=data,
                unique_id=device_id,
                description="registered",
                description_placeholders=shown,
            )
        return self.async_create_entry(title=device["name"], data=data, unique_id=device_id)


class RuleSubentryFlow(_SidecarFlow):
    """Add or edit a routing rule."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a routing rule."""
        return await self._async_step_rule("user", user_input, None)

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Edit a routing rule."""
        return await self._async_step_rule("reconfigure", user_input, self._get_reconfigure_subentry().subentry_id)

    def _devices(self) -> dict[str, str]:
        return {
            str(sub.data[CONF_DEVICE_ID]): sub.title
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_DEVICE
        }

    def _schema(self) -> vol.Schema:
        devices = [SelectOptionDict(value=key, label=title) for key, title in self._devices().items()]
        return vol.Schema(
            {
                vol.Required("name"): _TEXT,
                vol.Required("enabled", default=True): BooleanSelector(),
                vol.Required(CONF_PRIORITY, default=DEFAULT_PRIORITY): _PRIORITY,
                vol.Required("action", default=RuleAction.RECEPTIONIST.value): _select(
                    [a.value for a in RuleAction], "action"
                ),
                vol.Optional(CONF_DEVICE_ID): _select(devices, None),
                vol.Optional("caller_pattern"): _TEXT,
                vol.Optional("dialled_pattern"): _TEXT,
                vol.Optional("time_start"): _TEXT,
                vol.Optional("time_end"): _TEXT,
                vol.Optional("days"): _select(list(DAYS), "days", multiple=True),
                vol.Optional("time_zone", default=str(self.hass.config.time_zone)): _select(list(time_zones()), None),
                vol.Required("known_contact", default="anyone"): _select(list(KNOWN_CONTACT), "known_contact"),
                vol.Optional("reject_code"): NumberSelector(
                    NumberSelectorConfig(min=400, max=699, step=1, mode=NumberSelectorMode.BOX)
                ),
                vol.Optional("reject_message"): _TEXT,
            }
        )

    async def _async_step_rule(
        self, step_id: str, user_input: dict[str, Any] | None, current_id: str | None
    ) -> SubentryFlowResult:
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="not_connected")
        current = self._get_entry().subentries[current_id] if current_id else None
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"error": ""}
        if user_input is not None:
            rule, errors = clean_rule(user_input, set(self._devices()))
            if not errors and rule["name"].casefold() in self._names_taken(SUBENTRY_RULE, current_id):
                errors["name"] = "name_in_use"
            if not errors:
                if current is not None:
                    rule["rule_id"] = str(current.data[CONF_RULE_ID])
                try:
                    stored = await coordinator.client.save_rule(rule)
                except HoldSlayerError as err:
                    errors = self._sidecar_error(err, placeholders)
                else:
                    coordinator.state.inbound.rules[str(stored.get("rule_id"))] = stored
                    return self._finish(rule, stored, current_id)
        suggested = user_input if user_input is not None else (rule_form_values(current.data) if current else None)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(self._schema(), suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _finish(self, rule: RoutingRule, stored: RoutingRule, current_id: str | None) -> SubentryFlowResult:
        rule_id = str(stored.get("rule_id") or rule.get("rule_id") or "")
        data = rule_subentry_data({**rule, **stored, "rule_id": rule_id})
        if current_id is not None:
            return self.async_update_and_abort(
                self._get_entry(), self._get_reconfigure_subentry(), title=rule["name"], data=data, unique_id=rule_id
            )
        return self.async_create_entry(title=rule["name"], data=data, unique_id=rule_id)


def rule_subentry_data(rule: RoutingRule | dict[str, Any]) -> dict[str, Any]:
    """Return what a rule subentry stores: the sidecar's rule id and the rule's fields."""
    values: dict[str, Any] = dict(rule)
    return {CONF_RULE_ID: values.get("rule_id"), **{key: values.get(key) for key in RULE_FIELDS}}


def rule_form_values(data: Any) -> dict[str, Any]:
    """Return a stored rule as the form's suggested values (None left out; known_contact as its word)."""
    values = {key: value for key, value in dict(data).items() if value is not None and key in RULE_FIELDS}
    known = dict(data).get("known_contact")
    values["known_contact"] = "contacts" if known is True else "strangers" if known is False else "anyone"
    return values

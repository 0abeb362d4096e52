"""Config flow: connect to a sidecar, add the companies the user calls, and choose where to ring the user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .client import (
    HoldSlayerAuthenticationError,
    HoldSlayerClient,
    HoldSlayerConnectionError,
    HoldSlayerVersionError,
    Welcome,
)
from .const import (
    CONF_ALIASES,
    CONF_CALL_FLOW,
    CONF_NUMBER,
    CONF_REASON,
    CONF_TODO_ENTITY,
    CONF_TRANSFER_TO,
    DEFAULT_HOST,
    DEFAULT_NAME,
    DOMAIN,
    LOGGER,
    SUBENTRY_COMPANY,
)
from .dialplan import DialPolicyError, check_target
from .protocol import DEFAULT_PORT, MIN_TOKEN_LENGTH

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_TEXT = TextSelector()

USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST, default=DEFAULT_HOST): _TEXT,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_TOKEN): _PASSWORD,
    }
)
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_TOKEN): _PASSWORD})
COMPANY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): _TEXT,
        vol.Required(CONF_NUMBER): _TEXT,
        vol.Optional(CONF_ALIASES): TextSelector(TextSelectorConfig(multiple=True)),
        vol.Optional(CONF_REASON): _TEXT,
        vol.Optional(CONF_CALL_FLOW): _TEXT,
        vol.Optional(CONF_TRANSFER_TO): _TEXT,
    }
)


async def _handshake(flow: ConfigFlow, host: str, port: int, token: str) -> tuple[Welcome | None, dict[str, str]]:
    """Connect once for real and return the welcome, or the form errors."""
    if len(token) < MIN_TOKEN_LENGTH:  # the sidecar refuses to run with one: no need to ask it
        return None, {CONF_TOKEN: "token_too_short"}
    client = HoldSlayerClient(host, port, token, async_get_clientsession(flow.hass))
    try:
        welcome = await client.connect()
    except HoldSlayerAuthenticationError:
        return None, {"base": "invalid_auth"}
    except HoldSlayerVersionError:
        return None, {"base": "incompatible_version"}
    except HoldSlayerConnectionError:
        return None, {"base": "cannot_connect"}
    except Exception:
        LOGGER.exception("Unexpected error talking to the Hold Slayer sidecar")
        return None, {"base": "unknown"}
    finally:
        await client.disconnect()
    return welcome, {}


def _unique_id(welcome: Welcome, host: str, port: int) -> str:
    """Prefer the sidecar's own id; fall back to where it listens."""
    return welcome.sidecar_id or f"{host}:{port}"


def _target_error(value: str | None) -> str | None:
    """Return the form error for a number or SIP URI, or None when it is fine."""
    if not value:
        return None
    try:
        check_target(value)
    except DialPolicyError as err:
        return err.code  # "emergency_number" or "invalid_target", both in strings.json
    return None


def normalize_target(value: str) -> str:
    """Return the target in the policy's normalised form (numbers without separators); a refused one as typed."""
    try:
        return check_target(value).value
    except DialPolicyError:
        return value.strip()  # only reached with a form error already set: nothing is stored


class HoldSlayerConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a connection to a Hold Slayer sidecar."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> HoldSlayerOptionsFlow:
        """Return the options flow (default transfer target)."""
        return HoldSlayerOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(cls, config_entry: ConfigEntry) -> dict[str, type[ConfigSubentryFlow]]:
        """Companies are subentries of the sidecar entry."""
        return {SUBENTRY_COMPANY: CompanySubentryFlow}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask where the sidecar listens and its token, and prove both with a real handshake."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
            welcome, errors = await _handshake(self, host, port, user_input[CONF_TOKEN])
            if welcome is not None:
                await self.async_set_unique_id(_unique_id(welcome, host, port))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=DEFAULT_NAME,
                    data={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: user_input[CONF_TOKEN]},
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change host, port or token of an existing sidecar."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
            welcome, errors = await _handshake(self, host, port, user_input[CONF_TOKEN])
            if welcome is not None:
                unique_id = _unique_id(welcome, host, port)
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    data_updates={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: user_input[CONF_TOKEN]},
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input or dict(entry.data)),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication after the sidecar refused our token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the new token."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            welcome, errors = await _handshake(
                self, entry.data[CONF_HOST], entry.data[CONF_PORT], user_input[CONF_TOKEN]
            )
            if welcome is not None:
                return self.async_update_reload_and_abort(entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]})
        return self.async_show_form(step_id="reauth_confirm", data_schema=REAUTH_SCHEMA, errors=errors)


class HoldSlayerOptionsFlow(OptionsFlow):
    """Where to ring the user when a person answers."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the default transfer target."""
        errors: dict[str, str] = {}
        if user_input is not None:
            target = user_input.get(CONF_TRANSFER_TO, "").strip()
            if error := _target_error(target):
                errors[CONF_TRANSFER_TO] = error
            else:
                options = {CONF_TRANSFER_TO: normalize_target(target)} if target else {}
                if todo := user_input.get(CONF_TODO_ENTITY):
                    options[CONF_TODO_ENTITY] = todo
                return self.async_create_entry(data=options)
        schema = vol.Schema(
            {
                vol.Optional(CONF_TRANSFER_TO): _TEXT,
                vol.Optional(CONF_TODO_ENTITY): EntitySelector(EntitySelectorConfig(domain="todo")),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or dict(self.config_entry.options)),
            errors=errors,
        )


class CompanySubentryFlow(ConfigSubentryFlow):
    """Add or edit a company the user calls."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a company."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, current_id=None)
            if not errors:
                return self.async_create_entry(title=data[CONF_NAME], data=data, unique_id=data[CONF_NAME].casefold())
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(COMPANY_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Edit a company."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input, current_id=subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=data[CONF_NAME],
                    data=data,
                    unique_id=data[CONF_NAME].casefold(),
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(COMPANY_SCHEMA, user_input or dict(subentry.data)),
            errors=errors,
        )

    def _validate(self, user_input: dict[str, Any], current_id: str | None) -> tuple[dict[str, Any], dict[str, str]]:
        """Clean the input; return the data to store and the form errors."""
        errors: dict[str, str] = {}
        name = user_input[CONF_NAME].strip()
        aliases = sorted({alias.strip() for alias in user_input.get(CONF_ALIASES) or [] if alias.strip()})
        taken = {
            key.casefold()
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_COMPANY and sub.subentry_id != current_id
            for key in (sub.title, *sub.data.get(CONF_ALIASES, []))
        }
        if not name:
            errors[CONF_NAME] = "invalid_name"
        elif {name.casefold(), *(alias.casefold() for alias in aliases)} & taken:
            errors[CONF_NAME] = "name_in_use"
        number = user_input[CONF_NUMBER].strip()
        if error := _target_error(number) if number else "invalid_target":
            errors[CONF_NUMBER] = error
        if error := _target_error(user_input.get(CONF_TRANSFER_TO)):
            errors[CONF_TRANSFER_TO] = error
        data: dict[str, Any] = {
            CONF_NAME: name,
            CONF_NUMBER: normalize_target(number),
            CONF_ALIASES: aliases,
        }
        for key in (CONF_REASON, CONF_CALL_FLOW, CONF_TRANSFER_TO):
            if value := (user_input.get(key) or "").strip():
                data[key] = normalize_target(value) if key == CONF_TRANSFER_TO else value
        return data, errors

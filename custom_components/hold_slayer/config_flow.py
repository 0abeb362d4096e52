"""Config flow: connect to a sidecar, add the companies the user calls, and choose where to ring the user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from .client import (
    HoldSlayerAuthenticationError,
    HoldSlayerCertificateError,
    HoldSlayerClient,
    HoldSlayerConnectionError,
    HoldSlayerError,
    HoldSlayerVersionError,
    Welcome,
    fetch_tls_fingerprint,
)
from .const import (
    CONF_ALIASES,
    CONF_CALL_FLOW,
    CONF_NUMBER,
    CONF_REASON,
    CONF_SIDECAR_ID,
    CONF_TLS_FINGERPRINT,
    CONF_TRANSFER_TO,
    DEFAULT_HOST,
    DEFAULT_NAME,
    DOMAIN,
    LOGGER,
    SUBENTRY_COMPANY,
    SUBENTRY_DEVICE,
    SUBENTRY_RULE,
)
from .inbound_flow import DeviceSubentryFlow, RuleSubentryFlow
from .options_flow import HoldSlayerOptionsFlow, normalize_target, target_error
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


# Most specific first: a changed certificate is also a connection error.
_FLOW_ERRORS: Final = (
    (HoldSlayerCertificateError, "certificate_changed"),
    (HoldSlayerAuthenticationError, "invalid_auth"),
    (HoldSlayerVersionError, "incompatible_version"),
    (HoldSlayerConnectionError, "cannot_connect"),
)


def _flow_error(err: HoldSlayerError) -> str:
    """Return the form error key for a client error."""
    return next((key for kind, key in _FLOW_ERRORS if isinstance(err, kind)), "unknown")


async def _handshake(
    flow: ConfigFlow, host: str, port: int, token: str, tls_fingerprint: str | None = None
) -> tuple[Welcome | None, dict[str, str]]:
    """Connect once for real and return the welcome, or the form errors."""
    if len(token) < MIN_TOKEN_LENGTH:  # the sidecar refuses to run with one: no need to ask it
        return None, {CONF_TOKEN: "token_too_short"}
    client = HoldSlayerClient(host, port, token, async_get_clientsession(flow.hass), tls_fingerprint=tls_fingerprint)
    try:
        welcome = await client.connect()
    except HoldSlayerError as err:
        return None, {"base": _flow_error(err)}
    except Exception:
        LOGGER.exception("Unexpected error talking to the Hold Slayer sidecar")
        return None, {"base": "unknown"}
    finally:
        await client.disconnect()
    return welcome, {}


async def _probe_tls(host: str, port: int) -> tuple[str | None, dict[str, str]]:
    """Return the certificate fingerprint to pin (None: the sidecar has no TLS), or the form errors."""
    try:
        return await fetch_tls_fingerprint(host, port), {}
    except HoldSlayerConnectionError:
        return None, {"base": "cannot_connect"}


def _unique_id(welcome: Welcome, host: str, port: int) -> str:
    """Prefer the sidecar's own id; fall back to where it listens."""
    return welcome.sidecar_id or f"{host}:{port}"


class HoldSlayerConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a connection to a Hold Slayer sidecar."""

    VERSION = 1
    # 1.2: the unique id is the sidecar's persistent id (it was host:port); see async_migrate_entry.
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._discovered: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> HoldSlayerOptionsFlow:
        """Return the options flow (default transfer target)."""
        return HoldSlayerOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(cls, config_entry: ConfigEntry) -> dict[str, type[ConfigSubentryFlow]]:
        """Companies, devices calls ring on and routing rules are subentries of the sidecar entry."""
        return {
            SUBENTRY_COMPANY: CompanySubentryFlow,
            SUBENTRY_DEVICE: DeviceSubentryFlow,
            SUBENTRY_RULE: RuleSubentryFlow,
        }

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask where the sidecar listens and its token, and prove both with a real handshake."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
            pin, errors = await _probe_tls(host, port)
            if not errors:
                welcome, errors = await _handshake(self, host, port, user_input[CONF_TOKEN], pin)
            if not errors and welcome is not None:
                await self.async_set_unique_id(_unique_id(welcome, host, port))
                self._abort_if_unique_id_configured()
                data = {CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: user_input[CONF_TOKEN]}
                if pin is None:
                    return self.async_create_entry(title=DEFAULT_NAME, data=data)
                self._discovered = {**data, CONF_TLS_FINGERPRINT: pin}
                return await self.async_step_tls_confirm()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_tls_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the certificate fingerprint that will be pinned; the user compares it with the sidecar's log."""
        if user_input is not None:
            return self.async_create_entry(title=DEFAULT_NAME, data=self._discovered)
        return self.async_show_form(
            step_id="tls_confirm",
            description_placeholders={"fingerprint": self._discovered[CONF_TLS_FINGERPRINT]},
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """Take the add-on's announcement through the Supervisor: host, port, token and sidecar id."""
        config = discovery_info.config
        host, port, token = str(config[CONF_HOST]), int(config[CONF_PORT]), str(config[CONF_TOKEN])
        await self.async_set_unique_id(str(config.get(CONF_SIDECAR_ID) or discovery_info.uuid))
        # The add-on may have a new port or token after a restart: keep the entry pointing at it.
        self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token})
        self._discovered = {CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token, "addon": discovery_info.name}
        self.context["title_placeholders"] = {"name": discovery_info.name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask "Hold Slayer found, set up?"; nothing to type."""
        errors: dict[str, str] = {}
        if user_input is not None:
            found = self._discovered
            welcome, errors = await _handshake(self, found[CONF_HOST], found[CONF_PORT], found[CONF_TOKEN])
            if welcome is not None:
                return self.async_create_entry(
                    title=DEFAULT_NAME,
                    data={key: found[key] for key in (CONF_HOST, CONF_PORT, CONF_TOKEN)},
                )
        return self.async_show_form(
            step_id="hassio_confirm",
            description_placeholders={"addon": self._discovered["addon"]},
            errors=errors,
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Take a sidecar's announcement on the LAN; its TXT record carries its persistent id."""
        sidecar_id = discovery_info.properties.get("id")
        if not sidecar_id:
            return self.async_abort(reason="no_sidecar_id")
        host, port = discovery_info.host, int(discovery_info.port or DEFAULT_PORT)
        await self.async_set_unique_id(sidecar_id)
        # Same sidecar, new address (DHCP): follow it instead of offering it again.
        self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})
        pin: str | None = None
        if discovery_info.properties.get("tls") == "1":
            pin, errors = await _probe_tls(host, port)
            if errors:
                return self.async_abort(reason="cannot_connect")
        self._discovered = {CONF_HOST: host, CONF_PORT: port, CONF_SIDECAR_ID: sidecar_id, CONF_TLS_FINGERPRINT: pin}
        self.context["title_placeholders"] = {"name": f"{host}:{port}"}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Confirm the sidecar and paste the token it printed in its log."""
        errors: dict[str, str] = {}
        found = self._discovered
        if user_input is not None:
            token = user_input[CONF_TOKEN].strip()
            pin = found[CONF_TLS_FINGERPRINT]
            welcome, errors = await _handshake(self, found[CONF_HOST], found[CONF_PORT], token, pin)
            if welcome is not None and welcome.sidecar_id not in (None, found[CONF_SIDECAR_ID]):
                # Another sidecar answers at that address now: its token proves nothing about this one.
                return self.async_abort(reason="wrong_sidecar")
            if welcome is not None:
                data = {CONF_HOST: found[CONF_HOST], CONF_PORT: found[CONF_PORT], CONF_TOKEN: token}
                if pin is not None:
                    data[CONF_TLS_FINGERPRINT] = pin
                return self.async_create_entry(title=DEFAULT_NAME, data=data)
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=REAUTH_SCHEMA,
            description_placeholders={
                "host": found[CONF_HOST],
                "port": str(found[CONF_PORT]),
                "fingerprint": found[CONF_TLS_FINGERPRINT] or "none: this sidecar does not encrypt",
            },
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change host, port or token of an existing sidecar."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
            pin, errors = await _probe_tls(host, port)
            if not errors:
                welcome, errors = await _handshake(self, host, port, user_input[CONF_TOKEN], pin)
            if not errors and welcome is not None:
                unique_id = _unique_id(welcome, host, port)
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                # Reconfiguring is how a user accepts a sidecar's new certificate: pin what it shows now.
                data = {**entry.data, CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: user_input[CONF_TOKEN]}
                data.pop(CONF_TLS_FINGERPRINT, None)
                if pin is not None:
                    data[CONF_TLS_FINGERPRINT] = pin
                return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)
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
                self,
                entry.data[CONF_HOST],
                entry.data[CONF_PORT],
                user_input[CONF_TOKEN],
                entry.data.get(CONF_TLS_FINGERPRINT),
            )
            if welcome is not None:
                return self.async_update_reload_and_abort(entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]})
        return self.async_show_form(step_id="reauth_confirm", data_schema=REAUTH_SCHEMA, errors=errors)


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
        if error := target_error(number) if number else "invalid_target":
            errors[CONF_NUMBER] = error
        if error := target_error(user_input.get(CONF_TRANSFER_TO)):
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

"""Options: where HA rings the user, and the sidecar's settings (trunk, phones, voice, spoken lines, receptionist).

The sidecar's settings live in the sidecar, not in the config entry: each step sends its section with
``configure``, the sidecar checks it (the registrar must accept the credentials, a Wyoming service must answer
``describe``) and the form shows its refusal as it is ("the registrar rejected the password (403)").
Passwords and keys are sent, never stored here and never shown again: left empty, the one set stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .client import HoldSlayerClient, HoldSlayerCommandError, HoldSlayerConnectionError
from .const import CONF_AI_TASK_ENTITY, CONF_TODO_ENTITY, CONF_TRANSFER_TO
from .dialplan import DialPolicyError, check_target
from .protocol import RECEPTIONIST_PLACEHOLDER, ConfigureData, DtmfMethod, template_placeholders_other_than

WYOMING_DOMAIN: Final = "wyoming"
STEP_SECTIONS: Final = ("trunk", "phones", "voice", "courtesy", "receptionist")
OWNER_PLACEHOLDER: Final = RECEPTIONIST_PLACEHOLDER
_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_MS_DURATION = NumberSelector(NumberSelectorConfig(min=40, max=1000, step=10, mode=NumberSelectorMode.BOX))
_MS_GAP = NumberSelector(NumberSelectorConfig(min=0, max=2000, step=10, mode=NumberSelectorMode.BOX))


def _select(options: list[str], *, translation_key: str, custom: bool = False) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=translation_key, custom_value=custom, mode=SelectSelectorMode.DROPDOWN
        )
    )


def target_error(value: str | None) -> str | None:
    """Return the form error for a number or SIP URI, or None when it is fine (or empty)."""
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


def trunk_data(user_input: dict[str, Any]) -> ConfigureData:
    """Build the ``configure`` data of the trunk form (numbers as integers, empty fields left out)."""
    if user_input.get("remove_trunk"):
        return ConfigureData(trunk=None)
    trunk: dict[str, Any] = {
        "registrar": str(user_input.get("registrar", "")).strip(),
        "username": str(user_input.get("username", "")).strip(),
        "transport": user_input.get("transport", "udp"),
        "dtmf_method": user_input.get("dtmf_method", DtmfMethod.RFC2833.value),
        "dtmf_duration_ms": int(user_input.get("dtmf_duration_ms", 120)),
        "dtmf_gap_ms": int(user_input.get("dtmf_gap_ms", 120)),
    }
    for key in ("password", "domain", "outbound_proxy"):
        if value := str(user_input.get(key) or "").strip():
            trunk[key] = value
    return ConfigureData(trunk=trunk)


def voice_data(user_input: dict[str, Any]) -> ConfigureData:
    """Build the ``configure`` data of the voice form: a choice that is not a built-in engine is a Wyoming host:port."""
    voice: dict[str, Any] = {}
    for role, builtin in (("stt", ("embedded", "none")), ("tts", ("piper", "espeak"))):
        choice = str(user_input.get(role) or builtin[0]).strip()
        if choice in builtin:
            voice[role] = choice
        else:
            voice[role], voice[f"{role}_url"] = "wyoming", choice.removeprefix("tcp://")
    if llm_url := str(user_input.get("llm_url") or "").strip():
        voice["llm_url"] = llm_url
    if llm_model := str(user_input.get("llm_model") or "").strip():
        voice["llm_model"] = llm_model
    if llm_key := str(user_input.get("llm_api_key") or "").strip():
        voice["llm_api_key"] = llm_key
    return ConfigureData(voice=voice)


def courtesy_data(user_input: dict[str, Any]) -> ConfigureData:
    """Build the ``configure`` data of the spoken lines form."""
    courtesy: dict[str, Any] = {
        "enabled": bool(user_input.get("enabled", True)),
        "still_connecting_every_s": float(user_input.get("still_connecting_every_s", 7.0)),
    }
    for key in ("name", "greeting", "still_connecting"):
        if value := str(user_input.get(key) or "").strip():
            courtesy[key] = value
    return ConfigureData(courtesy=courtesy)


def greeting_error(template: str, allowed: str) -> str | None:
    """Return what is wrong with a greeting template (placeholders other than a bare ``{allowed}``), or None."""
    try:
        unknown = template_placeholders_other_than(template, allowed)
    except ValueError as err:
        return f"a brace without its pair ({err})"
    return "remove " + ", ".join("{" + field + "}" for field in unknown) if unknown else None


def receptionist_data(user_input: dict[str, Any]) -> ConfigureData:
    """Build the ``configure`` data of the receptionist form (empty fields left out: the built-in greeting)."""
    receptionist: dict[str, Any] = {}
    for key in ("owner_name", "greeting"):
        if value := str(user_input.get(key) or "").strip():
            receptionist[key] = value
    return ConfigureData(receptionist=receptionist)


class HoldSlayerOptionsFlow(OptionsFlow):
    """Where HA rings the user, and the sidecar's trunk, phones, voice, spoken lines and receptionist."""

    def __init__(self) -> None:
        """Start without the sidecar's settings (fetched when a sidecar step opens)."""
        self._current: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the parts that can be set."""
        return self.async_show_menu(step_id="init", menu_options=["integration", *STEP_SECTIONS])

    async def async_step_integration(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the default transfer target and the to-do list (kept in the config entry)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            target = user_input.get(CONF_TRANSFER_TO, "").strip()
            if error := target_error(target):
                errors[CONF_TRANSFER_TO] = error
            else:
                options = {CONF_TRANSFER_TO: normalize_target(target)} if target else {}
                for key in (CONF_TODO_ENTITY, CONF_AI_TASK_ENTITY):
                    if value := user_input.get(key):
                        options[key] = value
                return self.async_create_entry(data=options)
        schema = vol.Schema(
            {
                vol.Optional(CONF_TRANSFER_TO): _TEXT,
                vol.Optional(CONF_TODO_ENTITY): EntitySelector(EntitySelectorConfig(domain="todo")),
                vol.Optional(CONF_AI_TASK_ENTITY): EntitySelector(EntitySelectorConfig(domain="ai_task")),
            }
        )
        return self.async_show_form(
            step_id="integration",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or dict(self.config_entry.options)),
            errors=errors,
        )

    async def async_step_trunk(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set the SIP trunk; the sidecar registers with it before it says yes."""
        incomplete = not user_input.get("registrar") or not user_input.get("username") if user_input else False
        if user_input is not None and not user_input.get("remove_trunk") and incomplete:
            return await self._form("trunk", self._trunk_schema(), user_input, {"base": "trunk_incomplete"})
        return await self._section("trunk", user_input, trunk_data, self._trunk_schema)

    async def async_step_phones(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set where the user is rung (the first phone is the default)."""
        if user_input is not None:
            phones = [str(phone).strip() for phone in user_input.get("user_phones") or [] if str(phone).strip()]
            for phone in phones:
                if error := target_error(phone):
                    return await self._form("phones", self._phones_schema(), user_input, {"user_phones": error})
            user_input = {"user_phones": phones}
        return await self._section(
            "phones", user_input, lambda data: ConfigureData(user_phones=list(data["user_phones"])), self._phones_schema
        )

    async def async_step_voice(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the voice backends: embedded, a Wyoming service HA already has, and an LLM."""
        return await self._section("voice", user_input, voice_data, self._voice_schema)

    async def async_step_courtesy(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set what the person who answers hears while the user's phone rings."""
        return await self._section("courtesy", user_input, courtesy_data, self._courtesy_schema)

    async def async_step_receptionist(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set whose line the receptionist answers and what it says first."""
        if user_input is not None and (
            problem := greeting_error(str(user_input.get("greeting") or ""), OWNER_PLACEHOLDER)
        ):
            return await self._form(
                "receptionist", self._receptionist_schema(), user_input, {"greeting": "invalid_greeting"}, problem
            )
        return await self._section("receptionist", user_input, receptionist_data, self._receptionist_schema)

    # ----- one sidecar section -----

    async def _section(
        self,
        step: str,
        user_input: dict[str, Any] | None,
        build: Callable[[dict[str, Any]], ConfigureData],
        schema: Callable[[], vol.Schema],
    ) -> ConfigFlowResult:
        client = self._client()
        if client is None:
            return self.async_abort(reason="not_connected")
        if user_input is None:
            try:
                self._current = await client.get_settings()
            except (HoldSlayerConnectionError, HoldSlayerCommandError):
                return self.async_abort(reason="not_connected")
            return await self._form(step, schema(), self._suggested(step), {})
        try:
            await client.configure(build(user_input))
        except HoldSlayerCommandError as err:
            return await self._form(step, schema(), user_input, {"base": "sidecar_refused"}, err.message)
        except HoldSlayerConnectionError as err:
            return await self._form(step, schema(), user_input, {"base": "cannot_connect"}, str(err))
        return self.async_create_entry(data=dict(self.config_entry.options))

    async def _form(
        self, step: str, schema: vol.Schema, values: dict[str, Any], errors: dict[str, str], message: str = ""
    ) -> ConfigFlowResult:
        registration = self._current.get("registration") or {}
        return self.async_show_form(
            step_id=step,
            data_schema=self.add_suggested_values_to_schema(
                schema, {k: v for k, v in values.items() if "password" not in k and "api_key" not in k}
            ),
            errors=errors,
            description_placeholders={
                "error": message,
                "name": "{name}",  # shown as it is typed in a greeting template
                OWNER_PLACEHOLDER: "{" + OWNER_PLACEHOLDER + "}",
                "registration": str(registration.get("reason") or registration.get("state") or "unknown"),
            },
        )

    def _client(self) -> HoldSlayerClient | None:
        coordinator = getattr(self.config_entry, "runtime_data", None)
        client = getattr(coordinator, "client", None)
        return client if isinstance(client, HoldSlayerClient) and client.connected else None

    def _suggested(self, step: str) -> dict[str, Any]:
        current = self._current
        if step == "trunk":
            return dict(current.get("trunk") or {})
        if step == "phones":
            return {"user_phones": list(current.get("user_phones") or [])}
        if step in ("courtesy", "receptionist"):
            return dict(current.get(step) or {})
        voice = dict(current.get("voice") or {})
        for role in ("stt", "tts"):
            if voice.get(role) == "wyoming" and voice.get(f"{role}_url"):
                voice[role] = str(voice[f"{role}_url"]).removeprefix("tcp://")
        return voice

    # ----- schemas -----

    def _trunk_schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Optional("registrar"): _TEXT,
                vol.Optional("username"): _TEXT,
                vol.Optional("password"): _PASSWORD,
                vol.Optional("domain"): _TEXT,
                vol.Optional("transport", default="udp"): _select(["udp", "tcp"], translation_key="transport"),
                vol.Optional("outbound_proxy"): _TEXT,
                vol.Optional("dtmf_method", default=DtmfMethod.RFC2833.value): _select(
                    [method.value for method in DtmfMethod], translation_key="dtmf_method"
                ),
                vol.Optional("dtmf_duration_ms", default=120): _MS_DURATION,
                vol.Optional("dtmf_gap_ms", default=120): _MS_GAP,
                vol.Optional("remove_trunk", default=False): BooleanSelector(),
            }
        )

    def _phones_schema(self) -> vol.Schema:
        return vol.Schema({vol.Optional("user_phones"): TextSelector(TextSelectorConfig(multiple=True))})

    def _voice_schema(self) -> vol.Schema:
        wyoming = self._wyoming_services()
        return vol.Schema(
            {
                vol.Optional("stt", default="embedded"): _choice(["embedded", "none"], wyoming),
                vol.Optional("tts", default="piper"): _choice(["piper", "espeak"], wyoming),
                vol.Optional("llm_url"): _TEXT,
                vol.Optional("llm_model"): _TEXT,
                vol.Optional("llm_api_key"): _PASSWORD,
            }
        )

    def _courtesy_schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Optional("enabled", default=True): BooleanSelector(),
                vol.Optional("name"): _TEXT,
                vol.Optional("greeting"): _TEXT,
                vol.Optional("still_connecting"): _TEXT,
                vol.Optional("still_connecting_every_s", default=7): NumberSelector(
                    NumberSelectorConfig(min=3, max=30, step=1, mode=NumberSelectorMode.BOX)
                ),
            }
        )

    def _receptionist_schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Optional("owner_name"): _TEXT,
                vol.Optional("greeting"): TextSelector(TextSelectorConfig(multiline=True)),
            }
        )

    def _wyoming_services(self) -> list[SelectOptionDict]:
        """List the Wyoming services HA already uses (its ``wyoming`` config entries), offered by host:port."""
        services = []
        for entry in self.hass.config_entries.async_entries(WYOMING_DOMAIN):
            host, port = entry.data.get("host"), entry.data.get("port")
            if host and port:
                services.append(SelectOptionDict(value=f"{host}:{port}", label=f"{entry.title} ({host}:{port})"))
        return services


def _choice(builtin: list[str], wyoming: list[SelectOptionDict]) -> SelectSelector:
    """Built-in engines (translated) and Wyoming services; another host:port may be typed."""
    options = [SelectOptionDict(value=value, label=value) for value in builtin] + wyoming
    return SelectSelector(SelectSelectorConfig(options=options, custom_value=True, mode=SelectSelectorMode.DROPDOWN))

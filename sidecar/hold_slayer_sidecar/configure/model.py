"""What Home Assistant may set with ``configure``: trunk, user's phones, voice backends, spoken lines, receptionist.

Every field a stranger could fill (HA forwards what a user typed) is bounded and shaped: a registrar is
``sip:host[:port]`` and nothing else (no headers, no parameters but the transport, no line breaks that could
become a SIP header), phones pass the dialling policy (emergency numbers are refused), URLs are http(s) or
Wyoming ``host:port``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..dialplan import DialPolicyError, check_target
from ..inbound.receptionist.config import check_greeting
from ..protocol import DtmfMethod
from ..settings import CourtesyLines
from ..voice.wyoming import parse_tcp_url

# RFC 1123 host names (labels of letters, digits and inner hyphens); IP literals are checked by ipaddress.
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME: Final = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_HOSTPORT: Final = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::(?P<port>\d{1,5}))?$")
# The user part of a SIP URI (RFC 3261 s25.1 "user": unreserved and user-unreserved characters, escapes).
_SIP_USER: Final = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$")
_PRINTABLE: Final = re.compile(r"^[^\x00-\x1f\x7f]*$")
MAX_PHONES: Final = 5
SECTIONS: Final = ("trunk", "user_phones", "voice", "courtesy", "receptionist")  # in the order they are applied


class ConfigureError(ValueError):
    """A settings request that cannot be applied as given."""


def check_host(value: str) -> str:
    """Return a host name or IP literal (IPv6 in brackets); raise ValueError for anything else."""
    if value.startswith("[") and value.endswith("]"):
        ipaddress.IPv6Address(value[1:-1])
        return value
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if len(value) > 253 or not _HOSTNAME.match(value):
            raise ValueError(f"not a host name or IP address: {value[:60]!r}") from None
    return value


def check_hostport(value: str) -> tuple[str, int | None]:
    """Split ``host[:port]``; raise ValueError when either part is malformed."""
    match = _HOSTPORT.match(value)
    if match is None:
        raise ValueError(f"expected host or host:port, got {value[:60]!r}")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 1-65535")
    return check_host(match["host"]), port


def sip_server(value: str, what: str) -> str:
    """Normalise a registrar or proxy to ``sip:host[:port]``; refuse users, parameters, headers, line breaks."""
    text = value.strip()
    if not _PRINTABLE.match(text) or len(text) > 260:
        raise ValueError(f"{what}: control characters or too long")
    lowered = text.lower()
    if lowered.startswith("sips:"):
        raise ValueError(f"{what}: sips: (TLS) is not supported by this SIP stack; use sip:")
    if lowered.startswith("sip:"):
        text = text[4:]
    if any(ch in text for ch in "@;?<> \t,\"'"):
        raise ValueError(f"{what}: give only sip:host or sip:host:port (no user, parameters or headers)")
    host, port = check_hostport(text)
    return f"sip:{host}" + (f":{port}" if port else "")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class TrunkSection(_Section):
    """The SIP trunk: where to register, as whom, and how digits are sent."""

    registrar: str = Field(min_length=1, max_length=260)
    username: str = Field(min_length=1, max_length=64)
    # None keeps the password already set (the form never sees it again); "" is refused by the registrar.
    password: SecretStr | None = Field(default=None, max_length=128)
    domain: str | None = Field(default=None, max_length=253)
    transport: Literal["udp", "tcp"] = "udp"
    outbound_proxy: str | None = Field(default=None, max_length=260)
    dtmf_method: DtmfMethod = DtmfMethod.RFC2833
    # RFC 4733 events of 40 ms are the shortest receivers reliably detect; a second is a long key press.
    dtmf_duration_ms: int = Field(default=120, ge=40, le=1000)
    dtmf_gap_ms: int = Field(default=120, ge=0, le=2000)

    @field_validator("registrar")
    @classmethod
    def _registrar(cls, value: str) -> str:
        return sip_server(value, "registrar")

    @field_validator("outbound_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        return sip_server(value, "outbound proxy") if value else None

    @field_validator("username")
    @classmethod
    def _user(cls, value: str) -> str:
        if not _SIP_USER.match(value):
            raise ValueError("only the characters a SIP user name may hold (RFC 3261 s25.1)")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _PRINTABLE.match(value.get_secret_value()):
            raise ValueError("control characters are not allowed")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, _port = check_hostport(value.removeprefix("sip:"))
        return value.removeprefix("sip:") if host else None

    @field_validator("dtmf_method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        return DtmfMethod(value) if isinstance(value, str) and value in set(DtmfMethod) else value

    def registrar_uri(self) -> str:
        """Return the registrar as PJSUA2 takes it (the transport as a URI parameter, RFC 3261 s19.1.1)."""
        return self.registrar + (";transport=tcp" if self.transport == "tcp" else "")

    def hostport(self) -> str:
        """``host:port`` of the registrar, for messages (5060 when none is given, RFC 3261 s19.1.2)."""
        host, port = check_hostport(self.registrar.removeprefix("sip:"))
        return f"{host}:{port or 5060}"


class VoiceSection(_Section):
    """The voice backends: embedded, or the Wyoming services HA already runs, and an OpenAI-compatible LLM."""

    stt: Literal["embedded", "wyoming", "none"] = "embedded"
    stt_url: str | None = Field(default=None, max_length=260)  # host:port of a Wyoming speech-to-text service
    tts: Literal["piper", "espeak", "wyoming"] = "piper"
    tts_url: str | None = Field(default=None, max_length=260)
    tts_voice: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_.+\-]*$")
    llm_url: str | None = Field(default=None, max_length=500)
    llm_model: str = Field(default="llama3.2", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/+\-]+$")
    llm_api_key: SecretStr | None = Field(default=None, max_length=512)  # None keeps the key already set

    @field_validator("stt_url", "tts_url")
    @classmethod
    def _wyoming(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, port = parse_tcp_url(value)
        check_host(host if ":" not in host else f"[{host}]")
        return f"tcp://{host if ':' not in host else f'[{host}]'}:{port}"

    @field_validator("llm_url")
    @classmethod
    def _llm(cls, value: str | None) -> str | None:
        if not value:
            return None
        match = re.match(r"^(https?)://([^/?#]+)(/[^?#]*)?$", value)
        if match is None or not _PRINTABLE.match(value) or " " in value or "@" in match[2]:
            raise ValueError("expected an http:// or https:// base URL without credentials")
        check_hostport(match[2])
        return value.rstrip("/")

    @field_validator("llm_api_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _PRINTABLE.match(value.get_secret_value()):
            raise ValueError("control characters are not allowed")  # it goes into an Authorization header
        return value

    @model_validator(mode="after")
    def _urls_given(self) -> VoiceSection:
        if self.stt == "wyoming" and not self.stt_url:
            raise ValueError("stt_url: a Wyoming speech-to-text service needs host:port")
        if self.tts == "wyoming" and not self.tts_url:
            raise ValueError("tts_url: a Wyoming text-to-speech service needs host:port")
        return self


class ReceptionistSection(_Section):
    """Whose line the receptionist answers and what it says first (its listening tuning stays in the YAML)."""

    owner_name: str | None = Field(default=None, max_length=40)
    greeting: str | None = Field(default=None, min_length=1, max_length=300)  # None: the built-in greeting

    @field_validator("owner_name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        # Said to strangers and put into the greeting template: no control characters, no braces.
        if value and (not _PRINTABLE.match(value) or "{" in value or "}" in value):
            raise ValueError("a name without braces or control characters")
        return value or None

    @field_validator("greeting")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and not _PRINTABLE.match(value):
            raise ValueError("control characters are not allowed")
        return check_greeting(value) if value is not None else None


class ConfigureRequest(_Section):
    """``configure`` data: each section given replaces that section; the others stay as they are."""

    trunk: TrunkSection | None = None  # given as null: no trunk (only SIP URIs can be called)
    user_phones: list[str] = Field(default_factory=list, max_length=MAX_PHONES)
    voice: VoiceSection | None = None
    courtesy: CourtesyLines | None = None
    receptionist: ReceptionistSection | None = None

    @field_validator("user_phones")
    @classmethod
    def _phones(cls, value: list[str]) -> list[str]:
        checked = []
        for index, phone in enumerate(value):
            try:
                target = check_target(phone)
            except DialPolicyError as err:
                raise ValueError(f"phone {index + 1}: {err}") from err
            checked.append(target.value)
        return checked

    def sections(self) -> list[str]:
        """List the sections this request sets, in the order they are applied."""
        return [name for name in SECTIONS if name in self.model_fields_set]

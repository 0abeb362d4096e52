"""Sidecar settings: command-line arguments > environment (HOLD_SLAYER_*) > a YAML/JSON file (--config).

Nested values use ``__`` in the environment: ``HOLD_SLAYER_SIP__REGISTRAR=sip:sip.example.com``,
``HOLD_SLAYER_TIMEOUTS__MAX_HOLD_S=3600``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .edge.config import EdgeSettings, host_of
from .edge.registrar import has_devices
from .inbound.receptionist.config import ReceptionistSettings
from .protocol import DEFAULT_PORT, MIN_TOKEN_LENGTH, DtmfMethod
from .sip.pool import DEFAULT_WORKERS, MAX_WORKERS
from .sip.settings import SipSettings
from .templates import check_template
from .voice.factory import VoiceSettings


class SettingsError(Exception):
    """The settings are missing something or cannot be read."""


class SipConfig(BaseModel):
    """The SIP trunk and local endpoint (see ``sip.settings.SipSettings`` for each field)."""

    model_config = ConfigDict(extra="forbid")

    bind_host: str = "127.0.0.1"
    port: int = Field(default=5060, ge=0, le=65535)
    public_host: str | None = None
    registrar: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    domain: str | None = None
    realm: str = "*"
    outbound_proxy: str | None = None
    dtmf_method: DtmfMethod = DtmfMethod.RFC2833
    dtmf_duration_ms: int = Field(default=120, ge=40, le=1000)
    dtmf_gap_ms: int = Field(default=120, ge=0, le=2000)
    codecs: tuple[str, ...] = ("PCMU", "PCMA", "G722")
    clock_rate: Literal[8000, 16000] = 8000
    user_agent: str = "HoldSlayer/0.1"
    log_level: int = Field(default=1, ge=0, le=6)
    # RTP/RTCP only from the SDP peer (sip/rtp_filter.py); a peer that sends from elsewhere (NAT, asymmetric RTP)
    # is unfiltered after 4 s of silence, so off only for a trunk that always does that; on, a stranger's RTP
    # burst cannot take a call's audio over.
    rtp_peer_only: bool = True
    # Media worker processes (PJSUA2 endpoints, 4 legs = 2 bridged calls each). Two: the default two calls
    # then run in separate processes, so one crash loses one call; an idle worker costs ~1% of a core.
    workers: int = Field(default=DEFAULT_WORKERS, ge=1, le=MAX_WORKERS)

    def to_sip_settings(self) -> SipSettings:
        """Build the engine's own settings object (per worker process)."""
        data = self.model_dump(exclude={"workers"})
        data["password"] = self.password.get_secret_value() if self.password else None
        return SipSettings(**data, max_calls=4)


class EdgeConfig(BaseModel):
    """The SIP edge (kamailio) in front of PJSUA2; see ``edge/__init__.py`` for what it admits.

    With the edge on, ``sip.bind_host``/``sip.port`` stay where the network reaches SIP, unless
    ``edge.host``/``edge.port`` say otherwise: kamailio listens there and PJSUA2 moves to a free loopback port.
    """

    model_config = ConfigDict(extra="forbid")

    # None: on when a trunk is configured or SIP listens beyond loopback; off for loopback tests and the demo.
    enabled: bool | None = None
    host: str | None = None  # default: sip.bind_host
    port: int | None = Field(default=None, ge=1, le=65535)  # default: sip.port
    advertise: str | None = None  # public address for Record-Route behind NAT
    internal_port: int = Field(default=5059, ge=1, le=65535)  # loopback port the workers send to
    # Who may start calls: the trunk's signalling addresses (IP, CIDR or name); LAN/loopback only on purpose.
    trunk_sources: tuple[str, ...] = ()
    allow_from: tuple[str, ...] = ()
    flood_requests: int = Field(default=40, ge=1, le=100_000)
    flood_window_s: int = Field(default=2, ge=1, le=300)
    invites_per_s: int = Field(default=5, ge=1, le=1000)
    max_inbound_calls: int = Field(default=2, ge=1, le=1000)
    kamailio: str = "kamailio"
    log_level: int = Field(default=1, ge=-5, le=3)
    # Local SIP phones and softphones may register (with credentials made per device in HA). They reach
    # the edge where it listens: loopback unless a trunk or edge.host opens it, or phones_on_lan is set.
    phones: bool = True
    phones_on_lan: bool = False
    # Failed digests from one address before it is ignored for ban_s seconds (a guesser gets 5 tries per
    # 10 minutes: 144 random bits of password stay out of reach).
    auth_failures: int = Field(default=5, ge=1, le=1000)
    ban_s: int = Field(default=600, ge=1, le=86400)

    @property
    def proxy_uri(self) -> str:
        """The outbound proxy PJSUA2 uses behind the edge (loose routing, RFC 3261 s16.12)."""
        return f"sip:127.0.0.1:{self.internal_port};lr"

    def active(self, sip: SipConfig, *, devices: bool = False) -> bool:
        """Whether the edge runs for these SIP settings (``devices``: a phone has registrar credentials).

        Phones asked for on the LAN start it too: the registrar lives in it, so without it the first phone
        could never be added (its credentials are made by the registrar).
        """
        if self.enabled is not None:
            return self.enabled
        phones = self.phones and (devices or self.phones_on_lan)
        return sip.registrar is not None or not _is_loopback(sip.bind_host) or phones

    def why_no_registrar(self) -> str:
        """Say why local phones cannot register (the registrar runs in the edge) and what to change."""
        if not self.phones:
            return "local phones are off (edge.phones: false in the sidecar's settings): turn them on and restart it"
        if self.enabled is False:
            return (
                "local phones register to the SIP edge, which is turned off (edge.enabled: false in the sidecar's "
                "settings): remove that setting and restart the sidecar"
            )
        return (
            "local phones register to the SIP edge, which does not run while SIP listens on loopback only and no "
            "trunk is set: set edge.phones_on_lan: true in the sidecar's settings and restart it, or add the phone "
            "by its SIP URI instead"
        )

    def listen_host(self, sip: SipConfig) -> str:
        """Where the edge listens: edge.host, else every interface for phones on the LAN, else sip.bind_host."""
        if self.host:
            return self.host
        if self.phones and self.phones_on_lan and _is_loopback(sip.bind_host):
            return "0.0.0.0"  # on purpose: the user asked for phones on the LAN
        return sip.bind_host

    def to_edge_settings(self, sip: SipConfig, worker_ports: tuple[int, ...]) -> EdgeSettings:
        """Build the edge's own settings once the workers' loopback ports are known."""
        trunk = sip.to_sip_settings()
        return EdgeSettings(
            host=self.listen_host(sip),
            port=self.port or sip.port,
            advertise=self.advertise,
            internal_port=self.internal_port,
            worker_ports=worker_ports,
            allow_from=(*self.trunk_sources, *self.allow_from),
            trunk_proxy=sip.outbound_proxy,
            trunk_hosts=tuple(
                host for uri in (sip.registrar, sip.outbound_proxy) if uri and (host := host_of(uri)) is not None
            ),
            flood_requests=self.flood_requests,
            flood_window_s=self.flood_window_s,
            invites_per_s=self.invites_per_s,
            max_inbound_calls=self.max_inbound_calls,
            kamailio=self.kamailio,
            log_level=self.log_level,
            registrar=self.phones,
            auth_failures=self.auth_failures,
            ban_s=self.ban_s,
            # A registered phone's calls go out as the trunk account, as the workers' own calls do.
            trunk_domain=trunk.trunk_domain,
            trunk_username=trunk.username if trunk.trunk_domain else None,
            trunk_password=trunk.password if trunk.trunk_domain else None,
            trunk_realm=trunk.realm,
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Timeouts(BaseModel):
    """How long each phase of a call may take."""

    model_config = ConfigDict(extra="forbid")

    max_ring_s: float = Field(default=60.0, gt=0, le=600)
    max_ivr_s: float = Field(default=300.0, gt=0, le=3600)
    max_hold_s: float = Field(default=7200.0, gt=0, le=6 * 3600)
    ring_user_s: float = Field(default=30.0, gt=0, le=300)
    probe_wait_s: float = Field(default=6.0, gt=0, le=60)


class WebsocketConfig(BaseModel):
    """Bounds on websocket clients (see ``server.guard`` and ``server.hello_limit`` for the reasons)."""

    model_config = ConfigDict(extra="forbid")

    max_pending_connections: int = Field(default=32, ge=1, le=1024)
    handshake_timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_failed_hellos: int = Field(default=5, ge=1, le=1000)
    failed_hello_window_s: float = Field(default=60.0, gt=0, le=3600)
    failed_hello_cooldown_s: float = Field(default=60.0, ge=0, le=3600)


_NAME_FIELD = "name"
_DEFAULT_GREETING = "Hi, thanks for picking up. I'm connecting you to {name} now, one moment please."
_DEFAULT_GREETING_NO_NAME = "Hi, thanks for picking up. I'm connecting you now, one moment please."


class CourtesyLines(BaseModel):
    """What the person who answers hears while the user's phone rings (agents hang up on a silent line)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Whom the person is being connected to ("Alex"); without it the greeting leaves the name out.
    name: str | None = Field(default=None, max_length=40, pattern=r"^[^\x00-\x1f{}]*$")
    greeting: str | None = Field(default=None, max_length=200)  # may hold {name}; default: _DEFAULT_GREETING
    still_connecting: str = Field(default="Still connecting you, one moment please.", max_length=200)
    still_connecting_every_s: float = Field(default=7.0, ge=3.0, le=30.0)

    @field_validator("greeting")
    @classmethod
    def _only_name_placeholder(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check_template(value, _NAME_FIELD)

    def greeting_text(self) -> str:
        """Return the first line said to the person ('' when the courtesy lines are off)."""
        if not self.enabled:
            return ""
        name = (self.name or "").strip()
        template = self.greeting or (_DEFAULT_GREETING if name else _DEFAULT_GREETING_NO_NAME)
        if "{" + _NAME_FIELD + "}" in template and not name:
            name = "the caller"  # a custom template with {name} but no name set
        return template.format(name=name)

    def still_connecting_text(self) -> str:
        """Return the line repeated while the phone rings ('' when off)."""
        return self.still_connecting if self.enabled else ""


class HistoryConfig(BaseModel):
    """What is kept after a call, and for how long."""

    model_config = ConfigDict(extra="forbid")

    retention_days: int = Field(default=365, ge=0, le=36500)  # 0 keeps calls forever
    max_recordings_mb: int = Field(default=2048, ge=1)  # oldest recordings go first beyond this
    # Transcribe the conversation with the person (agent and user) once they answer; off per company below.
    transcribe_conversation: bool = True
    private_companies: list[str] = Field(default_factory=list, max_length=500)
    transcribe_inbound: bool = False  # inbound calls are the caller's privacy: off unless the user turns it on
    summary_llm: bool = True  # use voice.llm_url for summaries when it is set (else the embedded extractor)


class InboundSettings(BaseModel):
    """The inbound half (issue #18): who answers, how messages are taken."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    time_zone: str | None = None  # IANA name for rules without their own zone; default: the host's
    owner_name: str | None = Field(default=None, max_length=40)  # "Alex": for the greetings
    # Inbound calls at once (each holds a leg, a connected one two): two leave room for a call on hold.
    max_calls: int = Field(default=2, ge=1, le=2 * MAX_WORKERS)
    voicemail_limit_s: float = Field(default=90.0, ge=10.0, le=600.0)
    voicemail_silence_s: float = Field(default=10.0, ge=2.0, le=60.0)
    voicemail_greeting: str | None = Field(default=None, max_length=300)
    robocall_action: Literal["voicemail", "reject"] = "voicemail"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"unknown time zone {value!r}") from err
        return value


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Values from the YAML or JSON file named by --config (lowest priority)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data = _read_config(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Look up one field (``__call__`` returns the whole file)."""
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        """Return the file's mapping."""
        return dict(self._data)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError(f"cannot read config file {path}: {err}") from err
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise SettingsError(f"config file {path} is not valid {path.suffix or 'YAML'}: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path} must hold a mapping of settings")
    return data


_CONFIG_FILE: ContextVar[Path | None] = ContextVar("hold_slayer_config_file", default=None)


class SidecarSettings(BaseSettings):
    """Everything the sidecar can be told."""

    model_config = SettingsConfigDict(env_prefix="HOLD_SLAYER_", env_nested_delimiter="__", extra="forbid")

    host: str = "127.0.0.1"  # loopback by default: expose it only on purpose
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    token: SecretStr | None = None  # required: the sidecar refuses to start without one
    data_dir: Path = Path("data")
    user_phone: str | None = None  # default transfer target: SIP URI or number
    # Concurrent outbound calls; each needs two legs (company, user) in one media worker: at most 2 per worker.
    max_calls: int = Field(default=2, ge=1, le=2 * MAX_WORKERS)
    record: bool = True
    # Where "domestic" is when a menu splits domestic from international (ISO 3166 code; HA's own country).
    home_country: str = Field(default="US", pattern=r"^[A-Za-z]{2}$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # wss:// with a self-signed certificate pinned by HA; None means "when bound off loopback" (the token and
    # transcripts must not cross the LAN in clear text). True forces it on loopback too (tests, proxies).
    tls: bool | None = None
    sip: SipConfig = SipConfig()
    edge: EdgeConfig = EdgeConfig()
    timeouts: Timeouts = Timeouts()
    courtesy: CourtesyLines = CourtesyLines()
    voice: VoiceSettings = VoiceSettings()
    websocket: WebsocketConfig = WebsocketConfig()
    history: HistoryConfig = HistoryConfig()
    inbound: InboundSettings = InboundSettings()
    receptionist: ReceptionistSettings = ReceptionistSettings()  # the AI receptionist for inbound calls

    @model_validator(mode="after")
    def _calls_fit_the_workers(self) -> SidecarSettings:
        if self.max_calls > 2 * self.sip.workers:
            raise ValueError(
                f"max_calls={self.max_calls} needs at least {(self.max_calls + 1) // 2} SIP workers "
                f"(sip.workers={self.sip.workers}; each carries two bridged calls)"
            )
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments (init) first, then the environment, then the config file."""
        return init_settings, env_settings, _ConfigFileSource(settings_cls, _CONFIG_FILE.get())

    @property
    def edge_run_dir(self) -> Path:
        """The edge's files: kamailio.cfg, the devices' credentials, the RPC socket."""
        return self.data_dir / "edge"

    @property
    def edge_active(self) -> bool:
        """Whether the SIP edge runs in front of PJSUA2 (also whenever a phone has credentials)."""
        return self.edge.active(self.sip, devices=has_devices(self.edge_run_dir))

    def sip_engine_settings(self) -> SipSettings:
        """PJSUA2's settings: as configured, or loopback-only with the edge as outbound proxy behind the edge."""
        settings = self.sip.to_sip_settings()
        if not self.edge_active:
            return settings
        # Its Contact must name the loopback port the edge forwards to, so no public address for SIP here;
        # RTP keeps the configured address, since the trunk's media goes to it directly, not through the edge.
        return replace(
            settings,
            bind_host="127.0.0.1",
            port=0,
            public_host=None,
            media_host=settings.media_host or settings.bind_host,
            media_public_host=settings.media_public_host or settings.public_host,
            outbound_proxy=None,  # the trunk's own proxy, if any, is the edge's next hop (route[TRUNK_PROXY])
            edge_proxy=self.edge.proxy_uri,
        )

    @property
    def recordings_dir(self) -> Path:
        """Where call recordings go (in date folders)."""
        return self.data_dir / "recordings"

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.data_dir / "hold_slayer.sqlite3"

    @property
    def token_file(self) -> Path:
        """Where a token generated at the first start is kept when none is configured."""
        return self.data_dir / "token"

    def require_token(self) -> str:
        """Return the configured client token; raise SettingsError when none is set or it is too short."""
        token = self.token.get_secret_value().strip() if self.token else ""
        if not token:
            raise SettingsError(
                "no token set: pass --token, set HOLD_SLAYER_TOKEN, or put 'token:' in the --config file "
                "(clients must present it; the sidecar never runs open)"
            )
        return _long_enough(token, "the configured token")

    def token_or_generate(self) -> tuple[str, bool]:
        """Return the configured token, else the one in ``token_file``, else a new one written there.

        The second value is True when the token was generated now (the user must copy it into Home Assistant).
        """
        if self.token is not None and self.token.get_secret_value().strip():
            return self.require_token(), False
        path = self.token_file
        try:
            return _long_enough(path.read_text(encoding="utf-8").strip(), f"the token in {path}"), False
        except FileNotFoundError:
            pass
        except OSError as err:
            raise SettingsError(f"cannot read {path}: {err}") from err
        token = secrets.token_urlsafe(32)  # 43 characters, 256 bits
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Created readable by its owner only, in one step: never a moment when others could read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(token + "\n")
        except OSError as err:
            raise SettingsError(f"cannot write a new token to {path}: {err}") from err
        return token, True


def _long_enough(token: str, what: str) -> str:
    if len(token) < MIN_TOKEN_LENGTH:
        raise SettingsError(
            f"{what} has {len(token)} characters; use at least {MIN_TOKEN_LENGTH} random ones, for example "
            "the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return token


def load_settings(overrides: dict[str, Any], config_file: Path | None) -> SidecarSettings:
    """Build settings from command-line overrides, the environment and an optional file."""
    marker = _CONFIG_FILE.set(config_file)
    try:
        return SidecarSettings(**{key: value for key, value in overrides.items() if value is not None})
    finally:
        _CONFIG_FILE.reset(marker)

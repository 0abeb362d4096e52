"""Apply a ``configure`` request as one unit: check everything, register the trunk, rewire, keep, report.

Order: validate (nothing touched) -> ask the Wyoming services chosen -> give the workers the new trunk and
wait a bounded time for the registrar's answer -> rewire the call manager (phones, voice, spoken lines) ->
keep the settings in the data directory -> publish ``settings_applied``. A refusal at any step puts the trunk
back as it was and applies nothing. Calls in progress keep their trunk account, their voice and their lines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Final, Protocol

from pydantic import ValidationError

from ..edge.config import EdgeSettings
from ..edge.errors import EdgeError
from ..protocol import ConfigureResult, ErrorCode, EventType, Registration
from ..settings import SidecarSettings
from ..sip.api import SipError, Unsubscribe
from ..sip.settings import SipSettings
from . import store
from .checks import WYOMING_TIMEOUT_S, check_wyoming, registration
from .model import ConfigureRequest, check_hostport

_LOGGER = logging.getLogger(__name__)

# How long configure waits for the registrar's final answer. PJSIP retransmits a UDP REGISTER at 0.5, 1, 2
# and 4 s (RFC 3261 s17.1.2.2 timer E); a registrar that has not answered those four in 6 s will not answer a
# form in time either, and PJSIP's own 408 comes only with timer F at 32 s.
REGISTER_WAIT_S: Final = 6.0
NO_ANSWER: Final = 408  # RFC 3261 s21.4.9 Request Timeout: what timer F would report


class ConfigureRefused(Exception):
    """A request that was not applied, with the protocol error code and a message the form shows."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TrunkEngine(Protocol):
    """What the control needs from the SIP engine (the worker pool)."""

    settings: SipSettings

    @property
    def registered(self) -> bool:
        """Whether the trunk is registered (True without a registrar)."""
        ...

    @property
    def registration_status(self) -> tuple[int, str]:
        """The registrar's last answer."""
        ...

    @property
    def worker_pids(self) -> list[int | None]:
        """Each media worker's pid, None while it restarts."""
        ...

    async def set_trunk(self, settings: SipSettings) -> None:
        """Use a new trunk for new calls."""
        ...

    async def wait_registration(self, timeout_s: float) -> tuple[int, str] | None:
        """Return the first answer to the new trunk's REGISTER, or None."""
        ...

    def subscribe_registration(self, callback: Callable[[tuple[bool, int, str]], None]) -> Unsubscribe:
        """Be told of every registration change."""
        ...


class EdgeHandle(Protocol):
    """The SIP edge, when it runs."""

    settings: EdgeSettings

    @property
    def pid(self) -> int | None:
        """Return the pid of kamailio while it runs."""
        ...

    async def start(self) -> None:
        """Start it."""
        ...

    async def stop(self) -> None:
        """Stop it."""
        ...


type Rewire = Callable[[SidecarSettings, bool], Awaitable[dict[str, str]]]  # (settings, voice changed) -> health


class SettingsControl:
    """Applies ``configure`` and answers ``get_settings``; reports registration and engine health."""

    def __init__(
        self,
        settings: SidecarSettings,
        kept: ConfigureRequest | None,
        *,
        sip: TrunkEngine,
        rewire: Rewire,
        publish: Callable[[str, dict[str, Any]], None],
        edge: EdgeHandle | None = None,
        health: dict[str, str] | None = None,
        register_wait_s: float = REGISTER_WAIT_S,
        wyoming_timeout_s: float = WYOMING_TIMEOUT_S,
    ) -> None:
        self._settings = settings
        self._kept = kept
        self._sip = sip
        self._rewire = rewire
        self._publish = publish
        self._edge = edge
        self._health = dict(health or {})
        self._register_wait_s = register_wait_s
        self._wyoming_timeout_s = wyoming_timeout_s
        self._lock = asyncio.Lock()  # one configure at a time: two would interleave trunk swaps
        self._quiet = False  # while a configure runs, registration changes are reported once, at its end
        self._unsubscribe = sip.subscribe_registration(self._on_registration)

    @property
    def data_dir(self) -> Path:
        """Where the settings are kept."""
        return self._settings.data_dir

    def set_health(self, health: dict[str, str]) -> None:
        """Take the voice engines' health (measured once everything is built)."""
        self._health = dict(health)

    def close(self) -> None:
        """Stop listening to the SIP engine."""
        self._unsubscribe()

    # ----- reports -----

    def registration(self) -> Registration:
        """Return the trunk's registration now."""
        registrar = self._settings.sip.registrar
        code, reason = self._sip.registration_status
        return registration(
            code,
            reason,
            registered=self._sip.registered and registrar is not None,
            hostport=_hostport(registrar),
            user=self._settings.sip.username,
        )

    def engines(self) -> dict[str, str]:
        """Health per engine role: the voice engines, the LLM, the media workers and the SIP edge."""
        health = dict(self._health)
        pids = self._sip.worker_pids
        down = sum(1 for pid in pids if pid is None)
        health["sip_workers"] = "ok" if pids and not down else f"unavailable: {down} of {len(pids)} restarting"
        if self._edge is None:
            health["edge"] = "not configured"
        else:
            health["edge"] = "ok" if self._edge.pid is not None else "unavailable: kamailio is restarting"
        return health

    def get_settings(self) -> dict[str, Any]:
        """Return the settings applied from Home Assistant, secrets left out (only whether one is set)."""
        data = store.dump(self._kept, secrets=False) if self._kept is not None else {}
        return {**data, "registration": self.registration(), "engines": self.engines()}

    def _on_registration(self, _change: tuple[bool, int, str]) -> None:
        if not self._quiet:
            self._announce()

    def _announce(self) -> None:
        self._publish(EventType.SETTINGS_APPLIED, {"registration": self.registration(), "engines": self.engines()})

    # ----- configure -----

    async def configure(self, data: dict[str, Any]) -> ConfigureResult:
        """Apply a request as one unit, or raise ``ConfigureRefused`` having applied nothing."""
        try:
            request = ConfigureRequest.model_validate(data)
        except ValidationError as err:
            raise ConfigureRefused(ErrorCode.INVALID_DATA, _describe(err)) from err
        if not request.sections():
            raise ConfigureRefused(
                ErrorCode.INVALID_DATA, "nothing to configure: give trunk, user_phones, voice, courtesy or receptionist"
            )
        async with self._lock:
            self._quiet = True
            try:
                return await self._configure(request)
            finally:
                self._quiet = False

    async def _configure(self, request: ConfigureRequest) -> ConfigureResult:
        merged = store.merge(self._kept, request)
        try:
            new = store.overlay(self._settings, merged)
        except ValidationError as err:
            raise ConfigureRefused(ErrorCode.INVALID_DATA, _describe(err)) from err
        sections = request.sections()
        if request.voice is not None:
            await self._check_voice(new)
        if "trunk" in sections:
            await self._apply_trunk(new)
        self._health = await self._rewire(new, "voice" in sections)
        self._settings, self._kept = new, merged
        try:
            await asyncio.to_thread(store.save, new.data_dir, merged)
        except OSError as err:  # applied but not kept: say so, the next start uses the YAML again
            _LOGGER.error("settings applied but not kept in %s: %s", new.data_dir, err)
        _LOGGER.info("settings from Home Assistant applied: %s", ", ".join(sections))
        self._announce()
        return ConfigureResult(applied=sections, registration=self.registration(), engines=self.engines())

    async def _check_voice(self, new: SidecarSettings) -> None:
        checks = [
            (role, url)
            for role, kind, url in (
                ("stt", new.voice.stt, new.voice.stt_url),
                ("tts", new.voice.tts, new.voice.tts_url),
            )
            if kind == "wyoming" and url
        ]
        problems = await asyncio.gather(*(check_wyoming(role, url, self._wyoming_timeout_s) for role, url in checks))
        found = [f"voice.{role}_url: {problem}" for (role, _), problem in zip(checks, problems, strict=True) if problem]
        if found:
            raise ConfigureRefused(ErrorCode.INVALID_DATA, "; ".join(found))

    async def _apply_trunk(self, new: SidecarSettings) -> None:
        previous_sip, previous_edge = self._sip.settings, self._edge.settings if self._edge else None
        wanted = self._trunk_for_workers(new)
        try:
            await self._restart_edge(new)
            await self._sip.set_trunk(wanted)
            if new.sip.registrar is None:
                return
            answer = await self._sip.wait_registration(self._register_wait_s)
            code, reason = answer if answer is not None else (NO_ANSWER, "no answer")
            if 200 <= code < 300:
                return
            refused = registration(
                code, reason, registered=False, hostport=_hostport(new.sip.registrar), user=new.sip.username
            )
            raise ConfigureRefused(ErrorCode.SIP_ERROR, refused["reason"] or f"the registrar answered {code}")
        except (SipError, EdgeError) as err:
            await self._put_back(previous_sip, previous_edge)
            raise ConfigureRefused(ErrorCode.SIP_ERROR, f"cannot use this trunk: {err}") from err
        except ConfigureRefused:
            await self._put_back(previous_sip, previous_edge)
            raise

    def _trunk_for_workers(self, new: SidecarSettings) -> SipSettings:
        """Return the workers' settings with only the trunk fields changed (their sockets and edge stay as started)."""
        trunk = new.sip.to_sip_settings()
        return replace(
            self._sip.settings,
            registrar=trunk.registrar,
            username=trunk.username,
            password=trunk.password,
            domain=trunk.domain,
            realm=trunk.realm,
            # Behind the edge the trunk's proxy is the edge's next hop, not the workers' (see sip_engine_settings).
            outbound_proxy=None if self._edge is not None else trunk.outbound_proxy,
            dtmf_method=trunk.dtmf_method,
            dtmf_duration_ms=trunk.dtmf_duration_ms,
            dtmf_gap_ms=trunk.dtmf_gap_ms,
        )

    async def _restart_edge(self, new: SidecarSettings) -> None:
        """Restart kamailio when the trunk changes its next hop (a dialog in progress keeps its Record-Route)."""
        if self._edge is None:
            return
        wanted = new.edge.to_edge_settings(new.sip, self._edge.settings.worker_ports)
        if wanted != self._edge.settings:
            await self._edge.stop()
            self._edge.settings = wanted
            await self._edge.start()

    async def _put_back(self, sip: SipSettings, edge: EdgeSettings | None) -> None:
        try:
            if self._edge is not None and edge is not None and edge != self._edge.settings:
                await self._edge.stop()
                self._edge.settings = edge
                await self._edge.start()
            await self._sip.set_trunk(sip)
        except (SipError, EdgeError) as err:  # logged: the refusal the user sees is the original one
            _LOGGER.error("cannot put the previous trunk back: %s", err)


def _hostport(registrar: str | None) -> str | None:
    if not registrar:
        return None
    text = registrar.split(";", 1)[0].removeprefix("sip:")
    try:
        host, port = check_hostport(text)
    except ValueError:
        return text
    return f"{host}:{port or 5060}"


def _describe(err: ValidationError) -> str:
    """'field: problem' for each error (at most five), so the form can say which field is wrong."""
    parts = []
    for item in err.errors()[:5]:
        field = ".".join(str(part) for part in item["loc"]) or "data"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
    return "; ".join(parts)

"""Run the sidecar: parse arguments, build settings and engines, wire them, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import json
import logging
import os
import resource
import signal
import ssl
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from .announce import AnnounceError, ServiceAnnouncer, announced_addresses, is_loopback
from .audio.detector import HoldDetector
from .calls.manager import VERSION, CallManager
from .calls.ports import Engines, ManagerConfig, NavigatorFactory
from .calls.session import CallPolicy
from .configure import store as settings_store
from .configure.control import SettingsControl
from .configure.model import ConfigureRequest
from .configure.rewiring import Rewiring
from .edge import EdgeError, EdgeSupervisor
from .edge.registrar import EdgeRegistrar
from .history.facade import CallsAndHistory
from .history.model_summary import ModelSummaries
from .history.recorder import CallRecorder, TranscriptPrivacy
from .history.retention import Retention, RetentionJob, recover
from .history.service import HistoryService
from .identity import IdentityError, load_or_create_sidecar_id
from .inbound.directory import Directory
from .inbound.handler import InboundCalls, InboundConfig, InboundEngines
from .inbound.ports import Registrar, Screener
from .inbound.receptionist.dialogue import Receptionist
from .inbound.service import InboundService
from .inbound.voicemail import DEFAULT_GREETING, VoicemailSettings
from .nav.api import Navigator
from .nav.flows import CallFlow
from .nav.matcher import MenuMatcher
from .nav.navigator import MenuNavigator
from .protocol import WS_PATH
from .server.app import ServerLimits, SidecarServer, build_app
from .server.guard import ConnectionLimits
from .server.hello_limit import HelloLimits
from .server.hub import EventHub
from .settings import SettingsError, SidecarSettings, load_settings
from .sip.api import SipEngine, SipError
from .sip.pool import WorkerPoolEngine
from .store.history import TranscriptLine
from .store.inbound import InboundStore
from .store.sqlite import Store, StoreError
from .summary.llm import summarize
from .summary.model import Said
from .tls import TlsError, fingerprint, load_or_create_certificate, server_context
from .voice.api import ChatModel
from .voice.current import CurrentVoice
from .voice.factory import VoiceEngines, build_voice_engines

_LOGGER = logging.getLogger("hold_slayer_sidecar")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (every option may also come from HOLD_SLAYER_* or --config)."""
    parser = argparse.ArgumentParser(
        prog="python -m hold_slayer_sidecar",
        description="Hold Slayer sidecar: dials companies over SIP, waits on hold, rings you when a person answers.",
        epilog="Settings precedence: arguments > environment (HOLD_SLAYER_*, nested with __) > --config file.",
    )
    parser.add_argument("--config", type=Path, help="YAML or JSON settings file")
    parser.add_argument("--host", help="websocket bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="websocket port (default 8765; 0 picks a free one)")
    parser.add_argument(
        "--token",
        help="client token, at least 24 characters (prefer HOLD_SLAYER_TOKEN: arguments show up in ps); "
        "without one the sidecar uses DATA_DIR/token, generating it at the first start",
    )
    parser.add_argument("--data-dir", type=Path, help="recordings and the SQLite file go here")
    parser.add_argument("--user-phone", help="default transfer target (SIP URI or number)")
    parser.add_argument("--sip-host", help="SIP/RTP bind address")
    parser.add_argument(
        "--sip-port", type=int, help="media worker 0's SIP UDP port; worker N uses it + N (0: free ones)"
    )
    parser.add_argument("--sip-workers", type=int, help="media worker processes, two calls each (default 2)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    parser.add_argument(
        "--ready-file", type=Path, help="write {ws_port, sip_port, sip_ports, ws_url} here once listening"
    )
    return parser.parse_args(argv)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the settings given on the command line (None means 'not given')."""
    given_sip = (("bind_host", args.sip_host), ("port", args.sip_port), ("workers", args.sip_workers))
    sip = {key: value for key, value in given_sip if value is not None}
    given: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "token": args.token,
        "data_dir": args.data_dir,
        "user_phone": args.user_phone,
        "log_level": args.log_level,
    }
    if sip:
        given["sip"] = sip
    return {key: value for key, value in given.items() if value is not None}


def navigator_factory(llm: ChatModel | None, home_country: str = "US") -> NavigatorFactory:
    """Build one navigator per call around shared models (the embedding model loads once, lazily).

    The call logic runs stored flows itself, so a call's navigator decides only prompts the flow leaves
    open (LISTEN steps without a stored choice, or every prompt of an explored call) and records them
    for the learner.
    """
    shared = MenuNavigator(MenuMatcher(home_country=home_country), llm=llm)

    def build(flow: CallFlow | None) -> Navigator:
        return shared.for_call(None)

    return build


def policy(settings: SidecarSettings) -> CallPolicy:
    """Build per-call timeouts from the settings."""
    t = settings.timeouts
    return CallPolicy(
        max_ring_s=t.max_ring_s,
        max_ivr_s=t.max_ivr_s,
        max_hold_s=t.max_hold_s,
        ring_user_s=t.ring_user_s,
        probe_wait_s=t.probe_wait_s,
        courtesy_text=settings.courtesy.greeting_text(),
        still_connecting_text=settings.courtesy.still_connecting_text(),
        still_connecting_every_s=settings.courtesy.still_connecting_every_s,
    )


async def open_store(settings: SidecarSettings, cleanup: contextlib.AsyncExitStack) -> Store:
    """Open the database, recover what a killed sidecar left, and start the retention job."""
    store = Store(settings.database)
    await store.open()
    cleanup.push_async_callback(store.close)
    # Calls a killed sidecar left live: interrupted, their WAVs listed and made playable.
    await recover(store, settings.recordings_dir)
    policy = retention_policy(settings)
    retention = RetentionJob(store, settings.recordings_dir, policy, voicemails=InboundStore(store))
    await retention.start()
    cleanup.push_async_callback(retention.stop)
    return store


async def serve(settings: SidecarSettings, token: str, ready_file: Path | None) -> None:
    """Build every engine, serve clients, and shut down cleanly on SIGTERM/SIGINT."""
    settings, kept = await asyncio.to_thread(with_kept_settings, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async with contextlib.AsyncExitStack() as cleanup:  # closed in reverse order, also after a failed start
        store = await open_store(settings, cleanup)
        # PJSUA2 runs only in the worker processes: a crash there ends that worker's calls, not the sidecar.
        sip = WorkerPoolEngine(
            settings.sip_engine_settings(), workers=settings.sip.workers, log_level=settings.log_level
        )
        await sip.start()
        cleanup.push_async_callback(sip.stop)
        edge = await start_edge(settings, tuple(sip.worker_ports))  # the edge spreads inbound INVITEs over them
        if edge is not None:
            cleanup.push_async_callback(edge.stop)  # after the manager's hang-ups, whose BYEs pass through it
        voice = build_voice_engines(settings.voice)
        current = CurrentVoice(voice)  # what Home Assistant's voice settings replace, without a restart
        standins = VoiceEngines(stt=current.stt(), tts=current.tts(), llm=current.llm())
        engines = manager_engines(settings, sip, store, voice)
        manager = CallManager(engines, manager_config(settings))
        hub = EventHub()
        manager.subscribe(hub.publish)
        recorder = build_recorder(settings, sip, store, standins, manager.publish)
        await recorder.start()
        cleanup.push_async_callback(recorder.stop)  # after the calls are hung up: last lines and summaries
        manager.subscribe(recorder.on_event)
        manager.watch_legs(recorder.on_leg)
        await manager.start()
        cleanup.push_async_callback(manager.stop)  # hangs up every call before the engine stops
        registrar = build_registrar(settings, edge)  # None without the edge or with phones switched off
        screener = build_receptionist(settings, sip, standins)
        inbound = await start_inbound(
            settings, sip, store, standins, manager, cleanup=cleanup, screener=screener, registrar=registrar
        )
        sidecar_id = await asyncio.to_thread(load_or_create_sidecar_id, settings.data_dir)
        rewiring = Rewiring(
            manager,
            engines,
            voice,
            settings,
            manager_config=manager_config,
            navigator_factory=navigator_factory,
            current=current,
            appliers=[reception_applier(screener, inbound.calls if inbound is not None else None)],
        )
        control = SettingsControl(settings, kept, sip=sip, rewire=rewiring, publish=manager.publish, edge=edge)
        control.set_health(await rewiring.health())
        cleanup.callback(control.close)
        summaries = ModelSummaries(store, manager.publish)
        history = HistoryService(store, settings.recordings_dir)
        service = CallsAndHistory(manager, history, summaries, inbound=inbound, settings=control)
        app = build_app(
            service, hub, token=token, version=VERSION, limits=server_limits(settings), sidecar_id=sidecar_id
        )
        context, tls_fingerprint = await asyncio.to_thread(tls_setup, settings, sidecar_id)
        server = SidecarServer(app, settings.host, settings.port, ssl_context=context)
        await server.start()
        cleanup.push_async_callback(server.stop)
        await announce(settings, server.port, sidecar_id, token, cleanup, tls=context is not None)
        await report_ready(settings, server.port, sip, edge, tls_fingerprint=tls_fingerprint, ready_file=ready_file)
        await stop.wait()
        _LOGGER.info("shutting down")


async def report_ready(
    settings: SidecarSettings,
    ws_port: int,
    sip: WorkerPoolEngine,
    edge: EdgeSupervisor | None,
    *,
    tls_fingerprint: str | None,
    ready_file: Path | None,
) -> None:
    """Log where the sidecar listens and write the ready file tests and launchers wait for."""
    url = f"{'wss' if tls_fingerprint else 'ws'}://{settings.host}:{ws_port}{WS_PATH}"
    sip_port, sip_uri = (edge.settings.port, edge.settings.public_uri) if edge else (sip.local_port, sip.local_uri)
    _LOGGER.info("listening on %s (SIP on %s; media workers on ports %s)", url, sip_uri, sip.worker_ports)
    if tls_fingerprint:
        _LOGGER.info("TLS certificate fingerprint (SHA-256, HA shows it when you add the sidecar): %s", tls_fingerprint)
    if ready_file is not None:
        ready = {
            "ws_port": ws_port,
            "sip_port": sip_port,
            "sip_ports": sip.worker_ports,  # every media worker's own SIP port (behind the edge, if any)
            "ws_url": url,
            "sip_uri": sip_uri,
        }
        ready["tls_fingerprint"] = tls_fingerprint
        await asyncio.to_thread(_write_atomically, ready_file, json.dumps(ready))


def with_kept_settings(settings: SidecarSettings) -> tuple[SidecarSettings, ConfigureRequest | None]:
    """Put what Home Assistant set (``configure``) over the YAML file's settings, section by section."""
    kept = settings_store.load(settings.data_dir)
    try:
        return settings_store.overlay(settings, kept), kept
    except ValidationError as err:
        _LOGGER.error("the settings kept from Home Assistant do not fit this configuration, ignored: %s", err)
        return settings, None


def server_limits(settings: SidecarSettings) -> ServerLimits:
    """Bounds on websocket clients from the settings."""
    ws = settings.websocket
    return ServerLimits(
        connections=ConnectionLimits(
            max_pending=ws.max_pending_connections, handshake_timeout_s=ws.handshake_timeout_s
        ),
        hellos=HelloLimits(
            max_failures=ws.max_failed_hellos, window_s=ws.failed_hello_window_s, cooldown_s=ws.failed_hello_cooldown_s
        ),
    )


# Descriptors the sidecar needs besides websocket clients: SQLite and its WAL, PJSUA2's SIP and RTP sockets
# (two per leg), recordings, and the model files that load while a call starts.
FILE_HEADROOM = 256


def raise_file_limit(settings: SidecarSettings) -> None:
    """Raise the soft RLIMIT_NOFILE to the hard limit, so clients cannot starve model and file opens."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    needed = settings.websocket.max_pending_connections + FILE_HEADROOM
    if soft != resource.RLIM_INFINITY and soft < needed:
        _LOGGER.warning("only %d file descriptors allowed; %d or more are advised", soft, needed)


def tls_setup(settings: SidecarSettings, sidecar_id: str) -> tuple[ssl.SSLContext | None, str | None]:
    """Return the server's TLS context and certificate fingerprint, or (None, None) for plain ws://."""
    wanted = settings.tls if settings.tls is not None else not is_loopback(settings.host)
    if not wanted:
        return None, None
    cert, key = load_or_create_certificate(settings.data_dir, f"Hold Slayer sidecar {sidecar_id[:8]}")
    return server_context(cert, key), fingerprint(cert)


async def announce(
    settings: SidecarSettings,
    port: int,
    sidecar_id: str,
    token: str,
    cleanup: contextlib.AsyncExitStack,
    *,
    tls: bool = False,
) -> None:
    """Announce a sidecar bound off loopback on the LAN (zeroconf) and log the token HA will ask for."""
    if is_loopback(settings.host):
        return
    announcer = ServiceAnnouncer(
        addresses=await asyncio.to_thread(announced_addresses, settings.host),
        port=port,
        sidecar_id=sidecar_id,
        version=VERSION,
        tls=tls,
    )
    try:
        await announcer.start()
    except AnnounceError as err:
        # Not fatal: the user can still add the sidecar by its address in HA.
        _LOGGER.warning("%s", err)
        return
    cleanup.push_async_callback(announcer.stop)
    # The zeroconf flow asks for this; the log is where someone who set up the sidecar already looks.
    _LOGGER.info("Home Assistant will offer this sidecar; when it asks for the token, paste: %s", token)


def retention_policy(settings: SidecarSettings) -> Retention:
    """How much history to keep."""
    return Retention(days=settings.history.retention_days, max_bytes=settings.history.max_recordings_mb * 1024**2)


def build_recorder(
    settings: SidecarSettings,
    sip: SipEngine,
    store: Store,
    voice: VoiceEngines,
    publish: Callable[[str, dict[str, Any]], None],
) -> CallRecorder:
    """Wire the history recorder: conversation transcription, privacy, and the summariser."""
    chat = voice.llm if settings.history.summary_llm else None

    async def summarise(lines: list[TranscriptLine], started_at: float, company: str | None) -> dict[str, Any]:
        said = [Said(line.speaker, line.text, line.offset_s) for line in lines]
        day = datetime.fromtimestamp(started_at).date()  # "Tuesday" means the user's Tuesday: the host's zone
        return (await summarize(said, day, company, chat)).as_dict()

    history = settings.history
    privacy = TranscriptPrivacy(
        bridged=history.transcribe_conversation,
        private_companies=frozenset(name.strip().casefold() for name in history.private_companies),
    )
    return CallRecorder(store, sip=sip, publish=publish, stt=voice.stt, summarize=summarise, privacy=privacy)


async def start_edge(settings: SidecarSettings, worker_ports: tuple[int, ...]) -> EdgeSupervisor | None:
    """Start the SIP edge in front of the workers when the settings call for it."""
    if not settings.edge_active:
        if settings.sip.bind_host not in ("127.0.0.1", "::1", "localhost"):
            _LOGGER.warning("SIP edge disabled: PJSUA2 faces the network on %s directly", settings.sip.bind_host)
        return None
    edge = EdgeSupervisor(settings.edge.to_edge_settings(settings.sip, worker_ports), settings.edge_run_dir)
    await edge.start()
    return edge


def build_registrar(settings: SidecarSettings, edge: EdgeSupervisor | None) -> EdgeRegistrar | None:
    """Return the registrar for local phones (the inbound handler's ``Registrar``) when the edge has one."""
    if edge is None or not edge.settings.registrar:
        return None
    host = edge.settings.host
    # Phones need an address they can reach: for a wildcard bind, the machine's first LAN address.
    address = (announced_addresses(host) or ["127.0.0.1"])[0] if host in ("0.0.0.0", "::") else None
    return EdgeRegistrar.for_edge(edge.settings, settings.edge_run_dir, address=address)


def manager_engines(settings: SidecarSettings, sip: SipEngine, store: Store, voice: VoiceEngines) -> Engines:
    """Build the engines the call manager drives."""
    return Engines(
        sip=sip,
        detector_factory=HoldDetector,
        store=store,
        stt=voice.stt,
        tts=voice.tts,
        navigator_factory=navigator_factory(voice.llm, settings.home_country),
    )


def manager_config(settings: SidecarSettings) -> ManagerConfig:
    """Build the call manager's settings (also rebuilt by ``configure``)."""
    return ManagerConfig(
        recordings_dir=settings.recordings_dir,
        user_phone=settings.user_phone,
        max_calls=settings.max_calls,
        sample_rate=settings.sip.clock_rate,
        dtmf_method=settings.sip.dtmf_method,
        record=settings.record,
        policy=policy(settings),
        relabel_menus=settings.voice.relabel_menus,
    )


def local_zone() -> ZoneInfo:
    """Return the host's IANA time zone (TZ, /etc/timezone, the /etc/localtime link), UTC when none is found."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        candidates.append(str(Path("/etc/localtime").resolve()).partition("zoneinfo/")[2])
    for name in candidates:
        if name:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                return ZoneInfo(name)
    return ZoneInfo("UTC")


def reception_applier(screener: Receptionist, calls: InboundCalls | None) -> Callable[[SidecarSettings], None]:
    """Return what gives the receptionist and the inbound half new settings (greeting, owner's name) live."""

    def apply(settings: SidecarSettings) -> None:
        screener.settings = settings.receptionist
        if calls is not None:
            calls.set_owner_name(settings.inbound.owner_name)

    return apply


def build_receptionist(settings: SidecarSettings, sip: WorkerPoolEngine, voice: VoiceEngines) -> Receptionist:
    """Build the AI receptionist on the shared engines (its LLM only when ``receptionist.use_llm``)."""
    return Receptionist(
        sip=sip,
        tts=voice.tts,
        stt=voice.stt,
        llm=voice.llm,
        settings=settings.receptionist,
        sample_rate=settings.sip.clock_rate,
    )


async def start_inbound(
    settings: SidecarSettings,
    sip: WorkerPoolEngine,
    store: Store,
    voice: VoiceEngines,
    manager: CallManager,
    *,
    cleanup: contextlib.AsyncExitStack,
    screener: Screener | None = None,
    registrar: Registrar | None = None,
) -> InboundService | None:
    """Wire the inbound half (rules, ring chain, voicemail) and plug it into the manager's inbound hook.

    Without a ``screener`` the default action takes a message; without a ``registrar`` registered phones
    cannot be added. None when the settings turn the inbound half off (inbound calls are then refused).
    """
    config = settings.inbound
    if not config.enabled:
        return None
    zone = ZoneInfo(config.time_zone) if config.time_zone else local_zone()
    inbound_store = InboundStore(store)
    directory = Directory(
        inbound_store,
        clock=time.time,
        publish=manager.publish,
        time_zone=zone,
        registrar=registrar,
        no_registrar=settings.edge.why_no_registrar(),
    )
    engines = InboundEngines(
        sip=sip,
        store=inbound_store,
        tts=voice.tts,
        stt=voice.stt,
        screener=screener,
        registrar=registrar,
        capacity=sip.room_beside,
    )
    voicemail = VoicemailSettings(
        limit_s=config.voicemail_limit_s,
        silence_limit_s=config.voicemail_silence_s,
        greeting=config.voicemail_greeting or DEFAULT_GREETING,
    )
    inbound_config = InboundConfig(
        recordings_dir=settings.recordings_dir,
        sample_rate=settings.sip.clock_rate,
        owner_name=config.owner_name,
        max_calls=config.max_calls,
        robocall_action=config.robocall_action,
        voicemail=voicemail,
    )
    calls = InboundCalls(engines, inbound_config, directory, clock=time.time, publish=manager.publish)
    await calls.start()
    cleanup.push_async_callback(calls.stop)  # before the SIP engine stops: its hang-ups still go out
    manager.set_inbound(calls)
    return InboundService(
        calls, inbound_store, recordings_dir=settings.recordings_dir, clock=time.time, publish=manager.publish
    )


def _write_atomically(path: Path, text: str) -> None:
    # A reader polling for the file never sees it half-written.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit 0 after a clean shutdown, 2 for bad settings, 1 when an engine cannot start."""
    args = parse_args(argv)
    try:
        settings = load_settings(overrides(args), args.config)
        token, generated = settings.token_or_generate()
    except (SettingsError, ValidationError) as err:
        print(f"hold-slayer-sidecar: {err}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if generated:  # the path, never the token itself: logs travel further than the data directory
        _LOGGER.warning("no token configured: generated one in %s; give it to Home Assistant", settings.token_file)
    raise_file_limit(settings)
    # A native library (PJSUA2, CTranslate2, ONNX Runtime) that crashes takes the process with it: leave every
    # thread's Python stack in the log so the crash can be traced.
    faulthandler.enable(all_threads=True)
    try:
        asyncio.run(serve(settings, token, args.ready_file))
    except (SipError, StoreError, IdentityError, TlsError, EdgeError, OSError) as err:
        _LOGGER.error("cannot run: %s", err)
        sys.exit(1)
    with contextlib.suppress(Exception):
        logging.shutdown()


if __name__ == "__main__":
    main()

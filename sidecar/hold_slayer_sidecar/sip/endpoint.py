"""Creating and destroying the PJSUA2 Endpoint with the settings that are known to work here."""

from __future__ import annotations

import contextlib
import logging
import random

import pjsua2 as pj

from .api import SipError
from .settings import SipSettings

_LOGGER = logging.getLogger("hold_slayer_sidecar.sip.pjsip")

# PJSIP levels 1..6 -> Python logging levels.
_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}
# PJSUA2 logs every failed call at level 1, also the expected answer "this call's slot is free now" that
# the engine's slot probe (core._slot_held) gets from getInfo.
_EXPECTED = ("INVITE session already terminated",)


class PjLogWriter(pj.LogWriter):  # type: ignore[misc]
    """Sends PJSIP's log to Python logging instead of stdout."""

    def write(self, entry: pj.LogEntry) -> None:
        """Forward one PJSIP log line."""
        with contextlib.suppress(Exception):  # logging must never raise into PJSIP
            message = str(entry.msg).rstrip()
            level = _LEVELS.get(int(entry.level), logging.DEBUG)
            if any(expected in message for expected in _EXPECTED):
                level = logging.DEBUG
            _LOGGER.log(level, "%s", message)


def create_endpoint(settings: SipSettings, writer: PjLogWriter) -> pj.Endpoint:
    """Create, initialise and start an Endpoint for one owning thread (call on that thread)."""
    ep = pj.Endpoint()
    ep.libCreate()
    try:
        _init(ep, settings, writer)
    except pj.Error as err:
        ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        raise SipError(f"cannot initialise PJSUA2: {err.reason}") from err
    except SipError:
        ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        raise
    return ep


def _init(ep: pj.Endpoint, settings: SipSettings, writer: PjLogWriter) -> None:
    cfg = pj.EpConfig()
    # One thread does everything: no PJSIP worker threads, callbacks only inside libHandleEvents.
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = settings.max_calls
    cfg.uaConfig.userAgent = settings.user_agent
    if settings.edge_proxy:
        # Global, so calls to SIP URIs (the user's phone) leave through the edge too, not only trunk calls.
        cfg.uaConfig.outboundProxies.append(settings.edge_proxy)
    cfg.logConfig.level = settings.log_level
    cfg.logConfig.consoleLevel = settings.log_level
    cfg.logConfig.writer = writer
    cfg.logConfig.decor = 0
    # Null sound device clocks the bridge; never auto-close it (closing stalls RFC 2833 digits ~2.4 s).
    cfg.medConfig.sndAutoCloseTime = -1
    cfg.medConfig.noVad = True
    cfg.medConfig.ecTailLen = 0
    cfg.medConfig.clockRate = settings.clock_rate
    cfg.medConfig.sndClockRate = settings.clock_rate
    cfg.medConfig.channelCount = 1
    cfg.medConfig.audioFramePtime = 20
    cfg.medConfig.threadCnt = 1
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    _set_codec_priorities(ep, settings.codecs)


def create_transports(ep: pj.Endpoint, settings: SipSettings) -> int:
    """Open the UDP SIP transport and a TCP one on the same port; return the bound port.

    UDP is what trunks and peers use by default; TCP (RFC 3261 s18) serves ``;transport=tcp`` URIs.
    A missing TCP transport is logged, not fatal.
    """
    try:
        tid = int(ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, _sip_config(settings, settings.port)))
    except pj.Error as err:
        raise SipError(f"cannot bind SIP transport {settings.bind_host}:{settings.port}: {err.reason}") from err
    port = int(str(ep.transportGetInfo(tid).localName).rsplit(":", 1)[1])
    try:
        ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, _sip_config(settings, port))
    except pj.Error as err:
        _LOGGER.warning("no SIP/TCP transport on port %s: %s", port, err.reason)
    return port


def _sip_config(settings: SipSettings, port: int) -> pj.TransportConfig:
    cfg = pj.TransportConfig()
    cfg.boundAddress = settings.bind_host
    cfg.port = port
    if settings.public_host:
        cfg.publicAddress = settings.public_host
    return cfg


def rtp_config(settings: SipSettings) -> pj.TransportConfig:
    """RTP transport settings: bind on ``media_host`` (else like SIP), from a random even port (fewer clashes)."""
    cfg = pj.TransportConfig()
    cfg.boundAddress = settings.media_host or settings.bind_host
    public = settings.media_public_host or settings.public_host
    if public:
        cfg.publicAddress = public
    # RTP uses even ports (RFC 3550 s11); PJSUA walks upward from here when one is taken. Staying
    # below Linux's ephemeral range (32768+) avoids clashing with the OS's own port choices.
    cfg.port = random.randrange(16384, 30000, 2)  # not security relevant
    cfg.portRange = 2000
    return cfg


def _set_codec_priorities(ep: pj.Endpoint, wanted: tuple[str, ...]) -> None:
    available = {str(info.codecId): info for info in ep.codecEnum2()}
    ranked = {name.upper(): 255 - index for index, name in enumerate(wanted)}
    matched = False
    for codec_id in available:
        name = codec_id.split("/", 1)[0].upper()
        priority = ranked.get(name, 0)
        matched = matched or priority > 0
        ep.codecSetPriority(codec_id, priority)
    if not matched:
        raise SipError(f"none of the codecs {wanted} is available; have {sorted(available)}")

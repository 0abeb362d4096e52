"""Configuration of the PJSUA2 SIP engine (one endpoint per process)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..protocol import DtmfMethod


@dataclass(frozen=True, slots=True)
class SipSettings:
    """How the SIP engine binds, registers and sends media.

    Fields:
        bind_host: local IP address the UDP SIP transport (and RTP) binds to.
        port: local SIP port; 0 picks a free port (read the result from ``PjsuaEngine.local_port``).
        public_host: address advertised in Contact/SDP when behind NAT; None advertises ``bind_host``.
        media_host: address RTP binds to; None binds with SIP on ``bind_host``. Behind the SIP edge, SIP is
            on loopback while the trunk's media must still reach RTP (RFC 3550 flows go end to end).
        media_public_host: address advertised in SDP; None falls back to ``public_host``.
        registrar: trunk registrar URI (``sip:sip.example.com``); None means no trunk: no registration,
            only SIP URIs can be dialled and bare numbers are refused.
        username: trunk digest-auth user name (also the user part of the trunk account's address).
        password: trunk digest-auth password.
        domain: trunk domain used to build ``sip:{number}@{domain}``; None uses the registrar's host.
        realm: digest realm the credentials apply to; "*" answers any realm.
        outbound_proxy: optional SIP URI every trunk request is routed through (``sip:proxy;lr``).
        edge_proxy: the SIP edge every request of every account goes through (PJSUA's global outbound proxy,
            ``sip:127.0.0.1:PORT;lr``); None without the edge.
        register: whether the trunk account sends REGISTER. A pool of media workers registers from one
            worker only (two Contacts for one account would split the trunk's inbound calls); the others
            keep the credentials and answer digest challenges for their own INVITEs.
        dtmf_method: default way to send digits (RFC 4733 telephone-events, SIP INFO or in-band tones).
        dtmf_duration_ms: how long each digit lasts.
        dtmf_gap_ms: silence between two digits.
        codecs: audio codecs to offer, in priority order (PJSUA names such as "PCMU", "PCMA", "G722").
        clock_rate: conference-bridge and audio-frame sample rate in Hz (frames are 20 ms at this rate).
        user_agent: the User-Agent header.
        max_calls: simultaneous call legs allowed (PJSUA2 here is compiled for at most 4).
        log_level: PJSIP log verbosity 0-6 forwarded to Python logging (1 = errors only).
        rtp_peer_only: receive a call's RTP/RTCP only from the address its SDP names (``rtp_filter``): on,
            because trunks and LAN phones send from where they advertise (RFC 4961) and pjmedia otherwise
            lets a stranger's burst take the stream over. A peer whose RTP comes from elsewhere (NAT, asymmetric
            RTP) gets its call unfiltered after ``rtp_filter.LIFT_AFTER_S``; off for a trunk that always does that
            (its media is then latched onto from the start, and a burst from anyone can take it over).
    """

    bind_host: str = "127.0.0.1"
    port: int = 0
    public_host: str | None = None
    media_host: str | None = None
    media_public_host: str | None = None
    registrar: str | None = None
    username: str | None = None
    password: str | None = None
    domain: str | None = None
    realm: str = "*"
    outbound_proxy: str | None = None
    edge_proxy: str | None = None
    register: bool = True
    dtmf_method: DtmfMethod = DtmfMethod.RFC2833
    dtmf_duration_ms: int = 120
    dtmf_gap_ms: int = 120
    codecs: tuple[str, ...] = ("PCMU", "PCMA", "G722")
    clock_rate: int = 8000
    user_agent: str = "HoldSlayer/0.1"
    max_calls: int = 4
    log_level: int = 1
    rtp_peer_only: bool = True

    def __post_init__(self) -> None:
        """Reject settings PJSUA2 cannot honour with a clear message."""
        if not 0 <= self.port <= 65535:
            raise ValueError(f"SIP port {self.port} is out of range 0-65535")
        if not 1 <= self.max_calls <= 4:
            raise ValueError("max_calls must be 1-4 (PJSUA2 is compiled with PJSUA_MAX_CALLS=4)")
        if self.clock_rate not in (8000, 16000, 32000, 48000):
            raise ValueError(f"unsupported clock_rate {self.clock_rate}")
        if self.dtmf_duration_ms < 40 or self.dtmf_gap_ms < 0:
            raise ValueError("dtmf_duration_ms must be >= 40 and dtmf_gap_ms >= 0")
        if not self.codecs:
            raise ValueError("at least one codec is required")
        if self.registrar is not None and not self.username:
            raise ValueError("a registrar needs a username")

    @property
    def trunk_domain(self) -> str | None:
        """The domain used to dial bare numbers via the trunk, or None without a trunk."""
        if self.domain:
            return self.domain
        if not self.registrar:
            return None
        host = self.registrar.split(":", 1)[1] if ":" in self.registrar else self.registrar
        return host.split(";", 1)[0].split(">", 1)[0]


def settings_to_wire(settings: SipSettings) -> dict[str, Any]:
    """Return ``SipSettings`` as a JSON-ready mapping (sent to a media worker over its socket)."""
    data = asdict(settings)
    data["codecs"] = list(settings.codecs)
    data["dtmf_method"] = str(settings.dtmf_method)
    return data


def settings_from_wire(data: dict[str, Any]) -> SipSettings:
    """Rebuild ``SipSettings`` from ``settings_to_wire``'s JSON (tuples and enums arrive as lists and strings)."""
    data = dict(data)
    data["codecs"] = tuple(data.get("codecs", ()))
    data["dtmf_method"] = DtmfMethod(data.get("dtmf_method", DtmfMethod.RFC2833))
    return SipSettings(**data)

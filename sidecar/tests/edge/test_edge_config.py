"""The edge's generated configuration and its settings (pure: no kamailio needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hold_slayer_sidecar.edge import EdgeConfigError, EdgeSettings, render_config, render_dispatcher_list
from hold_slayer_sidecar.edge.config import host_of
from hold_slayer_sidecar.edge.supervisor import LogLimiter
from hold_slayer_sidecar.settings import SidecarSettings


def test_allow_list_becomes_one_subnet_check_per_network() -> None:
    cfg = render_config(EdgeSettings(allow_from=("203.0.113.7", "198.51.100.0/24", "::1")), Path("/run/edge"))
    allowed = cfg[cfg.index("route[INBOUND_ALLOWED]") : cfg.index("route[TRUNK_PROXY]")]
    assert '"203.0.113.7/32"' in allowed
    assert '"198.51.100.0/24"' in allowed
    assert '"::1/128"' in allowed
    assert allowed.count("return 1;") == 3


def test_empty_allow_list_admits_no_inbound_call() -> None:
    cfg = render_config(EdgeSettings(), Path("/run/edge"))
    allowed = cfg[cfg.index("route[INBOUND_ALLOWED]") : cfg.index("route[TRUNK_PROXY]")]
    assert "is_in_subnet" not in allowed
    assert "return -1;" in allowed


def test_sockets_and_workers() -> None:
    settings = EdgeSettings(host="192.0.2.10", port=5060, internal_port=5059, worker_ports=(5070, 5072))
    cfg = render_config(settings, Path("/run/edge"))
    assert 'listen=udp:192.0.2.10:5060 name "public"' in cfg
    assert 'listen=udp:127.0.0.1:5059 name "internal"' in cfg
    assert render_dispatcher_list(settings).splitlines()[1:] == [
        "1 sip:127.0.0.1:5070 0 0 socket=udp:127.0.0.1:5059",
        "1 sip:127.0.0.1:5072 0 0 socket=udp:127.0.0.1:5059",
    ]
    assert settings.proxy_uri == "sip:127.0.0.1:5059;lr"


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 5059},  # the public socket on the workers' side of loopback
        {"worker_ports": (5059,)},
        {"allow_from": ("not an address!",)},
        {"trunk_proxy": 'sip:x";\nexit;'},  # would rewrite the kamailio program
        {"flood_requests": 0},
    ],
)
def test_settings_that_would_open_or_break_the_edge_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(EdgeConfigError):
        render_config(EdgeSettings(**bad), Path("/run/edge"))  # type: ignore[arg-type]


def test_edge_is_on_with_a_trunk_and_pjsua_moves_to_loopback() -> None:
    settings = SidecarSettings(
        token="t" * 32, sip={"registrar": "sip:trunk.example", "username": "u", "bind_host": "0.0.0.0"}
    )
    assert settings.edge_active
    engine = settings.sip_engine_settings()
    assert (engine.bind_host, engine.port, engine.public_host) == ("127.0.0.1", 0, None)
    assert (engine.edge_proxy, engine.outbound_proxy) == ("sip:127.0.0.1:5059;lr", None)
    assert engine.media_host == "0.0.0.0"  # the trunk's RTP still reaches the media, not through the edge
    edge = settings.edge.to_edge_settings(settings.sip, (40000,))
    assert (edge.host, edge.port, edge.worker_ports) == ("0.0.0.0", 5060, (40000,))


def test_edge_is_off_on_loopback_without_a_trunk() -> None:
    settings = SidecarSettings(token="t" * 32)
    assert not settings.edge_active
    assert settings.sip_engine_settings() == settings.sip.to_sip_settings()
    assert SidecarSettings(token="t" * 32, edge={"enabled": True}).edge_active


def test_log_flood_is_limited_and_counted() -> None:
    now = [0.0]
    limiter = LogLimiter(rate=10, burst=5, clock=lambda: now[0])
    assert sum(limiter.allow() for _ in range(100)) == 5  # a burst passes, the rest is counted
    assert limiter.suppressed == 95
    now[0] = 1.0
    assert sum(limiter.allow() for _ in range(100)) == 5  # bucket capped at the burst after one quiet second


@pytest.mark.parametrize(
    ("uri", "host"),
    [
        ("sip:trunk.example", "trunk.example"),
        ("sip:user@203.0.113.7:5080;transport=udp", "203.0.113.7"),
        ("sips:[2001:db8::1]:5061", "2001:db8::1"),
        ("198.51.100.9:5060", "198.51.100.9"),
        ("sip:", None),
    ],
)
def test_host_of_a_trunk_uri(uri: str, host: str | None) -> None:
    assert host_of(uri) == host


def test_the_trunks_own_hosts_may_call_in_and_a_name_that_does_not_resolve_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_dns(name: str) -> list[str]:  # tests send nothing beyond loopback, DNS queries included
        raise EdgeConfigError(f"{name!r} does not resolve")

    monkeypatch.setattr("hold_slayer_sidecar.edge.config._resolve", no_dns)
    settings = SidecarSettings(
        token="t" * 32,
        sip={
            "registrar": "sip:203.0.113.7:5060",
            "outbound_proxy": "sip:name-that-does-not-resolve.invalid;lr",
            "username": "u",
            "bind_host": "0.0.0.0",
        },
    )
    edge = settings.edge.to_edge_settings(settings.sip, (40000,))
    assert edge.trunk_hosts == ("203.0.113.7", "name-that-does-not-resolve.invalid")
    cfg = render_config(edge, Path("/run/edge"))  # the unresolvable proxy does not keep the edge from starting
    allowed = cfg[cfg.index("route[INBOUND_ALLOWED]") : cfg.index("route[TRUNK_PROXY]")]
    assert '"203.0.113.7/32"' in allowed and allowed.count("return 1;") == 1

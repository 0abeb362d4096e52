"""The edge's settings and the kamailio configuration generated from them (pure: no processes, no I/O)."""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .emergency import emergency_digits_pattern, emergency_names_pattern
from .errors import EdgeConfigError

# Methods a call needs (RFC 3261, RFC 3262 PRACK, RFC 3311 UPDATE, RFC 6086 INFO for DTMF): the Allow
# header of the edge's own replies.
ALLOWED_METHODS = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK"
WORKER_SET = 1
# The digest realm of the registrar (RFC 7616 s3.3): fixed, so a device's HA1 stays valid whatever address
# the edge listens on; phones answer the realm the challenge names.
REALM = "hold-slayer"
# Every source of an allowed network counts, not only the exact address; 32/128 bits = one host.
_HOST_BITS = {4: 32, 6: 128}


_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    """How the edge listens, whom it admits, and where the PJSUA2 workers are.

    Fields:
        host: address the edge listens on for the network (the trunk reaches this).
        port: UDP port it listens on.
        advertise: address (host or host:port) put in Record-Route/Via when behind NAT; None uses ``host``.
        internal_port: loopback UDP port the workers send to (their outbound proxy).
        worker_ports: loopback UDP SIP ports of the PJSUA2 workers (the dispatcher set).
        allow_from: networks (IP, CIDR or host name, resolved once) that may start calls: the trunk's
            signalling addresses plus any LAN/loopback ranges configured on purpose. Empty = none.
        trunk_proxy: SIP URI the edge sends the workers' new requests through (a trunk's outbound proxy).
        trunk_hosts: the trunk's registrar and outbound proxy hosts: they may start calls too (a provider
            sends a registered account's calls from where it registers), resolved once; one that does not
            resolve now is left out with a warning instead of keeping the edge from starting.
        flood_requests: requests one address may send within ``flood_window_s`` before it is ignored.
        flood_window_s: pike's sampling window in seconds (also how long a flooding address stays ignored).
        invites_per_s: new inbound INVITEs passed to the workers per second, all sources together.
        max_inbound_calls: inbound calls alive at once through the edge (the workers' legs run out first).
        kamailio: the kamailio binary.
        log_level: kamailio's debug level (-5..3; 1 = notice, 2 = info).
        registrar: whether local phones may register (digest credentials in ``run_dir/db``); off, REGISTER
            gets 403.
        min_expires / max_expires: the registration interval a phone is granted, seconds.
        auth_failures: failed digests from one address before it is banned for ``ban_s`` seconds
            (failures count within ``auth_window_s`` of the last one).
        trunk_domain / trunk_username / trunk_password: the trunk account a registered phone's calls go
            out as (the From, and the answer to the trunk's challenge); no domain: phones' calls get 503.
        trunk_realm: the trunk's digest realm; None or "*" takes it from the challenge.
    """

    host: str = "127.0.0.1"
    port: int = 5060
    advertise: str | None = None
    internal_port: int = 5059
    worker_ports: tuple[int, ...] = ()
    allow_from: tuple[str, ...] = ()
    trunk_proxy: str | None = None
    trunk_hosts: tuple[str, ...] = ()
    flood_requests: int = 40
    flood_window_s: int = 2
    invites_per_s: int = 5
    max_inbound_calls: int = 2
    kamailio: str = "kamailio"
    log_level: int = 1
    registrar: bool = False
    min_expires: int = 60
    # Bindings live in kamailio's memory only: after an edge restart a phone is unreachable until it
    # registers again, so at most 10 minutes (a REGISTER every 10 minutes is nothing on a LAN).
    max_expires: int = 600
    auth_failures: int = 5
    auth_window_s: int = 300
    ban_s: int = 600
    trunk_domain: str | None = None
    trunk_username: str | None = None
    trunk_password: str | None = field(default=None, repr=False)
    trunk_realm: str | None = None

    def __post_init__(self) -> None:
        """Reject settings kamailio would misread or that would open the workers to the network."""
        for name, port in (("port", self.port), ("internal_port", self.internal_port)):
            if not 1 <= port <= 65535:
                raise EdgeConfigError(f"edge {name} {port} is out of range 1-65535")
        if any(not 1 <= port <= 65535 for port in self.worker_ports):
            raise EdgeConfigError(f"worker ports {self.worker_ports} must be 1-65535")
        if self.internal_port in self.worker_ports:
            raise EdgeConfigError(f"internal port {self.internal_port} is also a worker's port")
        if _is_loopback(self.host) and self.port in (self.internal_port, *self.worker_ports):
            raise EdgeConfigError(f"edge port {self.port} clashes with a loopback port of the edge or a worker")
        if self.flood_requests < 1 or self.flood_window_s < 1 or self.invites_per_s < 1 or self.max_inbound_calls < 1:
            raise EdgeConfigError("flood and call limits must be positive")
        if not -5 <= self.log_level <= 3:
            raise EdgeConfigError(f"kamailio log level {self.log_level} is out of range -5..3")
        if not 1 <= self.min_expires <= self.max_expires:
            raise EdgeConfigError(f"registration expiry {self.min_expires}..{self.max_expires} s is not a range")
        if self.auth_failures < 1 or self.auth_window_s < 1 or self.ban_s < 1:
            raise EdgeConfigError("auth failure limits must be positive")
        if self.trunk_domain is not None and not self.trunk_username:
            raise EdgeConfigError("a trunk domain for phones' calls needs the trunk's username")
        for text in (
            self.host,
            self.advertise or "",
            self.trunk_proxy or "",
            self.trunk_domain or "",
            self.trunk_username or "",
            self.trunk_realm or "",
        ):
            _refuse_quotes(text)
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in self.trunk_password or ""):
            raise EdgeConfigError("the trunk password contains control characters")

    @property
    def public_uri(self) -> str:
        """The SIP URI of the edge's public socket."""
        return f"sip:{_hostport(self.host, self.port)}"

    @property
    def proxy_uri(self) -> str:
        """The loose-routing URI the workers use as their outbound proxy (RFC 3261 s16.12)."""
        return f"sip:127.0.0.1:{self.internal_port};lr"


def render_config(settings: EdgeSettings, run_dir: Path, rpc_socket: Path | None = None) -> str:
    """Return the complete kamailio.cfg for ``settings`` (the dispatcher list lives in ``run_dir``)."""
    rpc_socket = rpc_socket or run_dir / "rpc.sock"
    for path in (run_dir, rpc_socket):
        _refuse_quotes(str(path))
    parts = [_header(settings, run_dir, rpc_socket), _policy(), _allow_route(settings), _trunk_route(settings)]
    parts += [_emergency_route(), _phone_trunk_route(settings)]
    return "\n".join([*parts, ""])


def render_dispatcher_list(settings: EdgeSettings) -> str:
    """Return dispatcher.list: one line per worker, each pinned to the internal socket."""
    lines = ["# setid destination flags priority attributes (generated by hold_slayer_sidecar.edge)"]
    socket_ = f"udp:127.0.0.1:{settings.internal_port}"
    lines += [f"{WORKER_SET} sip:127.0.0.1:{port} 0 0 socket={socket_}" for port in settings.worker_ports]
    return "\n".join(lines) + "\n"


def allowed_networks(entries: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Turn IPs, CIDRs and host names (resolved now, once) into networks; raise EdgeConfigError if unusable."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            networks += [ipaddress.ip_network(address) for address in _resolve(entry.strip())]
    return networks


def trunk_networks(hosts: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Networks of the trunk's own hosts; a name that does not resolve now is skipped (DNS may be down)."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for host in hosts:
        try:
            networks += allowed_networks((host,))
        except EdgeConfigError as err:
            _LOGGER.warning("edge: the trunk host %s is not admitted as a caller: %s", host, err)
    return networks


def host_of(uri: str) -> str | None:
    """Return the host of ``sip:user@host:port;params`` (or of a bare ``host[:port]``)."""
    rest = uri.strip()
    for scheme in ("sips:", "sip:"):
        if rest.lower().startswith(scheme):
            rest = rest[len(scheme) :]
    rest = rest.split(";", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):  # [IPv6]:port
        return rest[1 : rest.find("]")] or None if "]" in rest else None
    host = rest.split(":", 1)[0] if rest.count(":") <= 1 else rest
    return host or None


def _resolve(name: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as err:
        raise EdgeConfigError(f"allow_from entry {name!r} is neither an address nor a resolvable name: {err}") from err
    return sorted({str(info[4][0]) for info in infos})


def _header(settings: EdgeSettings, run_dir: Path, rpc_socket: Path) -> str:
    advertise = f" advertise {settings.advertise}" if settings.advertise else ""
    defines = {
        "EDGE_RUN_DIR": str(run_dir),
        "EDGE_RPC_SOCKET": str(rpc_socket),
        "EDGE_ALLOW": ALLOWED_METHODS,
        "EDGE_FLOOD_REQUESTS": str(settings.flood_requests),
        "EDGE_FLOOD_WINDOW_S": str(settings.flood_window_s),
        "EDGE_INVITES_PER_S": str(settings.invites_per_s),
        "EDGE_MAX_INBOUND_CALLS": str(settings.max_inbound_calls),
        "EDGE_REALM": REALM,
        "EDGE_MIN_EXPIRES": str(settings.min_expires),
        "EDGE_MAX_EXPIRES": str(settings.max_expires),
        "EDGE_AUTH_FAILURES": str(settings.auth_failures),
        "EDGE_AUTH_WINDOW_S": str(settings.auth_window_s),
        "EDGE_BAN_S": str(settings.ban_s),
    }
    lines = [
        "#!KAMAILIO",
        "# Generated by hold_slayer_sidecar.edge: edit the settings, not this file.",
        *(["#!define EDGE_REGISTRAR"] if settings.registrar else []),
        *(f'#!substdef "!{name}!{value}!g"' for name, value in defines.items()),
        f"debug={settings.log_level}",
        "log_stderror=yes",
        "fork=yes",
        # Two UDP receivers per socket: the edge's work per message is microseconds; 2 cores here.
        "children=2",
        # UDP only for now; TCP/TLS to the trunk is a later step (and a wider attack surface).
        "disable_tcp=yes",
        "auto_aliases=no",
        "server_signature=no",
        "sip_warning=0",
        "dns=no",
        "rev_dns=no",
        f'listen=udp:{_hostport(settings.host, settings.port)}{advertise} name "public"',
        f'listen=udp:127.0.0.1:{settings.internal_port} name "internal"',
    ]
    return "\n".join(lines) + "\n"


def _policy() -> str:
    return resources.files(__package__).joinpath("policy.cfg").read_text(encoding="utf-8")


def _allow_route(settings: EdgeSettings) -> str:
    checks = [
        f'\tif (is_in_subnet("$si", "{net.network_address}/{net.prefixlen}")) {{\n\t\treturn 1;\n\t}}'
        for net in [*allowed_networks(settings.allow_from), *trunk_networks(settings.trunk_hosts)]
    ]
    body = "\n".join([*checks, "\treturn -1;"])
    return f"# Sources allowed to start calls (generated from the settings).\nroute[INBOUND_ALLOWED] {{\n{body}\n}}\n"


def _trunk_route(settings: EdgeSettings) -> str:
    body = f'\t$du = "{settings.trunk_proxy}";\n' if settings.trunk_proxy else "\treturn;\n"
    return f"# The trunk's own outbound proxy, if it has one.\nroute[TRUNK_PROXY] {{\n{body}}}\n"


def _emergency_route() -> str:
    names, digits = emergency_names_pattern(), emergency_digits_pattern()
    body = (
        f'\tif ($(var(user){{s.tolower}}) =~ "{names}") {{\n\t\treturn 1;\n\t}}\n'
        f'\tif ($var(digits) != "" && $var(digits) =~ "{digits}") {{\n\t\treturn 1;\n\t}}\n'
        "\treturn -1;\n"
    )
    header = "# Emergency numbers in every spelling (generated from dialplan.py).\n"
    return f"{header}route[EMERGENCY_NUMBER] {{\n{body}}}\n"


def _phone_trunk_route(settings: EdgeSettings) -> str:
    """Return the route a registered phone's call takes to the trunk, and the credentials it answers with."""
    if settings.trunk_domain is None:
        relay = (
            '\txlog("L_WARN", "edge: device $au dialled $rU but no SIP trunk is configured\\n");\n'
            '\tsl_send_reply("503", "No SIP Trunk Configured");\n\texit;\n'
        )
        credentials = "\treturn;\n"
    else:
        domain, user = settings.trunk_domain, settings.trunk_username or ""
        relay = (
            f'\t$ru = "sip:" + $var(number) + "@{domain}";\n'
            # The trunk knows the account, not the phone (its From would be refused or billed to nobody).
            f'\tuac_replace_from("sip:{user}@{domain}");\n'
            "\tdlg_manage();\n"
            '\t$dlg_var(phone) = "1";\n'
            "\trecord_route();\n"
            '\tt_on_failure("TRUNK_AUTH");\n'
            "\troute(TRUNK_PROXY);\n"
            "\troute(RELAY_OUT);\n"
        )
        realm = settings.trunk_realm if settings.trunk_realm not in (None, "", "*") else None
        realm_line = (
            f'\t$avp(arealm) = "{realm}";\n'
            if realm
            # A $var cannot hold $null: test the reply's header itself.
            else "\tif ($T_rpl($hdr(Proxy-Authenticate)) != $null) {\n"
            "\t\t$var(challenge) = $T_rpl($hdr(Proxy-Authenticate));\n\t} else {\n"
            "\t\t$var(challenge) = $T_rpl($hdr(WWW-Authenticate));\n\t}\n"
            '\t$avp(arealm) = $(var(challenge){re.subst,/^.*realm=.([^"]*).*$/\\1/});\n'
        )
        credentials = (
            realm_line
            + f'\t$avp(auser) = "{user}";\n'
            + f'\t$avp(apass) = "{_cfg_string(settings.trunk_password or "")}";\n'
        )
    return (
        "# A registered phone's call to a number: out through the trunk as the account (generated).\n"
        f"route[PHONE_TO_TRUNK] {{\n{relay}}}\n\n"
        f"route[TRUNK_CREDENTIALS] {{\n{credentials}}}\n"
    )


def _cfg_string(text: str) -> str:
    # Inside a kamailio double-quoted string a backslash and a quote are escaped (cfg.lex).
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _refuse_quotes(text: str) -> None:
    # Values land inside kamailio strings and statements: a quote or newline would change the program.
    if any(ch in text for ch in '"\\\n\r'):
        raise EdgeConfigError(f"{text!r} contains characters not allowed in the edge configuration")

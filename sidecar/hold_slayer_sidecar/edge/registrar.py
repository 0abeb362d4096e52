"""Local phones register to the edge: per-device digest credentials (kamailio auth_db over db_text) and bindings.

The sidecar owns the credentials: ``devices.json`` (device id, username, HA1) is the record, and
``db/subscriber`` is kamailio's copy of it (db_text, re-read when its mtime moves). Only HA1 =
MD5(username:realm:password) is stored (RFC 7616 s3.4.2); the password itself is shown once and forgotten.
Bindings (where a phone is) live in kamailio's usrloc, read and dropped over JSON-RPC.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..inbound.ports import DeviceCredentials, DeviceRegistration
from .config import REALM, EdgeSettings
from .errors import EdgeError
from .rpc import EdgeRpcError, KamailioRpc

_LOGGER = logging.getLogger(__name__)

DEVICES_FILE = "devices.json"
DB_DIR = "db"
RPC_SOCKET = "rpc.sock"
# Unix socket paths are limited to 108 bytes (sockaddr_un.sun_path) including the terminating NUL.
_MAX_SOCKET_PATH = 107
# Username "hs-" + 8 hex digits: random, so knowing one device's name says nothing about another's.
_USERNAME_PREFIX = "hs-"
# 24 characters of URL-safe base64 = 144 random bits: far beyond what a rate-limited guesser can try.
_PASSWORD_BYTES = 18
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
# db_text tables: a header of typed columns, then one row per line, ':'-separated (db_text docs).
_SUBSCRIBER_HEADER = "id(int,auto) username(string) domain(string,null) ha1(string) ha1b(string,null)"
_VERSION_TABLE = "table_name(string) table_version(int)\nsubscriber:7\n"


class RegistrarError(EdgeError):
    """A device cannot be added or removed (bad id, files not writable)."""


@dataclass(frozen=True, slots=True)
class _Device:
    username: str
    ha1: str


def ensure_tables(run_dir: Path) -> None:
    """Create kamailio's db_text tables (empty) if missing, so the edge starts before any device exists."""
    db = run_dir / DB_DIR
    db.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (db / "version").exists():
        _write_private(db / "version", _VERSION_TABLE)
    if not (db / "subscriber").exists():
        _write_private(db / "subscriber", _SUBSCRIBER_HEADER + "\n")


def rpc_socket(run_dir: Path) -> Path:
    """Return the JSON-RPC socket of the edge in ``run_dir`` (a short private directory if that path is too long)."""
    path = run_dir.absolute() / RPC_SOCKET
    if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
        return path
    # sun_path holds 108 bytes: a deep data dir (a test's tmp_path) gets a directory of its own in /tmp,
    # named after the run dir so the supervisor and the registrar find the same one.
    digest = hashlib.sha256(os.fsencode(run_dir.absolute())).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"hold-slayer-edge-{os.getuid()}-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    info = short.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise EdgeError(f"{short} exists but is not private to this user: remove it or use a shorter data dir")
    return short / RPC_SOCKET


def has_devices(run_dir: Path) -> bool:
    """Whether any device has credentials (the edge must run for it)."""
    try:
        return bool(json.loads((run_dir / DEVICES_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False


class EdgeRegistrar:
    """The ``inbound.ports.Registrar`` of the SIP edge: credentials on disk, bindings in kamailio."""

    def __init__(
        self, run_dir: Path, *, address: str, port: int, internal_port: int, rpc: KamailioRpc | None = None
    ) -> None:
        """Keep where phones reach the edge (``address``/``port``) and the workers' loopback port.

        ``internal_port`` is the edge's socket the workers send to: ring URIs name it.
        """
        self.run_dir = run_dir
        self._address, self._port, self._internal_port = address, port, internal_port
        self._rpc = rpc or KamailioRpc(rpc_socket(run_dir))
        self._lock = asyncio.Lock()
        self._mtime = 0
        self._devices = self._load()
        # Earlier writes may have moved the table's mtime ahead of the clock (see _save): start from there.
        with contextlib.suppress(OSError):
            self._mtime = int((run_dir / DB_DIR / "subscriber").stat().st_mtime)

    @classmethod
    def for_edge(cls, settings: EdgeSettings, run_dir: Path, address: str | None = None) -> EdgeRegistrar:
        """Build one for an edge; ``address`` is where phones reach it when it listens on every interface."""
        host, port = settings.host, settings.port
        if settings.advertise:  # behind NAT: the address the edge puts in Record-Route is the one to show
            advertised, _, advertised_port = settings.advertise.rpartition(":")
            host, port = (advertised, int(advertised_port)) if advertised_port.isdigit() else (settings.advertise, port)
        return cls(run_dir, address=address or host, port=port, internal_port=settings.internal_port)

    async def add_device(self, device_id: str) -> DeviceCredentials:
        """Make (or remake) a device's credentials; the old password stops working at once."""
        _check_id(device_id)
        password = secrets.token_urlsafe(_PASSWORD_BYTES)
        async with self._lock:
            old = self._devices.get(device_id)
            username = old.username if old else self._new_username()
            devices = {**self._devices, device_id: _Device(username, _ha1(username, password))}
            await asyncio.to_thread(self._save, devices)
            self._devices = devices
        if old is not None:
            await self._unbind(username)  # the phone that knew the old password is no longer reachable
        host = f"[{self._address}]" if ":" in self._address else self._address
        return DeviceCredentials(username=username, password=password, domain=host, registrar=f"{host}:{self._port}")

    async def remove_device(self, device_id: str) -> None:
        """Forget a device: its credentials and any binding."""
        async with self._lock:
            old = self._devices.get(device_id)
            if old is None:
                return
            devices = {key: value for key, value in self._devices.items() if key != device_id}
            await asyncio.to_thread(self._save, devices)
            self._devices = devices
        await self._unbind(old.username)

    async def registrations(self) -> Mapping[str, DeviceRegistration]:
        """Return device_id -> its current binding, for every device with credentials."""
        devices = dict(self._devices)
        try:
            bindings = _bindings(await self._rpc.call("ul.dump"))
        except EdgeRpcError as err:
            # The edge is down or restarting: no phone can be reached now, which is what this says.
            _LOGGER.warning("cannot read registrations from the SIP edge: %s", err)
            bindings = {}
        unbound = DeviceRegistration(registered=False)
        return {device_id: bindings.get(device.username, unbound) for device_id, device in devices.items()}

    def ring_uri(self, device_id: str) -> str:
        """Return the SIP URI the media workers dial to ring a registered device (through the edge's lookup)."""
        device = self._devices.get(device_id)
        if device is None:
            raise RegistrarError(f"device {device_id!r} has no registrar credentials")
        # The edge's own internal address: route[FROM_WORKER] sees "myself" and looks the binding up.
        return f"sip:{device.username}@127.0.0.1:{self._internal_port}"

    def _new_username(self) -> str:
        taken = {device.username for device in self._devices.values()}
        while (name := _USERNAME_PREFIX + secrets.token_hex(4)) in taken:
            continue
        return name

    async def _unbind(self, username: str) -> None:
        try:
            await self._rpc.call("ul.rm", "location", username)
        except EdgeRpcError as err:
            if err.code != 404:  # 404: no binding, nothing to drop
                _LOGGER.warning("could not drop the binding of %s: %s", username, err)

    def _load(self) -> dict[str, _Device]:
        path = self.run_dir / DEVICES_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise RegistrarError(f"cannot read the device credentials in {path}: {err}") from err
        return {str(key): _Device(str(value["username"]), str(value["ha1"])) for key, value in data.items()}

    def _save(self, devices: dict[str, _Device]) -> None:
        ensure_tables(self.run_dir)
        record = {key: {"username": value.username, "ha1": value.ha1} for key, value in devices.items()}
        _write_private(self.run_dir / DEVICES_FILE, json.dumps(record, indent=1, sort_keys=True))
        rows = [f"{index}:{device.username}::{device.ha1}:" for index, device in enumerate(devices.values(), 1)]
        table = self.run_dir / DB_DIR / "subscriber"
        _write_private(table, "\n".join([_SUBSCRIBER_HEADER, *rows]) + "\n")
        # db_text re-reads a table when its mtime (whole seconds) moved; two changes within one second must
        # both be seen, or a remade password would keep the old one working for up to a second.
        self._mtime = max(int(time.time()), self._mtime + 1)
        os.utime(table, (self._mtime, self._mtime))


def _check_id(device_id: str) -> None:
    if not isinstance(device_id, str) or not _DEVICE_ID.match(device_id):
        raise RegistrarError(f"device id {device_id!r} must be 1-64 letters, digits, '.', '_' or '-'")


def _ha1(username: str, password: str) -> str:
    # MD5 is what SIP phones speak (RFC 3261 s22.4; RFC 7616 allows SHA-256, few phones do).
    return hashlib.md5(f"{username}:{REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by this user only (0600)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _bindings(dump: Any) -> dict[str, DeviceRegistration]:
    """Turn usrloc's ``ul.dump`` result into username -> binding (the newest contact of each AoR)."""
    found: dict[str, DeviceRegistration] = {}
    now = time.time()
    for domain in _list(_get(dump, "Domains")):
        for aor in _list(_get(_get(domain, "Domain"), "AoRs")):
            info = _get(aor, "Info")
            name = _get(info, "AoR")
            for contact in _list(_get(info, "Contacts")):
                entry = _get(contact, "Contact")
                expires = _get(entry, "Expires")
                with contextlib.suppress(TypeError, ValueError):
                    expires = now + float(expires)
                found[str(name)] = DeviceRegistration(
                    registered=True,
                    contact=_text(_get(entry, "Address")),
                    expires_at=expires if isinstance(expires, float) else None,
                    user_agent=_text(_get(entry, "User-Agent")),
                )
    return found


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return str(value)[:512] if value not in (None, "") else None

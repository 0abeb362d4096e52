"""The inbound half's configuration: devices, DND, routing rules and contacts, kept in memory and in SQLite.

Every change is validated, stored, and announced as an event (``device_state``, ``rule_saved``, ...); calls
read the in-memory copy, so routing a call never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from ..dialplan import DialPolicyError, check_target
from ..protocol import (
    Contact,
    Credentials,
    DeviceInfo,
    DeviceKind,
    ErrorCode,
    EventType,
    RouteDecision,
    RoutingRule,
    RuleAction,
)
from ..store.inbound import Device, InboundStore
from .chain import ring_groups
from .errors import InboundError
from .ports import DeviceRegistration, Registrar
from .rules import CallFacts, RuleError, RuleMatch, decide, decision, normalise_number, validate_rule

_LOGGER = logging.getLogger(__name__)

DEFAULT_PRIORITY: Final = 100
# 20 s is about four rings (RFC 3261 leaves it to the UA; phones and PBXs commonly ring 20-30 s before
# voicemail). At least 5 s, a ring and a half; at most 120 s, past which a caller has long given up.
DEFAULT_RING_TIMEOUT_S: Final = 20.0
MIN_RING_TIMEOUT_S: Final = 5.0
MAX_RING_TIMEOUT_S: Final = 120.0
MAX_DEVICES: Final = 64
MAX_RULES: Final = 200
MAX_CONTACTS: Final = 5000
GLOBAL_DND: Final = "global_dnd"


def new_id() -> str:
    """Return a fresh id for a device or a rule."""
    return uuid.uuid4().hex[:12]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def checked_address(kind: DeviceKind, address: str) -> str:
    """Return a device's address as the dialling policy accepts it for its kind; raise InboundError if not."""
    try:
        target = check_target(address)
    except DialPolicyError as err:
        code = ErrorCode.EMERGENCY_NUMBER if err.code == ErrorCode.EMERGENCY_NUMBER else ErrorCode.INVALID_DATA
        raise InboundError(code, f"address: {err.message}") from err
    if kind is DeviceKind.SIP_URI and target.uri is None:
        raise InboundError(ErrorCode.INVALID_DATA, "address: a sip_uri device needs a sip: URI")
    if kind in (DeviceKind.NUMBER, DeviceKind.EXTENSION) and target.number is None:
        raise InboundError(ErrorCode.INVALID_DATA, f"address: a {kind.value} device needs a number")
    return target.value


class Directory:
    """Devices, DND, rules and contacts."""

    def __init__(
        self,
        store: InboundStore,
        *,
        clock: Callable[[], float],
        publish: Callable[[str, dict[str, Any]], None],
        time_zone: ZoneInfo,
        registrar: Registrar | None = None,
        no_registrar: str = "no registrar for local phones runs (the SIP edge is off)",
    ) -> None:
        self._store = store
        self._no_registrar = no_registrar  # why, and what to do: said when a registered phone is added without one
        self._clock = clock
        self._publish = publish
        self.time_zone = time_zone
        self.registrar = registrar
        self._devices: dict[str, Device] = {}
        self._rules: dict[str, RoutingRule] = {}
        self._contacts: dict[str, str] = {}
        self._registrations: dict[str, DeviceRegistration] = {}
        self.ringing: set[str] = set()
        self.global_dnd = False
        self._lock = asyncio.Lock()  # one change at a time: ids, limits and the store stay consistent

    async def load(self) -> None:
        """Read everything from the store."""
        self._devices = {d.device_id: d for d in await self._store.devices()}
        self._rules = {r["rule_id"]: r for r in await self._store.rules()}
        self._contacts = await self._store.contacts()
        self.global_dnd = bool(await self._store.setting(GLOBAL_DND))

    # ------------------------------------------------------------ devices

    @property
    def devices(self) -> list[Device]:
        """Devices in ring order."""
        return sorted(self._devices.values(), key=lambda d: (d.priority, d.created_at, d.device_id))

    def device(self, device_id: str) -> Device:
        """One device, or InboundError not_found."""
        found = self._devices.get(device_id)
        if found is None:
            raise InboundError(ErrorCode.NOT_FOUND, f"device_id: no device {device_id!r}")
        return found

    def name_of(self, device_id: str) -> str:
        """Return a device's name (its id once deleted)."""
        found = self._devices.get(device_id)
        return found.name if found is not None else device_id

    def registration(self, device_id: str) -> DeviceRegistration | None:
        """Return a registered device's binding as last seen."""
        return self._registrations.get(device_id)

    def device_info(self, device: Device) -> DeviceInfo:
        """Return the wire form of a device with its live state."""
        registered: bool | None = None
        if device.kind == DeviceKind.REGISTERED:
            binding = self._registrations.get(device.device_id)
            registered = bool(binding and binding.registered)
        return DeviceInfo(
            device_id=device.device_id,
            name=device.name,
            kind=device.kind,
            address=device.address,
            priority=device.priority,
            ring_timeout_s=device.ring_timeout_s,
            dnd=device.dnd,
            registered=registered,
            ringing=device.device_id in self.ringing,
            last_call_at=_iso(device.last_call_at),
            last_caller=device.last_caller,
        )

    def device_infos(self) -> list[DeviceInfo]:
        """Every device's wire form, in ring order."""
        return [self.device_info(d) for d in self.devices]

    async def save_device(self, data: Mapping[str, Any]) -> tuple[DeviceInfo, Credentials | None]:
        """Create (no ``device_id``) or update a device; a registered one gets credentials when made or reset."""
        async with self._lock:
            device_id = data.get("device_id")
            old = self.device(device_id) if device_id else None
            if old is None and len(self._devices) >= MAX_DEVICES:
                raise InboundError(ErrorCode.INVALID_DATA, f"at most {MAX_DEVICES} devices")
            kind = DeviceKind(data["kind"])
            device = Device(
                device_id=device_id or new_id(),
                name=data["name"],
                kind=kind.value,
                address="",
                priority=data.get("priority", old.priority if old else DEFAULT_PRIORITY),
                ring_timeout_s=data.get("ring_timeout_s", old.ring_timeout_s if old else DEFAULT_RING_TIMEOUT_S),
                dnd=data.get("dnd", old.dnd if old else False),
                last_call_at=old.last_call_at if old else None,
                last_caller=old.last_caller if old else None,
                created_at=old.created_at if old else self._clock(),
            )
            device, credentials = await self._address(device, old, data)
            await self._store.save_device(device)
            if old is not None and old.kind == DeviceKind.REGISTERED and kind is not DeviceKind.REGISTERED:
                await self._forget_credentials(old.device_id)
            self._devices[device.device_id] = device
        info = self.device_info(device)
        self._publish(EventType.DEVICE_STATE, dict(info))
        return info, credentials

    async def _address(
        self, device: Device, old: Device | None, data: Mapping[str, Any]
    ) -> tuple[Device, Credentials | None]:
        if device.kind != DeviceKind.REGISTERED:
            address = data.get("address")
            if not isinstance(address, str) or not address.strip():
                raise InboundError(ErrorCode.INVALID_DATA, f"address: a {device.kind} device needs an address")
            return replace(device, address=checked_address(DeviceKind(device.kind), address)), None
        if data.get("address") and (old is None or data.get("address") != old.address):  # echoing it back is fine
            raise InboundError(ErrorCode.INVALID_DATA, "address: a registered device's username is made for it")
        fresh = old is None or old.kind != DeviceKind.REGISTERED or bool(data.get("reset_credentials"))
        if not fresh and old is not None:
            return replace(device, address=old.address), None
        if self.registrar is None:
            raise InboundError(ErrorCode.NOT_READY, f"kind: {self._no_registrar}")
        made = await self.registrar.add_device(device.device_id)
        credentials = Credentials(
            username=made.username, password=made.password, domain=made.domain, registrar=made.registrar
        )
        return replace(device, address=made.username), credentials

    async def _forget_credentials(self, device_id: str) -> None:
        if self.registrar is not None:
            try:
                await self.registrar.remove_device(device_id)
            except Exception as err:  # the registrar reports its own trouble; the device is gone from here
                _LOGGER.warning("registrar could not forget device %s: %s", device_id, err)
        self._registrations.pop(device_id, None)

    async def delete_device(self, device_id: str) -> None:
        """Delete a device (and a registered one's credentials)."""
        async with self._lock:
            device = self.device(device_id)
            await self._store.delete_device(device_id)
            del self._devices[device_id]
            if device.kind == DeviceKind.REGISTERED:
                await self._forget_credentials(device_id)
        self._publish(EventType.DEVICE_DELETED, {"device_id": device_id})

    async def set_dnd(self, device_id: str | None, enabled: bool) -> None:
        """Switch one device's DND, or the global one (``device_id`` None)."""
        async with self._lock:
            if device_id is None:
                await self._store.set_setting(GLOBAL_DND, enabled)
                self.global_dnd = enabled
            else:
                device = replace(self.device(device_id), dnd=enabled)
                await self._store.save_device(device)
                self._devices[device_id] = device
        if device_id is None:
            self._publish(EventType.DND_CHANGED, {"global_dnd": enabled})
        else:
            self._publish(EventType.DEVICE_STATE, dict(self.device_info(self._devices[device_id])))

    def set_ringing(self, device_id: str, ringing: bool) -> None:
        """Mark a device ringing or not (announced)."""
        if (device_id in self.ringing) == ringing:
            return
        if ringing:
            self.ringing.add(device_id)
        else:
            self.ringing.discard(device_id)
        if device_id in self._devices:
            self._publish(EventType.DEVICE_STATE, dict(self.device_info(self._devices[device_id])))

    async def note_call(self, device_id: str, caller: str, *, at: float | None = None) -> None:
        """Remember a device's last call, rung ``at`` (default now), shown on its sensor."""
        device = self._devices.get(device_id)
        if device is None:
            return
        device = replace(device, last_call_at=self._clock() if at is None else at, last_caller=caller)
        self._devices[device_id] = device
        with contextlib.suppress(Exception):  # a statistic: a failing disk must not disturb the call
            await self._store.save_device(device)
        self._publish(EventType.DEVICE_STATE, dict(self.device_info(device)))

    async def refresh_registrations(self) -> None:
        """Ask the registrar who is registered; announce devices whose state changed."""
        if self.registrar is None:
            return
        try:
            now = dict(await self.registrar.registrations())
        except Exception as err:  # the registrar's trouble shows as "not registered", never breaks a call
            _LOGGER.warning("cannot read registrations: %s", err)
            now = {}
        changed = [
            device
            for device in self._devices.values()
            if device.kind == DeviceKind.REGISTERED
            and bool(now.get(device.device_id, DeviceRegistration(False)).registered)
            != bool(self._registrations.get(device.device_id, DeviceRegistration(False)).registered)
        ]
        self._registrations = now
        for device in changed:
            self._publish(EventType.DEVICE_STATE, dict(self.device_info(device)))

    # ------------------------------------------------------------ rules

    @property
    def rules(self) -> list[RoutingRule]:
        """Rules in evaluation order."""
        return sorted(self._rules.values(), key=lambda r: (r["priority"], r.get("rule_id", "")))

    async def save_rule(self, data: Mapping[str, Any]) -> RoutingRule:
        """Validate and store a rule (a new id without ``rule_id``)."""
        async with self._lock:
            try:
                rule = validate_rule(data, devices=self._devices.keys())
            except RuleError as err:
                raise InboundError(ErrorCode.INVALID_DATA, str(err)) from err
            rule_id = rule.get("rule_id")
            if rule_id and rule_id not in self._rules:
                raise InboundError(ErrorCode.NOT_FOUND, f"rule_id: no rule {rule_id!r}")
            if not rule_id and len(self._rules) >= MAX_RULES:
                raise InboundError(ErrorCode.INVALID_DATA, f"at most {MAX_RULES} rules")
            rule["rule_id"] = rule_id or new_id()
            await self._store.save_rule(rule)
            self._rules[rule["rule_id"]] = rule
        self._publish(EventType.RULE_SAVED, dict(rule))
        return rule

    async def delete_rule(self, rule_id: str) -> None:
        """Delete a rule."""
        async with self._lock:
            if rule_id not in self._rules:
                raise InboundError(ErrorCode.NOT_FOUND, f"rule_id: no rule {rule_id!r}")
            await self._store.delete_rule(rule_id)
            del self._rules[rule_id]
        self._publish(EventType.RULE_DELETED, {"rule_id": rule_id})

    # ------------------------------------------------------------ contacts and routing

    async def set_contacts(self, contacts: Iterable[Contact]) -> int:
        """Replace the contacts; return how many are kept (numbers normalised, the last name of a number wins)."""
        by_number: dict[str, str] = {}
        for contact in contacts:
            number = normalise_number(contact["number"])
            if number:
                by_number[number] = contact["name"]
        if len(by_number) > MAX_CONTACTS:
            raise InboundError(ErrorCode.INVALID_DATA, f"contacts: at most {MAX_CONTACTS}")
        async with self._lock:
            await self._store.replace_contacts(by_number)
            self._contacts = by_number
        return len(by_number)

    def contact_name(self, caller: str) -> str | None:
        """Return the contact's name for a normalised caller number."""
        return self._contacts.get(caller)

    def ring_targets(self, match: RuleMatch) -> list[list[Device]]:
        """Return the groups that ring for a rule match (empty for actions that ring nobody)."""
        action = match.action
        if action is RuleAction.RING_DEVICE and match.rule is not None:
            device = self._devices.get(match.rule.get("device_id") or "")
            return ring_groups([device] if device else [], global_dnd=self.global_dnd)
        if action in (RuleAction.RING_CHAIN, RuleAction.RECEPTIONIST):
            return ring_groups(self._devices.values(), global_dnd=self.global_dnd)
        return []

    def route(self, caller: str, dialled: str | None, at: datetime) -> tuple[RuleMatch, RouteDecision]:
        """Return what the rules decide for a call, with the devices that would ring."""
        facts = CallFacts(caller=caller, dialled=dialled, at=at, known_contact=caller in self._contacts)
        match = decide(self._rules.values(), facts, self.time_zone)
        device_ids = [d.device_id for group in self.ring_targets(match) for d in group]
        return match, decision(match, device_ids)

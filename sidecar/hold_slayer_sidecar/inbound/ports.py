"""What the inbound call logic needs from the receptionist and the registrar, as injected interfaces.

The inbound handler (rules, ring chain, voicemail) owns the call; the receptionist only talks to the caller
and reports what it concluded; the registrar (kamailio, configured by the SIP edge) only manages credentials
and says who is registered. Both are built in ``__main__`` and replaced by fakes in unit tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ScreeningOutcome(StrEnum):
    """What the receptionist concluded; the handler decides what to do with it (rules still win)."""

    RING = "ring"  # put the caller through: ring the chain (or ``device_id`` when the caller asked for one)
    TAKE_MESSAGE = "take_message"  # the caller wants to leave a message, or it can wait
    END = "end"  # politely ended: a sales call, a wrong number
    ROBOCALL = "robocall"  # a recording, not a person: evidence in ``reason``
    CALLER_GONE = "caller_gone"  # the caller hung up during screening


@dataclass(frozen=True, slots=True)
class Screening:
    """The receptionist's conclusion about one caller."""

    outcome: ScreeningOutcome
    reason: str  # shown in HA: why ("a recording: it talked on through the greeting and said 'press 1'")
    caller_name: str | None = None  # as the caller said it
    purpose: str | None = None  # "about tomorrow's appointment"
    urgency: str = "normal"  # "low" | "normal" | "high"
    heard: str = ""  # the caller's words, transcribed
    device_id: str | None = None  # RING: a device the caller asked for by name, when there is one
    # Outside numbers the caller asked to be put through to: recorded, never dialled (an inbound caller must
    # never reach the outbound trunk).
    refused_requests: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ScreeningContext:
    """What the receptionist knows before it answers."""

    call_id: str
    leg_id: str  # the answered inbound leg (the handler answers it before screening)
    caller: str
    caller_name: str | None  # from the contacts
    dialled: str | None
    owner_name: str | None  # "Alex": for the greeting template
    device_names: Mapping[str, str]  # device_id -> name, so "put me through to the kitchen" can be understood


class Screener(Protocol):
    """The receptionist: greets the caller on an answered leg, listens, and concludes."""

    async def screen(self, context: ScreeningContext) -> Screening:
        """Talk to the caller until a conclusion; never raises for a caller's behaviour (hang-up included)."""
        ...


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    """Digest credentials for one registered device (shown once in HA)."""

    username: str
    password: str
    domain: str
    registrar: str  # host:port


@dataclass(frozen=True, slots=True)
class DeviceRegistration:
    """One registered device's binding, as the registrar's location table has it."""

    registered: bool
    contact: str | None = None  # the phone's Contact URI (for display only: never dialled directly)
    expires_at: float | None = None  # Unix seconds
    user_agent: str | None = None


class Registrar(Protocol):
    """The registrar for local phones (kamailio usrloc + digest auth), run by the SIP edge."""

    async def add_device(self, device_id: str) -> DeviceCredentials:
        """Make (or remake) a device's credentials; the old password stops working at once."""
        ...

    async def remove_device(self, device_id: str) -> None:
        """Forget a device: its credentials and any binding."""
        ...

    async def registrations(self) -> Mapping[str, DeviceRegistration]:
        """Return device_id -> its current binding, for every device with credentials."""
        ...

    def ring_uri(self, device_id: str) -> str:
        """Return the SIP URI the media workers dial to ring a registered device (through the edge's lookup)."""
        ...

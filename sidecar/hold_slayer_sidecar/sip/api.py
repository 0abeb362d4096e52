"""The SIP engine as the call logic sees it: an asyncio-facing Protocol over the PJSUA2 thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..audio.types import AudioFrame, Pcm
from ..protocol import DtmfMethod


class SipError(Exception):
    """A SIP operation failed (bad URI, no free call slot, peer refused, engine stopped)."""


class LegEventKind(StrEnum):
    """What happens to one SIP call leg."""

    RINGING = "ringing"  # 180/183 received
    ANSWERED = "answered"  # 200 OK, media up
    DISCONNECTED = "disconnected"  # ended; status_code and reason say why
    DTMF_RECEIVED = "dtmf_received"  # RFC 2833 / INFO digit from the peer
    INCOMING = "incoming"  # a new inbound call (leg_id is new; remote_uri says who)


@dataclass(frozen=True, slots=True)
class LegEvent:
    """An event on a leg, delivered on the asyncio loop."""

    leg_id: str
    kind: LegEventKind
    status_code: int = 0
    reason: str = ""
    digit: str = ""
    remote_uri: str = ""
    local_uri: str = ""  # for INCOMING: the address that was called
    # DISCONNECTED only: ended here, not by the far end (the media process carrying it died); reason says how.
    lost: bool = False


Unsubscribe = Callable[[], None]


class SipEngine(Protocol):
    """All SIP and media work. Every method is safe to call from the asyncio loop."""

    async def start(self) -> None:
        """Start the PJSUA2 thread, transports and (if configured) register the trunk account."""
        ...

    async def stop(self) -> None:
        """Hang up everything and destroy the endpoint cleanly."""
        ...

    @property
    def registered(self) -> bool:
        """True when the trunk account is registered (or no registrar is configured)."""
        ...

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Unsubscribe:
        """Receive every leg event; returns an unsubscribe callable."""
        ...

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Unsubscribe:
        """Receive the leg's incoming audio as 20 ms frames on the asyncio loop."""
        ...

    async def dial(self, target: str, *, near: str | None = None) -> str:
        """Place an outbound call to a number (via the trunk) or SIP URI; return the new leg id.

        ``near``: a live leg the new one will be bridged to; an engine of several processes places the
        new leg in that leg's process (a bridge lives inside one conference bridge).
        """
        ...

    async def ring(self, leg_id: str) -> None:
        """Send 180 Ringing on an incoming leg (before ``answer``)."""
        ...

    async def answer(self, leg_id: str) -> None:
        """Answer an incoming leg with 200 OK."""
        ...

    async def reject(self, leg_id: str, status_code: int = 486) -> None:
        """Refuse an unanswered incoming leg with a 4xx-6xx final response (486 Busy Here by default)."""
        ...

    async def hang_up(self, leg_id: str) -> None:
        """End a leg (no error if it already ended)."""
        ...

    async def send_dtmf(self, leg_id: str, digits: str, method: DtmfMethod) -> None:
        """Send digits with the configured duration and gap; returns when they have been sent."""
        ...

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        """Play audio into the leg (TTS, probes); returns when playback has finished."""
        ...

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        """Connect two legs' audio both ways in the conference bridge."""
        ...

    async def start_recording(self, leg_id: str, path: Path) -> None:
        """Record what the leg hears from the remote party into a WAV file (finalised on hang-up/stop)."""
        ...

    async def start_mix_recording(self, leg_ids: list[str], path: Path) -> None:
        """Record the mix of what the given legs hear into one WAV (e.g. both sides of a bridged call)."""
        ...

"""What the call manager needs from the outside world, as Protocols (real engines are wired in ``__main__``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..audio.types import DetectorFactory
from ..nav.api import Navigator
from ..nav.flows import CallFlow
from ..protocol import DtmfMethod
from ..sip.api import LegEvent, SipEngine
from ..store.sqlite import CallRecord, HoldStats
from ..voice.api import SpeechToText, TextToSpeech
from .session import CallPolicy


class CallStore(Protocol):
    """Persistence the manager uses (``store.sqlite.Store`` implements it)."""

    async def add_call(self, record: CallRecord) -> None:
        """Keep a finished call."""
        ...

    async def history(self, limit: int = 50, company: str | None = None, after: str | None = None) -> list[CallRecord]:
        """Return recent calls, newest first (older than the call ``after`` when given)."""
        ...

    async def hold_stats(self) -> list[HoldStats]:
        """Return hold statistics per company."""
        ...

    async def save_flow(self, flow: CallFlow, now: float) -> None:
        """Insert or replace a flow."""
        ...

    async def get_flow(self, flow_id: str) -> CallFlow | None:
        """Return a flow by id."""
        ...

    async def delete_flow(self, flow_id: str) -> bool:
        """Delete a flow; False when missing."""
        ...

    async def list_flows(
        self, company: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> list[CallFlow]:
        """List flows by id (those after ``after``, at most ``limit``)."""
        ...

    async def find_flow(self, *, number: str | None, company: str | None, intent: str | None) -> CallFlow | None:
        """Find the flow for a number or company and intent."""
        ...


class Clock(Protocol):
    """Wall-clock time in Unix seconds."""

    def __call__(self) -> float:
        """Return the current time."""
        ...


# Called for an inbound call (LegEvent INCOMING). The default rejects it: an inbound caller must never
# reach the outbound trunk. A future receptionist plugs in here and may only answer/hang up that leg.
type InboundHandler = Callable[[LegEvent], Awaitable[None]]

# Builds the navigator for one call (navigators remember the menus of their call); given the stored flow.
type NavigatorFactory = Callable[[CallFlow | None], Navigator]

# Receives every event the manager publishes: (event name, data).
type EventSink = Callable[[str, dict[str, Any]], None]

# Told of every leg a call gets: (call_id, leg name "company" | "user", leg_id).
type LegWatcher = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class ManagerConfig:
    """Settings the manager needs (built from the sidecar settings in ``__main__``)."""

    recordings_dir: Path
    user_phone: str | None = None
    max_calls: int = 2  # each PJSUA2 process carries 4 legs: two bridged sessions
    sample_rate: int = 8000  # of the SIP engine's frames and playback
    dtmf_method: DtmfMethod = DtmfMethod.RFC2833
    record: bool = True
    policy: CallPolicy = field(default_factory=CallPolicy)
    keep_ended: int = 20  # finished calls kept in snapshots
    # Re-transcribe all menu audio since the last move after each segment instead of each segment alone
    # (calls/prompt_audio.py); off by default: `bench ivr` measured it lower (see its --per-segment).
    whole_prompt_stt: bool = False
    relabel_menus: bool = True  # rescore misheard menu labels against their audio (VoiceSettings.relabel_menus)


@dataclass(frozen=True, slots=True)
class Engines:
    """The engines a manager drives; None where a helper is not available."""

    sip: SipEngine
    detector_factory: DetectorFactory
    store: CallStore
    stt: SpeechToText | None = None
    tts: TextToSpeech | None = None
    navigator_factory: NavigatorFactory | None = None

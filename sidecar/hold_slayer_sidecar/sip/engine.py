"""``PjsuaEngine``: the asyncio facade over one PJSUA2 endpoint (implements ``sip.api.SipEngine``).

Usage::

    engine = PjsuaEngine(SipSettings())            # port=0 picks a free UDP port
    await engine.start()                           # engine.local_port is now the bound port
    unsubscribe = engine.subscribe_events(on_event)  # LegEvent: RINGING/ANSWERED/DISCONNECTED/DTMF_RECEIVED/INCOMING
    leg = await engine.dial("sip:ivr@127.0.0.1:5062")  # or a bare number via the trunk
    engine.subscribe_audio(leg, on_frame)          # 20 ms int16 AudioFrame objects on the loop
    await engine.send_dtmf(leg, "1w23#", DtmfMethod.RFC2833)
    await engine.play(leg, pcm, 16000)             # returns when played; cancel the task to stop at once
    await engine.bridge(leg, other_leg)
    await engine.start_mix_recording([leg, other_leg], Path("call.wav"))
    await engine.hang_up(leg)
    await engine.stop()

Inbound calls arrive as INCOMING events (``local_uri`` = the Request-URI that was called) and are not
answered automatically: call ``ring`` (180), ``answer`` (200), ``reject`` (e.g. 486) or ``hang_up``.
``hold``/``resume`` send re-INVITEs; taps, players, bridges and recordings are reconnected after any
re-INVITE. Every method raises ``SipError`` on bad input or when the engine is not running; a 5th
simultaneous leg raises ``SipError("no free call slot ...")``; emergency numbers are refused.

With a trunk (``SipSettings(registrar=..., username=..., password=...)``) bare numbers are dialled as
``sip:{number}@{domain}``; ``registered`` and ``registration_status`` report the REGISTER outcome.

One engine per process (a second PJSUA2 Endpoint would abort; ``start`` refuses instead), at most 4
legs. Callbacks run on the asyncio loop; keep them quick. PJSIP's log goes to the logger
``hold_slayer_sidecar.sip.pjsip``; only ``libCreate``'s first banner line reaches stdout.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
from collections.abc import Callable
from pathlib import Path

from ..audio.types import AudioFrame, Pcm
from ..protocol import DtmfMethod
from .api import LegEvent, LegEventKind, SipError, Unsubscribe
from .core import EngineCore, SlotsBusyError
from .dtmf import PAUSE_S, inband_pcm, parse_digits
from .media import resample
from .settings import SipSettings
from .subscribers import KeyedSubscribers, Subscribers
from .targets import target_uri
from .thread import PjsuaThread

_LOGGER = logging.getLogger(__name__)

_running: PjsuaEngine | None = None  # the one engine of this process
# A CANCEL answered by 487 frees its slot within a few poll rounds (10 ms each); an INVITE that never got a
# response holds it for up to 32 s, and retrying for that long only delays the error the user must see.
_SLOT_RETRIES = 5
_SLOT_RETRY_S = 0.04


class PjsuaEngine:
    """The real SIP engine: one PJSUA2 thread, at most ``settings.max_calls`` legs."""

    def __init__(self, settings: SipSettings) -> None:
        self.settings = settings
        self._core: EngineCore | None = None
        self._thread: PjsuaThread | None = None
        self._event_subs: Subscribers[LegEvent] = Subscribers("leg event")
        self._audio_subs: KeyedSubscribers[AudioFrame] = KeyedSubscribers("audio")
        self._legs: set[str] = set()  # live legs as seen from asyncio (updated in event order)

    # ----- lifecycle -----

    @property
    def local_port(self) -> int:
        """The bound SIP UDP port (0 before start)."""
        return 0 if self._core is None else self._core.local_port

    @property
    def local_uri(self) -> str:
        """A SIP URI that reaches this engine directly (``sip:holdslayer@host:port``)."""
        host = self.settings.public_host or self.settings.bind_host
        return f"sip:holdslayer@{host}:{self.local_port}"

    @property
    def registered(self) -> bool:
        """True when the trunk account is registered (or no registrar is configured)."""
        return self._core is not None and self._core.registered

    @property
    def registration_status(self) -> tuple[int, str]:
        """Return the last REGISTER response (code, reason); (0, "") before any or without a trunk."""
        return (0, "") if self._core is None else self._core.registration_status

    @property
    def trunk_generation(self) -> int:
        """How many times ``set_trunk`` replaced the trunk account (names the account a registration is for)."""
        return 0 if self._core is None else self._core.trunk_generation

    @property
    def running(self) -> bool:
        """True between a successful start and stop."""
        return self._thread is not None and self._thread.alive

    async def set_trunk(self, settings: SipSettings) -> None:
        """Replace the trunk (account, credentials, DTMF timing) for new calls; calls in progress keep theirs."""
        core = self._require_core()
        await self._require_thread().call(lambda: core.set_trunk(settings))
        self.settings = settings

    async def start(self) -> None:
        """Start the PJSUA2 thread, the transport and the accounts."""
        global _running  # noqa: PLW0603 - one PJSUA2 endpoint per process, enforced here
        if self._thread is not None:
            raise SipError("engine already started")
        if _running is not None:
            raise SipError("another PjsuaEngine runs in this process (PJSUA2 allows one endpoint per process)")
        loop = asyncio.get_running_loop()
        core = EngineCore(self.settings, loop, self._dispatch_event, self._dispatch_audio)
        thread = PjsuaThread(loop, setup=core.setup, poll=core.poll, teardown=core.teardown)
        self._core, self._thread = core, thread
        _running = self
        try:
            await thread.start()
        except BaseException as err:
            if isinstance(err, asyncio.CancelledError):
                await thread.stop()  # set-up may still be running: let it finish, then tear it down
            self._core = self._thread = _running = None
            if isinstance(err, SipError | asyncio.CancelledError):
                raise
            raise SipError(f"cannot start the SIP engine: {err}") from err
        # Safety net: an owner that never calls stop() must not leave PJSIP running at interpreter exit.
        atexit.register(thread.stop_blocking)

    async def stop(self) -> None:
        """Hang up every leg, finalise recordings and destroy the endpoint."""
        global _running  # noqa: PLW0603
        thread = self._thread
        if thread is None:
            return
        await thread.stop()
        atexit.unregister(thread.stop_blocking)
        if self._thread is thread:  # a concurrent stop() may have finished first
            self._core = self._thread = None
            self._legs.clear()
            self._audio_subs.clear()
            if _running is self:
                _running = None

    # ----- subscriptions -----

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Unsubscribe:
        """Receive every leg event on the asyncio loop; returns an unsubscribe callable."""
        return self._event_subs.add(callback)

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Unsubscribe:
        """Receive the leg's incoming audio as 20 ms frames on the asyncio loop."""
        if leg_id not in self._legs:
            raise SipError(f"unknown or finished leg {leg_id}")
        unsubscribe = self._audio_subs.add(leg_id, callback)
        self._require_thread().post(lambda: self._require_core().ensure_tap(leg_id))
        return unsubscribe

    # ----- calls -----

    async def dial(self, target: str, *, near: str | None = None) -> str:
        """Place an outbound call to a number (via the trunk) or SIP URI; return the new leg id.

        ``near`` (a leg this one will be bridged to) matters only to a pool of processes: here every leg
        shares one conference bridge.
        """
        uri, via_trunk = target_uri(target, self.settings.trunk_domain if self.settings.registrar else None)
        core = self._require_core()
        loop = core.loop

        def make_call() -> str:
            leg_id = core.make_call(uri, via_trunk=via_trunk)
            # Queued before any event of the new leg, so a fast DISCONNECTED still removes it.
            loop.call_soon_threadsafe(self._legs.add, leg_id)
            return leg_id

        # A slot PJSUA is still releasing (a CANCEL waiting for its 487, say) reads as "too many calls"
        # for a few milliseconds after our DISCONNECTED event: retry briefly before giving up.
        for attempt in range(_SLOT_RETRIES):
            try:
                return await self._require_thread().call(make_call)
            except SlotsBusyError:
                if attempt == _SLOT_RETRIES - 1:
                    raise
                await asyncio.sleep(_SLOT_RETRY_S)
        raise AssertionError("unreachable")

    async def ring(self, leg_id: str) -> None:
        """Send 180 Ringing on an inbound leg."""
        core = self._require_core()
        await self._require_thread().call(lambda: core.answer(leg_id, 180))

    async def answer(self, leg_id: str) -> None:
        """Answer an incoming leg with 200 OK."""
        core = self._require_core()
        await self._require_thread().call(lambda: core.answer(leg_id, 200))

    async def reject(self, leg_id: str, status_code: int = 486) -> None:
        """Refuse an unanswered inbound leg with a final error response (486 Busy Here by default)."""
        if not 400 <= status_code <= 699:
            raise SipError(f"reject needs a 4xx-6xx status code, not {status_code}")
        core = self._require_core()
        await self._require_thread().call(lambda: core.hang_up(leg_id, status_code))

    async def hang_up(self, leg_id: str) -> None:
        """End a leg (no error if it already ended or the engine is stopped)."""
        if not self.running:
            return
        core = self._require_core()
        await self._require_thread().call(lambda: core.hang_up(leg_id))

    async def hold(self, leg_id: str) -> None:
        """Put an answered leg on hold (re-INVITE, a=sendonly); bridges and taps survive it."""
        core = self._require_core()
        await self._require_thread().call(lambda: core.set_hold(leg_id, True))

    async def resume(self, leg_id: str) -> None:
        """Take a held leg off hold (re-INVITE, a=sendrecv)."""
        core = self._require_core()
        await self._require_thread().call(lambda: core.set_hold(leg_id, False))

    # ----- media -----

    async def send_dtmf(self, leg_id: str, digits: str, method: DtmfMethod) -> None:
        """Send digits with the configured duration and gap; 'w'/',' pause 0.5 s; returns when sent."""
        tokens = parse_digits(digits)
        duration, gap = self.settings.dtmf_duration_ms, self.settings.dtmf_gap_ms
        if method == DtmfMethod.INBAND:
            rate = self.settings.clock_rate
            await self.play(leg_id, inband_pcm(tokens, duration, gap, rate), rate)
            return
        core, thread = self._require_core(), self._require_thread()
        for token in tokens:
            if token == ",":
                await asyncio.sleep(PAUSE_S)
                continue
            await thread.call(functools.partial(core.send_digit, leg_id, token, method, duration))
            # RFC 4733 s2.5: the event lasts `duration`; pace digits so the receiver sees distinct events.
            await asyncio.sleep((duration + gap) / 1000)

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        """Play audio into the leg; returns when finished; cancelling stops playback at once."""
        audio = resample(pcm, sample_rate, self.settings.clock_rate)
        core, thread = self._require_core(), self._require_thread()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await thread.call(lambda: core.play(leg_id, audio, done))
        try:
            await done
        except asyncio.CancelledError:
            if thread.alive:
                thread.post(lambda: core.stop_play(leg_id, done))
            raise

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        """Connect two legs' audio both ways in the conference bridge (kept across re-INVITEs)."""
        core = self._require_core()
        await self._require_thread().call(lambda: core.bridge(leg_a, leg_b))

    async def start_recording(self, leg_id: str, path: Path) -> None:
        """Record what the leg hears from the remote party into a WAV file (finalised on hang-up/stop)."""
        await self.start_mix_recording([leg_id], path)

    async def start_mix_recording(self, leg_ids: list[str], path: Path) -> None:
        """Record the mix of what the given legs hear into one WAV (finalised when all have ended)."""
        if path.suffix.lower() != ".wav":
            raise SipError(f"recordings are WAV files: {path}")
        core = self._require_core()
        await self._require_thread().call(lambda: core.record(list(leg_ids), path))

    async def ping(self) -> None:
        """Return once the PJSUA2 thread has run a job (a liveness check for supervisors)."""
        await self._require_thread().call(lambda: None)

    # ----- internals -----

    def _require_core(self) -> EngineCore:
        if self._core is None:
            raise SipError("SIP engine is not started")
        return self._core

    def _require_thread(self) -> PjsuaThread:
        if self._thread is None or not self._thread.alive:
            raise SipError("SIP engine is not running")
        return self._thread

    def _dispatch_event(self, event: LegEvent) -> None:
        """Hop an event from the PJSUA2 thread onto the loop."""
        core = self._core
        if core is not None:
            try:
                core.loop.call_soon_threadsafe(self._deliver_event, event)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                _LOGGER.debug("dropped %s after the event loop closed", event)

    def _deliver_event(self, event: LegEvent) -> None:
        if event.kind == LegEventKind.INCOMING:
            self._legs.add(event.leg_id)
        elif event.kind == LegEventKind.DISCONNECTED:
            self._legs.discard(event.leg_id)
            self._audio_subs.drop(event.leg_id)
        self._event_subs.deliver(event)

    def _dispatch_audio(self, leg_id: str, frame: AudioFrame) -> None:
        """Fan a frame out to subscribers (on the loop: the tap already hopped threads)."""
        self._audio_subs.deliver(leg_id, frame)

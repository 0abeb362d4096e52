"""``WorkerPoolEngine``: the ``SipEngine`` of the product, PJSUA2 in supervised worker processes.

Each worker is one PJSUA2 endpoint in its own process (``sip.worker``), bound to its own SIP port, with at
most ``max_calls`` (4) legs: two bridged sessions of a company leg and the user's phone. A bridge lives
inside one conference bridge, so a session's legs share a worker: a new outbound call opens a session in
the least loaded worker with room for both of its legs, and ``dial(..., near=leg)`` puts the user's leg
beside its company leg. Sessions spread over workers so that a crash loses as few calls as possible.

A worker that dies (a PJSIP assertion, a segfault, ``kill -9``, a PJSUA2 thread that stops answering)
ends only its own legs, each with a DISCONNECTED event whose reason says so; it is restarted at once
(backing off only if it keeps dying young), on the same SIP port, by adopting a spare interpreter started
ahead, while calls in other workers go on.

Registration: only worker 0 sends REGISTER (one Contact per account; two would split the trunk's inbound
calls between workers); the others authenticate their own INVITEs with the same credentials. Inbound
INVITEs arrive at whichever worker's port they were sent to (an edge proxy lists ``worker_ports``).

This module never imports PJSUA2: the sidecar process stays free of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..audio.types import AudioFrame, Pcm
from ..protocol import DtmfMethod
from .api import LegEvent, LegEventKind, SipError, Unsubscribe
from .dtmf import parse_digits
from .settings import SipSettings, settings_to_wire
from .subscribers import KeyedSubscribers, Subscribers
from .targets import target_uri
from .worker_link import WorkerLink, WorkerProcess, spawn_worker

_LOGGER = logging.getLogger(__name__)

# Two workers: the sidecar's default of two concurrent calls then runs one call per process, so a crash
# loses one call, not two. Each idle worker costs about 1% of a core (its conference-bridge clock and
# PJSIP poll) and 47 MB RSS; the heavy per-call work (VAD, speech-to-text) runs in the sidecar, not here.
DEFAULT_WORKERS = 2
MAX_WORKERS = 16  # 32 sessions: far beyond a home's lines; bounds processes and file descriptors
LOST_STATUS = 500  # RFC 3261 s21.5.1: the local side failed, not the far end
RESTART_WAIT_S = 5.0  # a dial waits this long for a restarting worker when no other has room
HEALTHY_RUN_S = 10.0  # a worker that ran this long before dying starts a fresh count of young deaths
IMMEDIATE_RESTARTS = 3  # young deaths in a row restarted without delay
MAX_BACKOFF_S = 30.0


def restart_delay(failures: int) -> float:
    """Seconds before restarting a worker that died ``failures`` times in a row soon after starting.

    The first few deaths restart at once (the 2 s promise: a start takes ~0.3 s); a worker that keeps dying
    young (a port taken, a packet of death that keeps arriving) backs off exponentially, so a crash loop
    cannot spin a core (each start costs ~0.3 s of CPU).
    """
    return 0.0 if failures <= IMMEDIATE_RESTARTS else min(MAX_BACKOFF_S, 0.5 * 2 ** (failures - IMMEDIATE_RESTARTS - 1))


@dataclass
class _Occupancy:
    """What one worker carries, as seen from the pool (worker leg ids)."""

    live: set[str] = field(default_factory=set)
    solo: set[str] = field(default_factory=set)  # session-opening legs whose partner is not dialled yet
    pending_slots: int = 0  # legs being dialled (a session-opening dial holds two)
    ended_early: set[str] = field(default_factory=set)  # DISCONNECTED before the dial returned

    def reserved(self) -> int:
        """Legs in use or promised."""
        return len(self.live) + len(self.solo) + self.pending_slots


class WorkerPoolEngine:
    """A ``SipEngine`` over ``workers`` media worker processes."""

    def __init__(self, settings: SipSettings, *, workers: int = DEFAULT_WORKERS, log_level: str = "INFO") -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"workers must be 1-{MAX_WORKERS}, not {workers}")
        self.settings = settings
        self._workers = workers
        self._log_level = log_level
        self._links: list[WorkerLink] = []
        self._occupancy: dict[int, _Occupancy] = {}
        self._supervisors: list[asyncio.Task[None]] = []
        self._event_subs: Subscribers[LegEvent] = Subscribers("leg event")
        self._audio_subs: KeyedSubscribers[AudioFrame] = KeyedSubscribers("audio")
        self._registration_subs: Subscribers[tuple[bool, int, str]] = Subscribers("registration")
        self._registration_wanted = 0  # worker 0's trunk generation after the last set_trunk
        self._running = False
        self.restarts = 0
        # One interpreter started ahead, with PJSUA2 and numpy imported, that the next restart adopts: Python's
        # start-up and imports are ~95% of a worker's start (0.4-0.9 s on a loaded 2-core machine; more on a
        # slower one), the engine's own start ~10 ms. It costs one idle process (44 MB RSS, no CPU) per pool.
        self._spare: WorkerProcess | None = None
        self._spare_task: asyncio.Task[None] | None = None

    # ----- lifecycle -----

    @property
    def worker_ports(self) -> list[int]:
        """Each worker's bound SIP port, in worker order (stable across restarts)."""
        return [link.port for link in self._links]

    @property
    def worker_pids(self) -> list[int | None]:
        """Each worker's current process id (None while it is down)."""
        return [link.pid if link.up.is_set() else None for link in self._links]

    @property
    def spare_pid(self) -> int | None:
        """The process id of the interpreter waiting to replace the next dead worker (None while it starts)."""
        return None if self._spare is None else self._spare.proc.pid

    @property
    def dropped_audio_frames(self) -> int:
        """Audio frames the workers dropped because this process read too slowly (as of their last ping)."""
        return sum(link.dropped_frames for link in self._links)

    @property
    def local_port(self) -> int:
        """Worker 0's SIP port (the one that registers)."""
        return self._links[0].port if self._links else 0

    @property
    def local_uri(self) -> str:
        """A SIP URI that reaches worker 0 directly."""
        host = self.settings.public_host or self.settings.bind_host
        return f"sip:holdslayer@{host}:{self.local_port}"

    @property
    def max_legs(self) -> int:
        """Legs the whole pool can carry at once."""
        return self._workers * self.settings.max_calls

    @property
    def registered(self) -> bool:
        """True when worker 0's trunk account is registered (or no registrar is configured)."""
        if self.settings.registrar is None or not self.settings.register:
            return self._running
        return bool(self._links) and self._links[0].up.is_set() and self._links[0].registered

    @property
    def registration_status(self) -> tuple[int, str]:
        """The last REGISTER response (code, reason) of worker 0."""
        return self._links[0].registration_status if self._links else (0, "")

    @property
    def running(self) -> bool:
        """True between a successful start and stop."""
        return self._running

    async def start(self) -> None:
        """Start every worker (in parallel) and supervise them; raise ``SipError`` if one cannot start."""
        if self._links:
            raise SipError("engine already started")
        for index in range(self._workers):
            port = self.settings.port + index if self.settings.port else 0
            settings = replace(self.settings, port=port, register=self.settings.register and index == 0)
            link = WorkerLink(
                index,
                settings,
                on_event=self._on_event,
                on_audio=self._on_audio,
                on_registration=self._on_registration,
                log_level=self._log_level,
            )
            self._links.append(link)
            self._occupancy[index] = _Occupancy()
        results = await asyncio.gather(*(link.start() for link in self._links), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            await self._stop_links()
            self._links.clear()
            if isinstance(errors[0], SipError):
                raise errors[0]
            raise SipError(f"cannot start the media workers: {errors[0]}") from errors[0]
        self._running = True
        self._supervisors = [
            asyncio.create_task(self._supervise(link), name=f"supervise {link.name}") for link in self._links
        ]
        self._refill_spare()
        _LOGGER.info("%d media workers on SIP ports %s", self._workers, self.worker_ports)

    async def stop(self) -> None:
        """Stop supervising, then hang up every leg and stop every worker."""
        if not self._links:
            return
        self._running = False
        for task in self._supervisors:
            task.cancel()
        await asyncio.gather(*self._supervisors, return_exceptions=True)
        self._supervisors = []
        if self._spare_task is not None:
            self._spare_task.cancel()
            await asyncio.gather(self._spare_task, return_exceptions=True)
            self._spare_task = None
        if self._spare is not None:
            await self._spare.discard()
            self._spare = None
        await self._stop_links()
        self._links.clear()
        self._occupancy.clear()
        self._audio_subs.clear()

    async def _stop_links(self) -> None:
        await asyncio.gather(*(link.stop() for link in self._links), return_exceptions=True)

    async def _supervise(self, link: WorkerLink) -> None:
        """Wait for the running worker to die, end its legs, start it again; repeat until cancelled."""
        failures = 0  # deaths in a row, each soon after its start (or failed starts)
        while True:
            description = await link.wait_exit()  # returns once the dead incarnation is fully cleaned up
            _LOGGER.error("%s (pid %s) %s: restarting it", link.name, link.pid, description)
            self._lose_legs(link, f"{link.name} crashed ({description}); restarted")
            failures = 0 if time.monotonic() - link.started_at >= HEALTHY_RUN_S else failures + 1
            while True:
                if delay := restart_delay(failures):
                    await asyncio.sleep(delay)
                spare, self._spare = self._spare, None
                try:
                    await link.start(spare)
                    break
                except SipError as err:
                    _LOGGER.error("%s: %s", link.name, err)
                    failures += 1
            self.restarts += 1
            _LOGGER.info("%s restarted (pid %s, SIP port %d)", link.name, link.pid, link.port)
            self._refill_spare()

    def _refill_spare(self) -> None:
        """Start the next spare interpreter in the background (after a restart, not during it)."""
        if self._running and self._spare is None and (self._spare_task is None or self._spare_task.done()):
            self._spare_task = asyncio.create_task(self._make_spare(), name="spare media worker")

    async def _make_spare(self) -> None:
        try:
            self._spare = await spawn_worker(self._log_level)
        except OSError as err:  # no spare: the next restart spawns its own interpreter
            _LOGGER.warning("cannot start a spare media worker: %s", err)

    def _lose_legs(self, link: WorkerLink, reason: str) -> None:
        """End every leg of a dead worker, with the reason, on the loop."""
        occupancy = self._occupancy[link.index]
        lost = sorted(occupancy.live)
        occupancy.live.clear()
        occupancy.solo.clear()
        occupancy.ended_early.clear()
        for worker_leg in lost:
            leg_id = f"{link.tag}/{worker_leg}"
            self._audio_subs.drop(leg_id)
            event = LegEvent(leg_id, LegEventKind.DISCONNECTED, status_code=LOST_STATUS, reason=reason, lost=True)
            self._deliver(event)

    # ----- the trunk -----

    async def set_trunk(self, settings: SipSettings) -> None:
        """Give every worker the new trunk (account, credentials, DTMF timing) for its new calls.

        ``settings`` are the pool's settings with the new trunk fields; each worker keeps its own port, and only
        worker 0 registers. A worker restarted later starts with them. Calls in progress keep their account.
        """
        self.settings = settings
        for link in self._links:
            link.settings = replace(settings, port=link.port, register=settings.register and link.index == 0)
        live = [link for link in self._links if link.up.is_set()]
        results = await asyncio.gather(
            *(link.request("set_trunk", settings=settings_to_wire(link.settings)) for link in live),
            return_exceptions=True,
        )
        for link, result in zip(live, results, strict=True):
            if link.index == 0 and isinstance(result, int):
                self._registration_wanted = result
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            raise errors[0] if isinstance(errors[0], SipError) else SipError(str(errors[0]))

    async def wait_registration(self, timeout_s: float) -> tuple[int, str] | None:
        """Wait up to ``timeout_s`` for worker 0's first REGISTER answer after ``set_trunk``; None if none came."""
        if not self._links:
            return None
        link = self._links[0]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code, reason = link.registration_status
            if code and link.registration_generation == self._registration_wanted:
                return code, reason
            await asyncio.sleep(0.1)  # the worker reports every 0.5 s at most: polling faster gains nothing
        return None

    def subscribe_registration(self, callback: Callable[[tuple[bool, int, str]], None]) -> Unsubscribe:
        """Be told (registered, code, reason) whenever worker 0's registration changes."""
        return self._registration_subs.add(callback)

    def _on_registration(self, link: WorkerLink) -> None:
        if link.index == 0:
            code, reason = link.registration_status
            self._registration_subs.deliver((link.registered, code, reason))

    # ----- subscriptions -----

    def subscribe_events(self, callback: Callable[[LegEvent], None]) -> Unsubscribe:
        """Receive every leg event on the asyncio loop; returns an unsubscribe callable."""
        return self._event_subs.add(callback)

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Unsubscribe:
        """Receive the leg's incoming audio as 20 ms frames on the asyncio loop."""
        link, worker_leg = self._live(leg_id)
        unsubscribe = self._audio_subs.add(leg_id, callback)
        link.post("tap", leg=worker_leg)
        return unsubscribe

    # ----- calls -----

    async def dial(self, target: str, *, near: str | None = None) -> str:
        """Place an outbound call; a session's first leg opens it in the least loaded worker, ``near`` joins one."""
        # Refused here already (the worker's engine checks again, as the last gate before an INVITE).
        target_uri(target, self.settings.trunk_domain if self.settings.registrar else None)
        link, slots = await self._place(near)
        occupancy = self._occupancy[link.index]
        tag = link.tag
        occupancy.pending_slots += slots
        try:
            worker_leg = str(await link.request("dial", target=target))
        finally:
            if link.tag == tag:
                occupancy.pending_slots -= slots
        if worker_leg in occupancy.ended_early:
            occupancy.ended_early.discard(worker_leg)  # its DISCONNECTED already went out
        else:
            occupancy.live.add(worker_leg)
            if near is None:
                occupancy.solo.add(worker_leg)
            else:
                occupancy.solo.discard(near.split("/", 1)[-1])
        if not occupancy.pending_slots:
            occupancy.ended_early.clear()
        return f"{tag}/{worker_leg}"

    async def _place(self, near: str | None) -> tuple[WorkerLink, int]:
        """Choose the worker for a new leg, and how many leg slots the dial reserves there."""
        if near is not None:
            link, _ = self._live(near)
            occupancy = self._occupancy[link.index]
            # A session's own second leg takes the slot promised to it; any other leg (a phone rung for an
            # inbound caller) must leave the slots promised to calls on hold free.
            if near.split("/", 1)[-1] in occupancy.solo:
                used = len(occupancy.live) + occupancy.pending_slots
            else:
                used = occupancy.reserved()
            if used >= self.settings.max_calls:
                raise SipError(f"no free call slot in {link.name} beside leg {near}")
            return link, 1
        chosen = self._least_loaded()
        if chosen is None and not all(link.up.is_set() for link in self._links):
            # Room may come back with a worker that is restarting after a crash.
            waits = [asyncio.create_task(link.up.wait()) for link in self._links if not link.up.is_set()]
            await asyncio.wait(waits, timeout=RESTART_WAIT_S, return_when=asyncio.FIRST_COMPLETED)
            for task in waits:
                task.cancel()
            chosen = self._least_loaded()
        if chosen is None:
            raise SipError(f"no free call slot: all {len(self._links)} media workers are busy or restarting")
        return chosen, 2

    def room_beside(self, leg_id: str) -> int:
        """Return the leg slots still free in the worker carrying ``leg_id`` (promised ones count as taken).

        Negative: the leg itself sits in a slot promised to a call on hold. 0 for an unknown leg.
        """
        found = self._find(leg_id)
        if found is None:
            return 0
        return self.settings.max_calls - self._occupancy[found[0].index].reserved()

    def _least_loaded(self) -> WorkerLink | None:
        room = [
            link
            for link in self._links
            if link.up.is_set() and self._occupancy[link.index].reserved() + 2 <= self.settings.max_calls
        ]
        return min(room, key=lambda link: (self._occupancy[link.index].reserved(), link.index), default=None)

    async def ring(self, leg_id: str) -> None:
        """Send 180 Ringing on an inbound leg."""
        link, worker_leg = self._live(leg_id)
        await link.request("ring", leg=worker_leg)

    async def answer(self, leg_id: str) -> None:
        """Answer an incoming leg with 200 OK."""
        link, worker_leg = self._live(leg_id)
        await link.request("answer", leg=worker_leg)

    async def reject(self, leg_id: str, status_code: int = 486) -> None:
        """Refuse an unanswered inbound leg with a final error response (486 Busy Here by default)."""
        if not 400 <= status_code <= 699:
            raise SipError(f"reject needs a 4xx-6xx status code, not {status_code}")
        link, worker_leg = self._live(leg_id)
        await link.request("reject", leg=worker_leg, status_code=status_code)

    async def hang_up(self, leg_id: str) -> None:
        """End a leg (no error if it already ended, its worker died, or the engine is stopped)."""
        found = self._find(leg_id)
        if found is None or not found[0].up.is_set():
            return
        link, worker_leg = found
        with contextlib.suppress(SipError):  # the worker died meanwhile: the leg is gone anyway
            await link.request("hang_up", leg=worker_leg)

    async def hold(self, leg_id: str) -> None:
        """Put an answered leg on hold (re-INVITE, a=sendonly)."""
        link, worker_leg = self._live(leg_id)
        await link.request("hold", leg=worker_leg)

    async def resume(self, leg_id: str) -> None:
        """Take a held leg off hold (re-INVITE, a=sendrecv)."""
        link, worker_leg = self._live(leg_id)
        await link.request("resume", leg=worker_leg)

    # ----- media -----

    async def send_dtmf(self, leg_id: str, digits: str, method: DtmfMethod) -> None:
        """Send digits with the configured duration and gap; returns when they have been sent."""
        parse_digits(digits)  # bad digits are refused before anything else, as the engine does
        link, worker_leg = self._live(leg_id)
        await link.request("send_dtmf", leg=worker_leg, digits=digits, method=str(method))

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        """Play audio into the leg; returns when finished; cancelling stops playback at once."""
        link, worker_leg = self._live(leg_id)
        blob = pcm.astype("<i2", copy=False).tobytes()
        await link.request("play", blob, leg=worker_leg, sample_rate=int(sample_rate))

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        """Connect two legs' audio both ways (they must share a worker: dial the second ``near`` the first)."""
        (link, worker_a), (other, worker_b) = self._live(leg_a), self._live(leg_b)
        if link is not other:
            raise SipError(f"cannot bridge {leg_a} and {leg_b}: they are in different media workers")
        await link.request("bridge", a=worker_a, b=worker_b)

    async def start_recording(self, leg_id: str, path: Path) -> None:
        """Record what the leg hears from the remote party into a WAV file (finalised on hang-up/stop)."""
        await self.start_mix_recording([leg_id], path)

    async def start_mix_recording(self, leg_ids: list[str], path: Path) -> None:
        """Record the mix of what the given legs hear into one WAV (finalised when all have ended)."""
        if path.suffix.lower() != ".wav":
            raise SipError(f"recordings are WAV files: {path}")
        found = [self._live(leg_id) for leg_id in leg_ids]
        if not found:
            raise SipError("nothing to record: no legs given")
        if any(link is not found[0][0] for link, _ in found):
            raise SipError("cannot record legs of different media workers into one file")
        # The worker shares the sidecar's working directory; an absolute path keeps that from mattering.
        where = str(path if path.is_absolute() else Path.cwd() / path)
        await found[0][0].request("record", legs=[leg for _, leg in found], path=where)

    # ----- internals -----

    def _find(self, leg_id: str) -> tuple[WorkerLink, str] | None:
        """Return the current worker and its own id of a pool leg id, or None for an unknown or stale one."""
        tag, _, worker_leg = leg_id.partition("/")
        for link in self._links:
            if link.tag == tag and worker_leg:
                return link, worker_leg
        return None

    def _live(self, leg_id: str) -> tuple[WorkerLink, str]:
        found = self._find(leg_id)
        if found is None or found[1] not in self._occupancy[found[0].index].live:
            if not self._running:
                raise SipError("SIP engine is not running")
            raise SipError(f"unknown or finished leg {leg_id}")
        return found

    def _on_event(self, link: WorkerLink, event: LegEvent) -> None:
        occupancy = self._occupancy[link.index]
        worker_leg = event.leg_id
        leg_id = f"{link.tag}/{worker_leg}"
        if event.kind is LegEventKind.INCOMING:
            occupancy.live.add(worker_leg)
        elif event.kind is LegEventKind.DISCONNECTED:
            if worker_leg in occupancy.live:
                occupancy.live.discard(worker_leg)
                occupancy.solo.discard(worker_leg)
            elif occupancy.pending_slots:
                occupancy.ended_early.add(worker_leg)
            self._audio_subs.drop(leg_id)
        self._deliver(replace(event, leg_id=leg_id))

    def _deliver(self, event: LegEvent) -> None:
        self._event_subs.deliver(event)

    def _on_audio(self, link: WorkerLink, worker_leg: str, frame: AudioFrame) -> None:
        self._audio_subs.deliver(f"{link.tag}/{worker_leg}", frame)

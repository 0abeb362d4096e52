"""CallManager: owns the calls, runs the state machine's effects through injected engines, publishes events."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.types import AudioFrame, Observation, ObservationKind
from ..dialplan import DialPolicyError, check_target
from ..nav.api import Navigator
from ..nav.flows import CallFlow
from ..protocol import (
    FINAL_STATES,
    CallInfo,
    CallState,
    ErrorCode,
    EventType,
    SidecarInfo,
    Snapshot,
)
from ..sip.api import LegEvent, LegEventKind, SipError, Unsubscribe
from ..store.sqlite import CallRecord, StoreError
from .effects import EffectRunner
from .errors import CallError
from .events import (
    CompanyAnswered,
    CompanyDisconnected,
    CompanyRinging,
    DtmfRequested,
    HangUpRequested,
    Input,
    Leg,
    Observed,
    Start,
    UserAnswered,
    UserDisconnected,
)
from .learning import learned_flow, merged_flows
from .ports import Clock, Engines, EventSink, InboundHandler, LegWatcher, ManagerConfig
from .runtime import CallRuntime
from .session import CallSession, call_info

_LOGGER = logging.getLogger(__name__)

VERSION = "0.1.0"
HEALTH_TIMEOUT_S = 5.0
DIAL_WAIT_S = 15.0  # place_call waits this long for the INVITE to leave before answering the client
_LISTENING = frozenset({CallState.IVR, CallState.HOLD, CallState.PROBING})
# The detector's decisions about a person or a recording, logged with the rule that made them.
_DECISIONS = frozenset({ObservationKind.HUMAN_DETECTED, ObservationKind.HUMAN_UNCERTAIN, ObservationKind.ANNOUNCEMENT})
_MAX_ORPHAN_LEGS = 32


_COMPANY_INPUTS: dict[LegEventKind, Callable[[float, LegEvent], Input]] = {
    LegEventKind.RINGING: lambda at, event: CompanyRinging(at),
    LegEventKind.ANSWERED: lambda at, event: CompanyAnswered(at),
    LegEventKind.DISCONNECTED: lambda at, event: CompanyDisconnected(at, event.status_code, event.reason, event.lost),
}
_USER_INPUTS: dict[LegEventKind, Callable[[float, LegEvent], Input]] = {
    LegEventKind.ANSWERED: lambda at, event: UserAnswered(at),
    LegEventKind.DISCONNECTED: lambda at, event: UserDisconnected(at, event.status_code, event.reason, event.lost),
}


class CallManager:
    """Places calls and follows them to the end. Every public coroutine runs on the asyncio loop."""

    def __init__(
        self,
        engines: Engines,
        config: ManagerConfig,
        *,
        clock: Clock = time.time,
        inbound: InboundHandler | None = None,
    ) -> None:
        self._engines = engines
        self._config = config
        self._clock = clock
        self._inbound = inbound
        self._calls: dict[str, CallRuntime] = {}
        self._ended: OrderedDict[str, CallInfo] = OrderedDict()
        self._legs: dict[str, tuple[CallRuntime, Leg]] = {}
        # Leg events can overtake the dial() result that names the leg: keep them until it arrives.
        self._orphans: OrderedDict[str, list[LegEvent]] = OrderedDict()
        self._sinks: list[EventSink] = []
        self._leg_watchers: list[LegWatcher] = []
        self._health: dict[str, str] = {"sip": "starting"}
        self._unsubscribe_sip: Unsubscribe | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._effects = EffectRunner(self, engines, config, clock)

    def set_inbound(self, handler: InboundHandler | None) -> None:
        """Plug in the inbound half (built after the manager, because it publishes through it)."""
        self._inbound = handler

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen to the SIP engine, take stock of the helpers' health, and warm the models up."""
        self._unsubscribe_sip = self._engines.sip.subscribe_events(self._on_leg_event)
        await self.refresh_health()
        self._spawn(self._warm_up())

    async def _warm_up(self) -> None:
        """Load the speech models before the first call needs them (a cold model delays the first probe)."""
        try:
            policy = self._config.policy
            for text in filter(None, (policy.probe_text, policy.courtesy_text, policy.still_connecting_text)):
                await self._effects.speech(text)  # the person must not wait for the synthesis of these lines
            if self._engines.stt is not None:
                await self._engines.stt.transcribe(np.zeros(self._config.sample_rate // 2, np.int16), 8000)
        except Exception as err:  # the engines report their own health; a failed warm-up only costs time
            _LOGGER.warning("warming up the voice engines failed: %s", err)

    async def stop(self) -> None:
        """Hang up every call and wait for the hang-ups (the SIP engine is stopped by its owner)."""
        now = self._clock()
        runtimes = list(self._calls.values())
        for runtime in runtimes:
            runtime.feed(HangUpRequested(now))
        await asyncio.sleep(0)  # let the hang-ups start before anything is cancelled
        if self._background:
            await asyncio.wait(list(self._background), timeout=5)
        helpers = [task for runtime in runtimes for task in runtime.cancel_tasks()]
        if helpers:
            await asyncio.wait(helpers, timeout=2)
        await self._effects.close()
        if self._unsubscribe_sip is not None:
            self._unsubscribe_sip()
            self._unsubscribe_sip = None

    def reconfigure(self, config: ManagerConfig, engines: Engines) -> None:
        """Use new settings and engines (from ``configure``) for what comes next; calls in progress go on."""
        self._config = config
        self._engines = engines
        self._effects.reconfigure(config, engines)

    async def refresh_health(self) -> None:
        """Ask every helper how it is (shown in snapshots)."""
        engines = self._engines
        health = {"sip": "ok" if engines.sip.registered else "unavailable: trunk not registered"}
        for role, engine in (("stt", engines.stt), ("tts", engines.tts)):
            if engine is None:
                health[role] = "unavailable: not configured"
                continue
            try:
                health[role] = await asyncio.wait_for(engine.health(), HEALTH_TIMEOUT_S)
            except Exception as err:  # a broken or slow helper is reported, never fatal
                health[role] = f"unavailable: {err}"
        health["navigator"] = "ok" if engines.navigator_factory is not None else "unavailable: not configured"
        self._health = health

    # ------------------------------------------------------------ events out

    def subscribe(self, sink: EventSink) -> Unsubscribe:
        """Receive every published event; returns an unsubscribe callable."""
        self._sinks.append(sink)

        def unsubscribe() -> None:
            if sink in self._sinks:
                self._sinks.remove(sink)

        return unsubscribe

    def watch_legs(self, watcher: LegWatcher) -> Unsubscribe:
        """Be told (call_id, leg, leg_id) of every leg a call gets (the history taps them); returns an unsubscribe."""
        self._leg_watchers.append(watcher)
        return lambda: self._leg_watchers.remove(watcher) if watcher in self._leg_watchers else None

    def publish(self, event: str, data: dict[str, Any]) -> None:
        """Send one event to every subscriber (a failing subscriber is logged and skipped)."""
        for sink in list(self._sinks):
            try:
                sink(event, data)
            except Exception:
                _LOGGER.exception("event subscriber failed on %s", event)

    def snapshot(self) -> Snapshot:
        """Everything a client needs to resync: the sidecar's facts and every known call."""
        now = self._clock()
        live = [call_info(runtime.session, now) for runtime in self._calls.values()]
        info = SidecarInfo(
            version=VERSION,
            sip_registered=self._engines.sip.registered,
            max_calls=self._config.max_calls,
            engines=dict(self._health),
        )
        return Snapshot(sidecar=info, calls=[*self._ended.values(), *live])

    # ------------------------------------------------------------ requests

    async def place_call(
        self,
        target: str,
        *,
        company: str | None = None,
        intent: str | None = None,
        call_flow: str | None = None,
        transfer_to: str | None = None,
    ) -> CallInfo:
        """Start a call; returns once the INVITE left (or raises CallError)."""
        # Both ends are checked before anything touches SIP, by the policy the integration uses too:
        # emergency calls are the user's to make, directly, and a target cannot smuggle headers or routes.
        target = _checked("target", target)
        destination = (transfer_to or self._config.user_phone or "").strip()
        if not destination:
            raise CallError(ErrorCode.INVALID_DATA, "transfer_to: required (no user_phone is configured)")
        destination = _checked("transfer_to", destination)
        if self.active_calls >= self._config.max_calls:
            raise CallError(
                ErrorCode.TOO_MANY_CALLS, f"already {self.active_calls} calls (max {self._config.max_calls})"
            )
        flow = await self._pick_flow(call_flow, target=target, company=company, intent=intent)
        runtime = self._new_call(target, destination, company, intent, flow)
        runtime.feed(Start(self._clock()))
        try:
            await asyncio.wait_for(asyncio.shield(runtime.dialed), DIAL_WAIT_S)
        except SipError as err:
            raise CallError(ErrorCode.SIP_ERROR, str(err)) from err
        except TimeoutError:
            pass  # the INVITE is slow to leave; the call goes on and reports through events
        return call_info(runtime.session, self._clock())

    async def _pick_flow(
        self, flow_id: str | None, *, target: str, company: str | None, intent: str | None
    ) -> CallFlow | None:
        store = self._engines.store
        try:
            if flow_id:
                flow = await store.get_flow(flow_id)
                if flow is None:
                    raise CallError(ErrorCode.NOT_FOUND, f"call_flow: no call flow {flow_id!r}")
                return flow
            return await store.find_flow(number=target, company=company, intent=intent)
        except StoreError as err:
            _LOGGER.error("cannot read call flows (calling without one): %s", err)
            return None

    def _new_call(
        self, target: str, transfer_to: str, company: str | None, intent: str | None, flow: CallFlow | None
    ) -> CallRuntime:
        engines, now = self._engines, self._clock()
        policy = replace(
            self._config.policy,
            can_speak=engines.tts is not None,
            can_navigate=engines.navigator_factory is not None and engines.stt is not None,
        )
        session = CallSession(
            call_id=uuid.uuid4().hex[:12],
            target=target,
            transfer_to=transfer_to,
            started_at=now,
            state_since=now,
            policy=policy,
            company=company or (flow.company if flow else None),
            intent=intent or (flow.intent if flow else None),
            department=flow.department if flow else None,
            flow=flow,
        )
        detector = engines.detector_factory(self._config.sample_rate)
        navigator = self._new_navigator(flow)
        runtime = CallRuntime(
            session, detector, navigator, run_effect=self._effects.run, now=self._clock, on_settled=self._settled
        )
        self._calls[session.call_id] = runtime
        return runtime

    def _new_navigator(self, flow: CallFlow | None) -> Navigator | None:
        factory = self._engines.navigator_factory
        if factory is None:
            return None
        try:
            return factory(flow)
        except Exception:  # without a navigator the call still follows its flow and waits for a person
            _LOGGER.exception("cannot build a navigator for this call")
            return None

    @property
    def active_calls(self) -> int:
        """Calls that have not ended."""
        return sum(1 for runtime in self._calls.values() if not runtime.session.final)

    def _live(self, call_id: str) -> CallRuntime:
        runtime = self._calls.get(call_id)
        if runtime is None or runtime.session.final:
            raise CallError(ErrorCode.NOT_FOUND, f"call_id: no active call {call_id!r}")
        return runtime

    async def hang_up(self, call_id: str) -> CallInfo:
        """End a call."""
        runtime = self._live(call_id)
        runtime.feed(HangUpRequested(self._clock()))
        return call_info(runtime.session, self._clock())

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send digits on a call's company leg by hand."""
        runtime = self._live(call_id)
        if not runtime.session.company_up:
            raise CallError(ErrorCode.INVALID_DATA, "call_id: the company has not answered yet")
        runtime.feed(DtmfRequested(self._clock(), digits))

    # ------------------------------------------------------------ call flows and history

    async def list_flows(
        self, company: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> list[CallFlow]:
        """List stored call flows by id (a page of them with ``after`` and ``limit``)."""
        return await self._engines.store.list_flows(company, after=after, limit=limit)

    async def get_flow(self, flow_id: str) -> CallFlow:
        """One stored call flow."""
        flow = await self._engines.store.get_flow(flow_id)
        if flow is None:
            raise CallError(ErrorCode.NOT_FOUND, f"id: no call flow {flow_id!r}")
        return flow

    async def save_flow(self, flow: CallFlow) -> None:
        """Store (or replace) a call flow."""
        await self._engines.store.save_flow(flow, self._clock())
        self.publish(EventType.CALL_FLOW_SAVED, {"id": flow.id, "name": flow.name, "company": flow.company})

    async def delete_flow(self, flow_id: str) -> None:
        """Delete a stored call flow."""
        if not await self._engines.store.delete_flow(flow_id):
            raise CallError(ErrorCode.NOT_FOUND, f"id: no call flow {flow_id!r}")
        self.publish(EventType.CALL_FLOW_DELETED, {"id": flow_id})

    async def history(self, limit: int, company: str | None, after: str | None = None) -> dict[str, Any]:
        """Recent calls (older than the call ``after`` when given) and hold statistics."""
        store = self._engines.store
        calls = await store.history(limit, company, after)
        stats = await store.hold_stats() if after is None else []  # the first page carries them
        return {"calls": [c.as_dict() for c in calls], "stats": [s.as_dict() for s in stats]}

    # ------------------------------------------------------------ legs and audio in

    def register_leg(self, runtime: CallRuntime, leg: Leg, leg_id: str) -> None:
        """Remember which call a new leg belongs to and replay events that arrived before its id."""
        runtime.legs[leg] = leg_id
        self._legs[leg_id] = (runtime, leg)
        if leg is Leg.COMPANY:
            try:
                runtime.unsubscribe_audio = self._engines.sip.subscribe_audio(
                    leg_id, lambda frame: self._on_audio(runtime, frame)
                )
            except SipError as err:
                # The leg can end before dial() returns (an instant 503, a refused TCP connect): there is
                # no audio to tap, but its DISCONNECTED is waiting in the orphans and must still be replayed.
                _LOGGER.debug("call %s: no audio tap for finished leg %s: %s", runtime.call_id, leg_id, err)
        for watcher in list(self._leg_watchers):
            try:
                watcher(runtime.call_id, leg.value, leg_id)
            except Exception:  # a watcher (the history) must never disturb the call
                _LOGGER.exception("call %s: leg watcher failed", runtime.call_id)
        for event in self._orphans.pop(leg_id, []):
            self._on_leg_event(event)

    def _on_leg_event(self, event: LegEvent) -> None:
        if event.kind is LegEventKind.INCOMING:
            self._spawn(self._handle_inbound(event))
            return
        owner = self._legs.get(event.leg_id)
        if owner is None:
            self._orphans.setdefault(event.leg_id, []).append(event)
            while len(self._orphans) > _MAX_ORPHAN_LEGS:
                self._orphans.popitem(last=False)
            return
        runtime, leg = owner
        if event.kind is LegEventKind.DISCONNECTED:
            del self._legs[event.leg_id]
            runtime.legs.pop(leg, None)
        make = (_COMPANY_INPUTS if leg is Leg.COMPANY else _USER_INPUTS).get(event.kind)
        if make is not None:  # digits the far end sends us mean nothing to the call logic
            runtime.feed(make(self._clock(), event))

    async def _handle_inbound(self, event: LegEvent) -> None:
        # Never bridged to the trunk, never dialled out for: an inbound leg is answered only by the hook.
        try:
            if self._inbound is not None:
                await self._inbound(event)
            else:
                _LOGGER.info("rejecting inbound call from %s (no receptionist configured)", event.remote_uri)
                await self._engines.sip.hang_up(event.leg_id)
        except Exception:
            _LOGGER.exception("inbound call handling failed")

    def _on_audio(self, runtime: CallRuntime, frame: AudioFrame) -> None:
        runtime.last_t_s = frame.t_s
        if runtime.session.state not in _LISTENING:
            return  # nothing to judge while dialling or once a person is on the line
        try:
            observations = runtime.listening.ears.hear(frame)
        except Exception:
            runtime.detector_failures += 1
            if runtime.detector_failures in (1, 100, 1000):  # log, but do not flood the log at 50 frames/s
                _LOGGER.exception("call %s: detector failed (%d times)", runtime.call_id, runtime.detector_failures)
            return
        self.feed_observations(runtime, observations)

    def feed_observations(self, runtime: CallRuntime, observations: list[Observation]) -> None:
        """Turn detector observations into machine inputs."""
        for obs in observations:
            if obs.kind in _DECISIONS:
                # Which rule decided, in the sidecar's log: a false transfer is traced to its rule from the log alone.
                _LOGGER.info(
                    "call %s: %s at %.2f s (onset %s): %s",
                    runtime.call_id,
                    obs.kind.value,
                    obs.t_s,
                    obs.data.get("onset_s", "-"),
                    obs.data.get("reason", "unnamed rule"),
                )
            runtime.feed(Observed(self._clock(), obs.kind, obs.t_s, obs.confidence, dict(obs.data), obs.audio))

    def _settled(self, runtime: CallRuntime) -> None:
        """Close a call that just ended: cancel its timers, hang up stray legs, keep its history."""
        session = runtime.session
        if session.state not in FINAL_STATES or runtime.session.call_id not in self._calls:
            return
        del self._calls[session.call_id]
        runtime.close()
        for leg_id in list(runtime.legs.values()):
            self._legs.pop(leg_id, None)
            self._spawn(self._quiet_hang_up(leg_id))
        runtime.legs.clear()
        info = call_info(session, self._clock())
        self._ended[session.call_id] = info
        while len(self._ended) > self._config.keep_ended:
            self._ended.popitem(last=False)
        self._spawn(self._remember(session))
        self._spawn(self._learn(runtime))

    async def _quiet_hang_up(self, leg_id: str) -> None:
        try:
            await self._engines.sip.hang_up(leg_id)
        except SipError as err:
            _LOGGER.debug("hang-up of %s: %s", leg_id, err)

    async def _remember(self, session: CallSession) -> None:
        now = self._clock()
        record = CallRecord(
            call_id=session.call_id,
            target=session.target,
            company=session.company,
            intent=session.intent,
            department=session.department,
            started_at=session.started_at,
            ended_at=now,
            hold_seconds=session.hold_seconds(now),
            outcome=session.outcome or "failed",
            reason=session.reason,
            recordings=list(session.recordings),
        )
        try:
            await self._engines.store.add_call(record)
        except StoreError as err:
            _LOGGER.error("cannot keep call %s in the history: %s", session.call_id, err)

    async def _learn(self, runtime: CallRuntime) -> None:
        """Keep the path an explored call took to a person as a call flow (the next call follows it)."""
        try:
            flow = learned_flow(runtime.session, runtime.navigator)
            if flow is None:
                return
            for changed in merged_flows(await self._engines.store.list_flows(), flow):
                await self.save_flow(changed)
                _LOGGER.info("learned call flow %s (%d steps)", changed.id, len(changed.steps))
        except Exception:  # learning is a bonus: never let it disturb anything else
            _LOGGER.exception("cannot learn a call flow from call %s", runtime.call_id)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def recording_path(self, session: CallSession, leg: Leg) -> Path:
        """Where one recording of a call goes: recordings/YYYY-MM-DD/<call_id>-<leg>.wav (UTC date)."""
        day = datetime.fromtimestamp(session.started_at, UTC).strftime("%Y-%m-%d")
        return self._config.recordings_dir / day / f"{session.call_id}-{leg.value}.wav"


def _checked(field: str, target: str) -> str:
    """Return the normalised target, or raise the CallError the dialling policy implies."""
    try:
        return check_target(target).value
    except DialPolicyError as err:
        code = ErrorCode.EMERGENCY_NUMBER if err.code == ErrorCode.EMERGENCY_NUMBER else ErrorCode.INVALID_DATA
        raise CallError(code, f"{field}: {err.message}") from err

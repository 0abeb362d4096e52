"""The inbound handler: every INVITE the SIP engine reports goes through rules, then rings, screens or records.

Plugged into ``CallManager`` as its ``InboundHandler``. It only ever answers, rejects, rings (devices the user
configured), bridges a device to the caller, plays to and records the caller, and hangs up. Nothing a caller
says or presses chooses a target: an inbound caller never reaches the outbound trunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ..protocol import ErrorCode, EventType, InboundSnapshot, InboundState, RoutingRule, RuleAction
from ..sip.api import LegEvent, LegEventKind, SipEngine, SipError
from ..store.inbound import Device, InboundStore
from ..voice.api import SpeechToText, TextToSpeech, VoiceEngineError
from .call import FINAL, WAITING, InboundCall
from .chain import RingChain, dial_target
from .directory import Directory
from .errors import InboundError
from .legs import LegEvents
from .ports import Registrar, Screener, ScreeningContext, ScreeningOutcome
from .rules import DEFAULT_REJECT_CODE, RuleMatch, caller_from_uri
from .voicemail import MessageFor, VoicemailSettings, VoicemailTaker

_LOGGER = logging.getLogger(__name__)

BUSY: Final = 486  # RFC 3261 s21.4.24 Busy Here: no line free here, the caller may try later
REGISTRATION_POLL_S: Final = 15.0  # a phone's register state shows in HA within this (REGISTER refresh is minutes)


@dataclass(frozen=True, slots=True)
class InboundConfig:
    """Settings of the inbound half (built from the sidecar settings in ``__main__``)."""

    recordings_dir: Path
    sample_rate: int = 8000
    owner_name: str | None = None
    # Inbound calls carried at once: each holds a leg, and a bridged one two; beyond, callers hear busy.
    max_calls: int = 2
    robocall_action: str = "voicemail"  # "voicemail" (kept, and visible) or "reject" (hung up)
    voicemail: VoicemailSettings = field(default_factory=VoicemailSettings)


@dataclass(frozen=True, slots=True)
class InboundEngines:
    """What the handler drives; None where a part is not available."""

    sip: SipEngine
    store: InboundStore
    tts: TextToSpeech | None = None
    stt: SpeechToText | None = None
    screener: Screener | None = None
    registrar: Registrar | None = None
    # Free leg slots beside a leg, honouring slots an outbound hold call has promised to its user
    # (negative: the leg itself sits in such a slot). None: the engine has no such limit.
    capacity: Callable[[str], int] | None = None


class InboundCalls:
    """Follows every inbound call from INVITE to hang-up."""

    def __init__(
        self,
        engines: InboundEngines,
        config: InboundConfig,
        directory: Directory,
        *,
        clock: Callable[[], float],
        publish: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self._engines = engines
        self._config = config
        self.directory = directory
        self._clock = clock
        self._publish = publish
        self.legs = LegEvents(engines.sip)
        self.voicemail = VoicemailTaker(
            engines.sip,
            self.legs,
            engines.store,
            recordings_dir=config.recordings_dir,
            sample_rate=config.sample_rate,
            clock=clock,
            publish=publish,
            tts=engines.tts,
            stt=engines.stt,
            settings=config.voicemail,
        )
        self._calls: dict[str, InboundCall] = {}
        self._followers: set[asyncio.Task[None]] = set()
        self._poll: asyncio.Task[None] | None = None
        self.last_caller: InboundCall | None = None
        self.unheard = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the configuration and listen to leg events."""
        await self.directory.load()
        self.unheard = await self._engines.store.unheard()
        self.legs.start()
        if self._engines.registrar is not None:
            self._poll = asyncio.get_running_loop().create_task(self._poll_registrations())

    async def stop(self) -> None:
        """End every inbound call and stop listening."""
        if self._poll is not None:
            self._poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll
        for call in list(self._calls.values()):
            if call.flow is not None:
                call.flow.cancel()
            with contextlib.suppress(SipError):
                await self._engines.sip.hang_up(call.leg_id)
        if self._followers:
            await asyncio.wait(list(self._followers), timeout=5)
        self.legs.stop()

    async def _poll_registrations(self) -> None:
        while True:
            await self.directory.refresh_registrations()
            await asyncio.sleep(REGISTRATION_POLL_S)

    # ------------------------------------------------------------ state out

    def set_owner_name(self, name: str | None) -> None:
        """Use ``name`` in the greetings of calls that come in from now on (a call in progress keeps its own)."""
        self._config = replace(self._config, owner_name=name)

    def snapshot(self) -> InboundSnapshot:
        """Return the inbound half's state for a client's snapshot."""
        return InboundSnapshot(
            global_dnd=self.directory.global_dnd,
            devices=self.directory.device_infos(),
            calls=[call.info() for call in self._calls.values()],
            unheard_voicemails=self.unheard,
            last_caller=self.last_caller.info() if self.last_caller is not None else None,
        )

    def _announce(self, call: InboundCall, event: str = EventType.INBOUND_STATE) -> None:
        self._publish(event, dict(call.info()))
        if event != EventType.INBOUND_STATE:
            self._publish(EventType.INBOUND_STATE, dict(call.info()))

    def _set(self, call: InboundCall, state: InboundState, reason: str | None = None) -> None:
        call.state = state
        if reason is not None:
            call.reason = reason
        if state not in (InboundState.REJECTED, InboundState.ANSWERED):  # those have their own events
            self._announce(call)

    # ------------------------------------------------------------ a new call

    async def __call__(self, event: LegEvent) -> None:
        """Handle one INCOMING leg event (the manager's inbound hook)."""
        caller = caller_from_uri(event.remote_uri)
        dialled = caller_from_uri(event.local_uri) if event.local_uri else None
        call = InboundCall(
            call_id=uuid.uuid4().hex[:12],
            leg_id=event.leg_id,
            caller=caller,
            dialled=None if dialled in (None, "anonymous") else dialled,
            started_at=self._clock(),
            caller_name=self.directory.contact_name(caller),
        )
        task = asyncio.current_task()
        if task is not None:
            self._followers.add(task)
        try:
            await self._handle(call)
        finally:
            if task is not None:
                self._followers.discard(task)

    async def _handle(self, call: InboundCall) -> None:
        full = self._no_room(call)
        match, decision = self.directory.route(call.caller, call.dialled, datetime.fromtimestamp(call.started_at, UTC))
        call.decision, call.reason = decision, decision["reason"]
        if full is not None:
            await self._busy(call, full)
            return
        self._calls[call.call_id] = call
        try:
            with contextlib.suppress(SipError):
                await self._engines.sip.ring(call.leg_id)  # 180: the caller hears ringback while we decide
            self._publish(EventType.INCOMING_CALL, dict(call.info()))
            call.flow = asyncio.get_running_loop().create_task(self._act(call, match))
            await self._follow(call)
        finally:
            self._calls.pop(call.call_id, None)
            if call.state not in FINAL:
                self._set(call, InboundState.ENDED)
            self.last_caller = call
            self.legs.forget(call.leg_id)

    def _no_room(self, call: InboundCall) -> str | None:
        """Why the call cannot be taken (None: it can)."""
        if len(self._calls) >= self._config.max_calls:
            return f"busy: already {len(self._calls)} inbound calls"
        capacity = self._engines.capacity
        if capacity is not None and capacity(call.leg_id) < 0:
            # The INVITE landed in a slot an outbound call on hold keeps for ringing its user: that call wins.
            return "busy: a call on hold keeps the free line for you"
        return None

    async def _busy(self, call: InboundCall, why: str) -> None:
        with contextlib.suppress(SipError):
            await self._engines.sip.reject(call.leg_id, BUSY)
        call.state, call.reason = InboundState.REJECTED, why
        self._publish(EventType.INCOMING_CALL, dict(call.info()))
        self._announce(call, EventType.INBOUND_REJECTED)
        self.last_caller = call

    async def _follow(self, call: InboundCall) -> None:
        """Run the call's flow (which the user may replace) until it ends; a caller gone while waiting ends it."""
        gone = asyncio.get_running_loop().create_task(self.legs.wait(call.leg_id, (LegEventKind.DISCONNECTED,)))
        try:
            while (flow := call.flow) is not None:
                await asyncio.wait({flow, gone}, return_when=asyncio.FIRST_COMPLETED)
                if call.flow is not flow:
                    continue  # replaced by answer_inbound / reject_inbound
                if not flow.done() and call.state in WAITING:
                    flow.cancel()  # the caller hung up while phones rang or the receptionist spoke
                try:
                    await flow  # a voicemail or a bridged call finishes on its own
                except asyncio.CancelledError:
                    if (me := asyncio.current_task()) is not None and me.cancelling():
                        raise
                except Exception:
                    _LOGGER.exception("inbound call %s failed", call.call_id)
                    with contextlib.suppress(SipError):
                        await self._engines.sip.hang_up(call.leg_id)
                if call.flow is flow:
                    break
        finally:
            gone.cancel()
            if call.flow is not None and not call.flow.done():
                call.flow.cancel()

    # ------------------------------------------------------------ actions

    async def _act(self, call: InboundCall, match: RuleMatch) -> None:
        action = match.action
        if action is RuleAction.REJECT and match.rule is not None:
            await self._reject_by_rule(call, match.rule)
        elif action in (RuleAction.DND, RuleAction.TAKE_MESSAGE):
            await self._take_message(call, call.reason)
        elif action in (RuleAction.RING_DEVICE, RuleAction.RING_CHAIN):
            await self._ring(call, self.directory.ring_targets(match))
        else:
            await self._receptionist(call, match)

    async def _answer(self, call: InboundCall) -> bool:
        if call.leg_answered:
            return True
        try:
            await self._engines.sip.answer(call.leg_id)
        except SipError as err:
            _LOGGER.info("inbound call %s: cannot answer: %s", call.call_id, err)
            return False
        call.leg_answered = True
        return True

    async def _reject_by_rule(self, call: InboundCall, rule: RoutingRule) -> None:
        message = rule.get("reject_message")
        sip = self._engines.sip
        # Announced first: the decision is final, and the caller's leg ending (our 603) must not cancel this
        # flow before the event goes out (a call still "waiting" is cancelled when its caller leaves).
        self._rejected(call, call.reason)
        with contextlib.suppress(SipError):
            if message and self._engines.tts is not None and await self._answer(call):
                with contextlib.suppress(VoiceEngineError):
                    speech = await self._engines.tts.synthesize(message, self._config.sample_rate)
                    await sip.play(call.leg_id, speech.pcm, speech.sample_rate)
                await sip.hang_up(call.leg_id)
            elif call.leg_answered:
                await sip.hang_up(call.leg_id)
            else:
                await sip.reject(call.leg_id, rule.get("reject_code") or DEFAULT_REJECT_CODE)

    def _rejected(self, call: InboundCall, reason: str | None) -> None:
        self._set(call, InboundState.REJECTED, reason)
        self._announce(call, EventType.INBOUND_REJECTED)

    async def _take_message(self, call: InboundCall, reason: str | None) -> None:
        self._set(call, InboundState.VOICEMAIL, reason)
        if not await self._answer(call):
            return
        voicemail = await self.voicemail.take(
            MessageFor(call.call_id, call.leg_id, call.caller, call.caller_name, call.dialled)
        )
        if voicemail is not None:
            call.voicemail_id = voicemail.voicemail_id
            self.unheard += 1
            self._announce(call)

    async def _ring(self, call: InboundCall, groups: Sequence[Sequence[Device]]) -> None:
        if not groups:
            why = "do not disturb" if self.directory.global_dnd else "no device to ring (none set up, or all on DND)"
            await self._take_message(call, f"{why}: taking a message")
            return
        capacity = self._engines.capacity
        if capacity is not None and capacity(call.leg_id) < 1:
            await self._take_message(call, "no line free to ring a phone (a call is on hold): taking a message")
            return
        self._set(call, InboundState.RINGING)
        chain = RingChain(
            self._engines.sip,
            self.legs,
            caller_leg=call.leg_id,
            target=lambda device: dial_target(device, self.directory.registrar),
            on_ringing=lambda device_id, ringing: self._ringing(call, device_id, ringing),
        )
        try:
            result = await chain.run(groups)
        finally:
            # Every phone that rang shows this call on its last-call sensor, whatever came of it (answered,
            # declined, rang out, or the caller hung up first), not only the one that answered.
            await asyncio.shield(self._note_rung(call))
        if result.device_id is None or result.leg_id is None:
            await self._take_message(call, "nobody answered: taking a message")
            return
        await self._connect(call, result.device_id, result.leg_id)

    async def _note_rung(self, call: InboundCall) -> None:
        for device_id, when in call.rang.items():
            await self.directory.note_call(device_id, call.caller, at=when)
        call.rang.clear()

    def _ringing(self, call: InboundCall, device_id: str, ringing: bool) -> None:
        if ringing and device_id not in call.ringing_devices:
            call.ringing_devices.append(device_id)
            call.rang.setdefault(device_id, self._clock())
        elif not ringing and device_id in call.ringing_devices:
            call.ringing_devices.remove(device_id)
        self.directory.set_ringing(device_id, ringing)
        self._announce(call)

    async def _connect(self, call: InboundCall, device_id: str, device_leg: str) -> None:
        sip = self._engines.sip
        try:
            if not await self._answer(call):
                raise SipError("the caller is gone")
            await sip.bridge(call.leg_id, device_leg)
        except SipError as err:
            _LOGGER.info("inbound call %s: cannot connect %s: %s", call.call_id, device_id, err)
            with contextlib.suppress(SipError):
                await sip.hang_up(device_leg)
            return
        call.answered_by = device_id
        answered = f"answered on {self.directory.name_of(device_id)}"
        self._set(call, InboundState.ANSWERED, f"{answered}; {call.reason}" if call.reason else answered)
        self._announce(call, EventType.INBOUND_ANSWERED)
        await self._until_either_ends(call.leg_id, device_leg)

    async def _until_either_ends(self, leg_a: str, leg_b: str) -> None:
        waits = [asyncio.ensure_future(self.legs.wait(leg, (LegEventKind.DISCONNECTED,))) for leg in (leg_a, leg_b)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            for leg in (leg_a, leg_b):
                with contextlib.suppress(SipError):
                    await asyncio.shield(self._engines.sip.hang_up(leg))
            self.legs.forget(leg_b)

    async def _receptionist(self, call: InboundCall, match: RuleMatch) -> None:
        screener = self._engines.screener
        if screener is None:
            await self._take_message(call, "no receptionist: taking a message")
            return
        if not await self._answer(call):
            return
        self._set(call, InboundState.SCREENING)
        context = ScreeningContext(
            call_id=call.call_id,
            leg_id=call.leg_id,
            caller=call.caller,
            caller_name=call.caller_name,
            dialled=call.dialled,
            owner_name=self._config.owner_name,
            device_names={d.device_id: d.name for d in self.directory.devices},
        )
        try:
            screening = await screener.screen(context)
        except Exception:  # a failing receptionist must not drop the caller: take a message instead
            _LOGGER.exception("inbound call %s: the receptionist failed", call.call_id)
            await self._take_message(call, "the receptionist failed: taking a message")
            return
        call.caller_name = call.caller_name or screening.caller_name
        call.purpose, call.urgency = screening.purpose, screening.urgency
        call.heard = screening.heard or None
        reason = screening.reason
        if screening.refused_requests:  # recorded for the user, never dialled
            reason += f" (asked to be put through to {', '.join(screening.refused_requests)}: refused)"
        call.reason = reason
        await self._after_screening(call, match, screening.outcome, screening.device_id)

    async def _after_screening(
        self, call: InboundCall, match: RuleMatch, outcome: ScreeningOutcome, device_id: str | None
    ) -> None:
        if outcome is ScreeningOutcome.RING:
            groups = self.directory.ring_targets(match)
            if device_id is not None:  # the caller asked for a device by name: it rings alone, DND still applies
                groups = [[d] for g in groups for d in g if d.device_id == device_id] or groups
            await self._ring(call, groups)
        elif outcome is ScreeningOutcome.TAKE_MESSAGE:
            await self._take_message(call, call.reason)
        elif outcome is ScreeningOutcome.ROBOCALL:
            call.robocall = True
            self._publish(EventType.ROBOCALL_BLOCKED, dict(call.info()))
            if self._config.robocall_action == "reject":
                self._rejected(call, call.reason)  # before the hang-up, whose end would cancel a waiting call
                with contextlib.suppress(SipError):
                    await self._engines.sip.hang_up(call.leg_id)
            else:
                await self._take_message(call, call.reason)
        else:  # END (politely ended) or CALLER_GONE
            with contextlib.suppress(SipError):
                await self._engines.sip.hang_up(call.leg_id)

    # ------------------------------------------------------------ the user's choices

    def live(self, call_id: str) -> InboundCall:
        """Return a call still waiting for someone to pick up, or InboundError."""
        call = self._calls.get(call_id)
        if call is None:
            raise InboundError(ErrorCode.NOT_FOUND, f"call_id: no inbound call {call_id!r} in progress")
        if call.state not in WAITING:
            raise InboundError(ErrorCode.INVALID_DATA, f"call_id: the call is {call.state.value}, no longer waiting")
        return call

    def _replace_flow(self, call: InboundCall, make: Callable[[], Any]) -> None:
        old = call.flow

        async def after_old() -> None:
            if old is not None:
                old.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await old
            await make()

        call.flow = asyncio.get_running_loop().create_task(after_old())

    async def answer_on(self, call_id: str, device_id: str) -> None:
        """Ring one device for a waiting call now (the user's choice: it rings even on DND)."""
        call = self.live(call_id)
        device = self.directory.device(device_id)
        call.reason = f"put through to {device.name} by you"
        self._replace_flow(call, lambda: self._ring(call, [[device]]))

    async def reject(self, call_id: str, to_voicemail: bool) -> None:
        """Refuse a waiting call, or send it to voicemail."""
        call = self.live(call_id)
        if to_voicemail:
            self._replace_flow(call, lambda: self._take_message(call, "sent to voicemail by you"))
            return

        async def refuse() -> None:
            self._rejected(call, "rejected by you")  # before the leg ends, which would cancel a waiting call
            with contextlib.suppress(SipError):
                if call.leg_answered:
                    await self._engines.sip.hang_up(call.leg_id)
                else:
                    await self._engines.sip.reject(call.leg_id, DEFAULT_REJECT_CODE)

        self._replace_flow(call, refuse)

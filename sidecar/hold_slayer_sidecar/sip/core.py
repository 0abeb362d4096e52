"""The PJSUA2-thread side of the engine: endpoint, accounts, legs and their callbacks.

Every method here runs on the PJSUA2 thread (as a job or inside ``libHandleEvents``). Events go to
asyncio through ``emit``; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pjsua2 as pj

from ..audio.types import AudioFrame, Pcm
from ..protocol import DtmfMethod
from .api import LegEvent, LegEventKind, SipError
from .calls import CallRegistry, Leg, SipAccount, SipCall
from .endpoint import PjLogWriter, create_endpoint, create_transports, rtp_config
from .rtp_filter import RtpFilterError, RtpPeerFilter
from .settings import SipSettings
from .wiring import MediaGraph

_LOGGER = logging.getLogger(__name__)


class SlotsBusyError(SipError):
    """PJSUA has no free call slot although fewer than ``max_calls`` legs are live (ended ones are being freed)."""


def bare_uri(header_value: str) -> str:
    """Return the URI inside a From/To value: '"Bob" <sip:bob@host>;tag=x' -> 'sip:bob@host'."""
    if "<" in header_value and ">" in header_value:
        return header_value.split("<", 1)[1].split(">", 1)[0]
    return header_value.split(";", 1)[0].strip()


class EngineCore:
    """Owns the Endpoint and everything PJSUA2; driven by ``PjsuaThread``."""

    def __init__(
        self,
        settings: SipSettings,
        loop: asyncio.AbstractEventLoop,
        emit: Callable[[LegEvent], None],
        deliver_audio: Callable[[str, AudioFrame], None],
    ) -> None:
        self.settings = settings
        self.loop = loop
        self._emit = emit
        self.registry = CallRegistry()
        self.media = MediaGraph(self.registry, loop, settings.clock_rate, deliver_audio)
        self.rtp_filter = RtpPeerFilter() if settings.rtp_peer_only else None
        self.local_port = 0
        self.registered = settings.registrar is None or not settings.register
        self.registration_status: tuple[int, str] = (0, "")
        self._ep: pj.Endpoint | None = None
        self._writer: PjLogWriter | None = None
        self._local: SipAccount | None = None
        self._trunk: SipAccount | None = None
        # Trunk accounts replaced by ``set_trunk`` while a call still used them: deleted once their calls end.
        self._retired: list[SipAccount] = []
        self.trunk_generation = 0  # counts ``set_trunk`` calls, so a registration answer names its account
        self._ended: list[Leg] = []
        # Call objects of ended legs whose slot id a newer call took before they were released (see reap).
        self._parked: list[SipCall] = []

    # ----- lifecycle (thread setup / poll / teardown) -----

    def setup(self) -> None:
        """Create the endpoint, the UDP transport and the accounts."""
        # Created and dropped on this thread, like every PJSUA2 object; it must outlive libDestroy.
        self._writer = PjLogWriter()
        self._ep = create_endpoint(self.settings, self._writer)
        try:
            self.local_port = create_transports(self._ep, self.settings)
            self._ep.libStart()
            self._local = self._make_local_account()
            if self.settings.registrar:
                self._trunk = self._make_trunk_account()
        except BaseException:
            self.teardown()
            raise

    def poll(self, timeout_ms: int) -> None:
        """Let PJSIP run callbacks, then release legs that ended during them."""
        assert self._ep is not None
        # Legs that ended inside the last jobs (a hang-up ends a call at once) first: their slots are still idle,
        # and the events about to be handled may give one of them to a new call.
        self.reap()
        self._ep.libHandleEvents(timeout_ms)
        self.reap()
        self.media.purge()
        if self.rtp_filter is not None:
            for leg in self.registry.legs():
                if not leg.ended:
                    try:
                        self.rtp_filter.check(leg.leg_id, leg.call)
                    except (pj.Error, OSError, RtpFilterError) as err:  # the call goes on either way
                        _LOGGER.warning("cannot check %s's media peer: %s", leg.leg_id, err)

    def teardown(self) -> None:
        """Hang up every leg, pump until they end, drop every PJSUA2 object, destroy the library."""
        ep = self._ep
        if ep is None:
            return
        # Helpers rather than inline loops: a loop variable would keep the last Call alive past
        # libDestroy, and its destructor then asserts inside PJSUA.
        self._hang_up_all()
        for _ in range(100):  # up to ~1 s for BYE/CANCEL transactions
            if not len(self.registry):
                break
            ep.libHandleEvents(10)
            self.reap()
        self._release_all()
        for account in (self._trunk, self._local, *self._retired):
            if account is not None:
                account.shutdown()
        self._trunk = self._local = None
        self._retired.clear()
        ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        self._ep = None
        self._writer = None

    # ----- commands (jobs) -----

    def set_trunk(self, settings: SipSettings) -> None:
        """Use a new trunk account for new calls; a call in progress keeps the account it was made with.

        The old account stops registering at once (REGISTER with Expires 0, RFC 3261 s10.2.2) and is deleted
        when its last call ends: deleting an account under a live call would strand that call's dialog.
        """
        old, previous = self._trunk, self.settings
        self.settings = settings
        try:
            self._trunk = self._make_trunk_account() if settings.registrar else None
        except pj.Error as err:
            self.settings = previous
            raise SipError(f"PJSUA2 refused the trunk account: {err.reason}") from err
        self.trunk_generation += 1
        self.registered = settings.registrar is None or not settings.register
        self.registration_status = (0, "")
        if old is not None:
            old.retired = True
            self._retired.append(old)
        self._drop_idle_retired()
        for account in self._retired:  # still carrying a call: stop its registration now, delete it later
            if account.getInfo().regIsActive:
                try:
                    account.setRegistration(False)
                except pj.Error as err:
                    _LOGGER.debug("unregistering the old trunk account: %s", err.reason)

    def _drop_idle_retired(self) -> None:
        in_use = {id(leg.account) for leg in self.registry.legs()}
        for account in [account for account in self._retired if id(account) not in in_use]:
            self._retired.remove(account)
            account.shutdown()

    def make_call(self, uri: str, *, via_trunk: bool) -> str:
        """Send an INVITE to ``uri``; return the new leg id."""
        account = self._trunk if via_trunk else self._local
        if account is None:
            raise SipError("no trunk is configured: dial a SIP URI instead of a number")
        if self._active_count() >= self.settings.max_calls:
            raise SipError(f"no free call slot ({self.settings.max_calls} calls in progress)")
        # Asked before makeCall, which would log two PJSUA errors for each refusal.
        if (in_use := self._slots_in_use()) >= self.settings.max_calls:
            held = in_use - self._active_count()
            raise SlotsBusyError(
                f"no free call slot: {held} ended call(s) still hold one until the far end answers their INVITE "
                "or it times out (RFC 3261 section 9.1 forbids a CANCEL before a provisional response; timer B "
                "ends the INVITE after 32 s)"
            )
        call = SipCall(account, self)
        leg = self.registry.add(call, account, outbound=True)
        prm = pj.CallOpParam(True)
        try:
            call.makeCall(uri, prm)
        except pj.Error as err:
            self.registry.remove(leg)
            if "TOOMANY" in str(err.info()).upper():
                raise SlotsBusyError(f"no free call slot: {err.reason}") from err
            raise SipError(f"cannot call {uri}: {err.reason}") from err
        return leg.leg_id

    def answer(self, leg_id: str, status_code: int = 200) -> None:
        """Answer an inbound leg (180 rings, 200 accepts)."""
        leg = self._leg(leg_id)
        if leg.outbound:
            raise SipError(f"{leg_id} is an outbound call; only inbound legs can be answered")
        prm = pj.CallOpParam(True)
        prm.statusCode = status_code
        try:
            leg.call.answer(prm)
        except pj.Error as err:
            raise SipError(f"cannot answer {leg_id} with {status_code}: {err.reason}") from err

    def hang_up(self, leg_id: str, status_code: int = 0) -> None:
        """End the leg (CANCEL, BYE or a final error response); no error if it already ended."""
        leg = self.registry.get(leg_id)
        if leg is None or leg.ended:
            return
        self._hangup_quietly(leg, status_code)

    def send_digit(self, leg_id: str, digit: str, method: DtmfMethod, duration_ms: int) -> None:
        """Send one digit as an RFC 4733 event or a SIP INFO (application/dtmf-relay)."""
        leg = self._live_leg(leg_id)
        prm = pj.CallSendDtmfParam()
        prm.digits = digit
        prm.duration = duration_ms
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if method == DtmfMethod.SIP_INFO else pj.PJSUA_DTMF_METHOD_RFC2833
        try:
            leg.call.sendDtmf(prm)
        except pj.Error as err:
            raise SipError(f"cannot send DTMF on {leg_id}: {err.reason}") from err

    def set_hold(self, leg_id: str, hold: bool) -> None:
        """Put the leg on hold (re-INVITE with a=sendonly, RFC 3264 s8.4) or take it off hold."""
        leg = self._live_leg(leg_id)
        prm = pj.CallOpParam(True)
        try:
            if hold:
                leg.call.setHold(prm)
            else:
                prm.opt.flag = pj.PJSUA_CALL_UNHOLD
                leg.call.reinvite(prm)
        except pj.Error as err:
            raise SipError(f"cannot {'hold' if hold else 'resume'} {leg_id}: {err.reason}") from err

    def ensure_tap(self, leg_id: str) -> None:
        """Create the leg's audio tap once (frames then flow to ``deliver_audio``)."""
        leg = self.registry.get(leg_id)
        if leg is not None and not leg.ended:
            self.media.add_tap(leg)

    def play(self, leg_id: str, pcm: Pcm, done: asyncio.Future[None]) -> None:
        """Start playing ``pcm`` (already at the bridge clock rate) into the leg."""
        self.media.player(self._live_leg(leg_id)).load(pcm, done)

    def stop_play(self, leg_id: str, done: asyncio.Future[None]) -> None:
        """Stop the playback that ``done`` belongs to (a later play may already have replaced it)."""
        leg = self.registry.get(leg_id)
        if leg is not None and leg.player is not None:
            leg.player.stop(done)

    def bridge(self, leg_a: str, leg_b: str) -> None:
        """Connect two legs both ways; kept across re-INVITEs."""
        if leg_a == leg_b:
            raise SipError("cannot bridge a leg to itself")
        self.media.bridge(self._live_leg(leg_a), self._live_leg(leg_b))

    def record(self, leg_ids: list[str], path: Path) -> None:
        """Record the mix of what the given legs receive into one WAV file."""
        legs = [self._live_leg(leg_id) for leg_id in leg_ids]
        if not legs:
            raise SipError("nothing to record: no legs given")
        self.media.record(legs, path)

    # ----- CallObserver (PJSUA2 callbacks) -----

    def on_state(self, leg: Leg) -> None:
        """Map INVITE session states to leg events."""
        info = leg.call.getInfo()
        state = info.state
        if state == pj.PJSIP_INV_STATE_EARLY and leg.outbound and not leg.rang:
            if int(info.lastStatusCode) in (180, 183):
                leg.rang = True
                self._emit(LegEvent(leg.leg_id, LegEventKind.RINGING, status_code=int(info.lastStatusCode)))
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            # Media is normally wired by now (the SDP answer precedes the ACK); a call answered with
            # inactive or failed media is still answered: its tap just hears nothing yet.
            if not leg.answered:
                leg.answered = True
                self._emit(LegEvent(leg.leg_id, LegEventKind.ANSWERED, status_code=200))
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED and not leg.ended:
            leg.ended = True
            self._ended.append(leg)
            self._emit(
                LegEvent(
                    leg.leg_id,
                    LegEventKind.DISCONNECTED,
                    status_code=int(info.lastStatusCode),
                    reason=str(info.lastReason),
                    remote_uri=bare_uri(str(info.remoteUri)),
                )
            )

    def on_media(self, leg: Leg) -> None:
        """Reconnect everything: a (re-)negotiated stream has a new conference slot."""
        if leg.ended:
            return
        self.media.rewire(leg)
        if self.rtp_filter is not None:
            try:
                self.rtp_filter.apply(leg.leg_id, leg.call)
            except (pj.Error, OSError, RtpFilterError) as err:  # the call goes on, as before the filter
                _LOGGER.warning("cannot restrict %s's media to its peer: %s", leg.leg_id, err)

    def on_digit(self, leg: Leg, digit: str) -> None:
        """Report a received digit."""
        self._emit(LegEvent(leg.leg_id, LegEventKind.DTMF_RECEIVED, digit=digit.upper()))

    def on_incoming(self, leg: Leg) -> None:
        """Report a new inbound call; refuse it when all slots are busy."""
        info = leg.call.getInfo()
        if self._active_count() > self.settings.max_calls:
            self._hangup_quietly(leg, 486)
            return
        event = LegEvent(
            leg.leg_id,
            LegEventKind.INCOMING,
            remote_uri=bare_uri(str(info.remoteUri)),
            local_uri=leg.request_uri or bare_uri(str(info.localUri)),
        )
        self._emit(event)

    def on_reg_state(self, registered: bool, code: int, reason: str) -> None:
        """Track the trunk registration."""
        if registered != self.registered:
            _LOGGER.info("trunk registration %s (%s %s)", "up" if registered else "down", code, reason)
        self.registered = registered
        self.registration_status = (code, reason)

    # ----- internals -----

    def reap(self) -> None:
        """Release legs that ended, and parked Call objects whose slot is idle again."""
        released = bool(self._ended)
        while self._ended:
            self._release(self._ended.pop())
        if released and self._retired:
            self._drop_idle_retired()
        self._parked = [call for call in self._parked if _slot_held(call)]

    def _release(self, leg: Leg) -> None:
        self.media.release(leg)
        if self.rtp_filter is not None:
            self.rtp_filter.forget(leg.leg_id)
        self.registry.remove(leg)
        # Dropping a pj.Call hangs up whatever call holds its slot id at that moment. One poll can carry both a
        # call's BYE and the next INVITE, which PJSUA gives the slot just freed: dropping the old object now would
        # answer that new caller "603 Decline" (seen in the navigation benchmark when a company's next call came
        # in right after the last one ended). Such an object waits until its slot is idle; so does one whose own
        # INVITE PJSUA still runs (hung up before any response), which also tells how many slots are taken.
        if _slot_held(leg.call):
            self._parked.append(leg.call)

    def _hang_up_all(self) -> None:
        for leg in self.registry.legs():
            self._hangup_quietly(leg)

    def _release_all(self) -> None:
        for leg in self.registry.legs():
            self._release(leg)
        self._parked.clear()  # every call has been hung up and pumped: no slot is in use any more
        self.media.close()
        # Let the media clock thread carry out the queued port removals before the ports are freed.
        time.sleep(0.1)
        self.media.purge(force=True)

    def _active_count(self) -> int:
        return sum(1 for leg in self.registry.legs() if not leg.ended)

    def _slots_in_use(self) -> int:
        """PJSUA call slots taken: live legs, and ended ones whose INVITE transaction PJSUA still runs.

        A call hung up before any response (an unreachable target) is DISCONNECTED at once, but PJSUA keeps its
        slot until the INVITE gets a provisional response (then CANCEL) or times out.
        """
        calls = [leg.call for leg in self.registry.legs() if not leg.ended or _slot_held(leg.call)]
        calls += self._parked
        return len({_slot_id(call) for call in calls} - {-1})

    def _leg(self, leg_id: str) -> Leg:
        leg = self.registry.get(leg_id)
        if leg is None:
            raise SipError(f"unknown or finished leg {leg_id}")
        return leg

    def _live_leg(self, leg_id: str) -> Leg:
        leg = self._leg(leg_id)
        if leg.ended:
            raise SipError(f"leg {leg_id} has ended")
        return leg

    def _hangup_quietly(self, leg: Leg, status_code: int = 0) -> None:
        prm = pj.CallOpParam(True)
        if status_code:
            prm.statusCode = status_code
        try:
            leg.call.hangup(prm)
        except pj.Error as err:
            _LOGGER.debug("hangup of %s: %s", leg.leg_id, err.reason)

    def _make_local_account(self) -> SipAccount:
        cfg = pj.AccountConfig()
        host = self.settings.public_host or self.settings.bind_host
        cfg.idUri = f"sip:holdslayer@{host}:{self.local_port}"
        cfg.mediaConfig.transportConfig = rtp_config(self.settings)
        account = SipAccount(self.registry, self, trunk=False)
        account.create(cfg, True)
        return account

    def _make_trunk_account(self) -> SipAccount:
        settings = self.settings
        cfg = pj.AccountConfig()
        cfg.idUri = f"sip:{settings.username}@{settings.trunk_domain}"
        if settings.register:  # without a registrar URI PJSUA sends no REGISTER but still authenticates INVITEs
            cfg.regConfig.registrarUri = settings.registrar
        cfg.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", settings.realm, settings.username or "", 0, settings.password or "")
        )
        if settings.outbound_proxy:
            cfg.sipConfig.proxies.append(settings.outbound_proxy)
        cfg.mediaConfig.transportConfig = rtp_config(settings)
        account = SipAccount(self.registry, self, trunk=True)
        account.create(cfg)
        return account


def _slot_id(call: SipCall) -> int:
    """Return the PJSUA slot id of a Call object (-1 when it has none)."""
    try:
        return int(call.getId())
    except pj.Error:
        return -1


def _slot_held(call: SipCall) -> bool:
    """Tell whether anything holds this Call object's PJSUA slot id now: a call, or an INVITE still ending.

    ``isActive`` turns false at DISCONNECTED, yet a call hung up before any response keeps its INVITE session
    (and slot) until a provisional response allows the CANCEL or timer B fires; ``getInfo`` works until the
    slot is really free.
    """
    try:
        call.getInfo()
    except pj.Error:
        return False
    return True

"""PJSUA2 Call/Account subclasses and the one registry that owns every Call object.

Why one registry: deleting a ``pj.Call`` hangs up whatever call currently holds its slot id, and PJSUA
reuses its 4 slot ids. So Call objects are only ever dropped here, on the PJSUA2 thread, right after
their call ended and while the slot is still idle.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Protocol

import pjsua2 as pj

from .errors import log_exception
from .media import PlayerPort, TapPort

_LOGGER = logging.getLogger(__name__)


def request_uri(message: str) -> str:
    """Return the Request-URI of a SIP request's start line (RFC 3261 s7.1), or "" if it has none."""
    parts = message.split("\r\n", 1)[0].split("\n", 1)[0].split(" ")
    return parts[1] if len(parts) == 3 and parts[2].startswith("SIP/") else ""


# 603 Decline (RFC 3261 s21.6.2): a final answer that tells the sender not to try elsewhere.
REFUSED_STATUS = 603


def _loggable(uri: str) -> str:
    """Return a URI safe to log: a remote party chose it, so no line breaks and a bounded length."""
    return uri.replace("\r", " ").replace("\n", " ")[:200]


class CallObserver(Protocol):
    """Receives PJSUA2 callbacks (on the PJSUA2 thread), already mapped to leg ids."""

    def on_state(self, leg: Leg) -> None:
        """Handle an INVITE session state change."""
        ...

    def on_media(self, leg: Leg) -> None:
        """Handle new or re-negotiated media (reconnect every port)."""
        ...

    def on_digit(self, leg: Leg, digit: str) -> None:
        """Handle a received DTMF digit (RFC 2833 or SIP INFO)."""
        ...

    def on_incoming(self, leg: Leg) -> None:
        """Handle a new inbound call, already registered as ``leg``."""
        ...

    def on_reg_state(self, registered: bool, code: int, reason: str) -> None:
        """Handle a trunk registration change."""
        ...


class SipCall(pj.Call):  # type: ignore[misc]
    """A call that forwards its callbacks to the observer; every callback is exception-safe."""

    def __init__(self, account: pj.Account, observer: CallObserver, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.observer = observer
        self.leg: Leg | None = None

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # PJSUA2 callback name
        """Forward the state change."""
        try:
            if self.leg is not None:
                self.observer.on_state(self.leg)
        except Exception:  # callback boundary: log, keep the call
            log_exception(_LOGGER, "onCallState failed")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        """Forward the media change."""
        try:
            if self.leg is not None:
                self.observer.on_media(self.leg)
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onCallMediaState failed")

    # Nothing a remote party sends may make this endpoint place a call: across the PSTN a company
    # transfers on its own side, so a REFER (RFC 3515), an INVITE with Replaces (RFC 3891) or a 3xx
    # redirect that reaches us is an attack or a misconfiguration. PJSUA's defaults would dial the
    # Refer-To target through the user's trunk, answer the Replaces itself, or follow the redirect.

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        """Refuse a REFER with 603 Decline; the Refer-To target is never dialled."""
        try:
            prm.statusCode = REFUSED_STATUS
            _LOGGER.warning("refused a REFER to %s on %s", _loggable(str(prm.dstUri)), self._leg_id())
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onCallTransferRequest failed")

    def onCallReplaceRequest(self, prm: pj.OnCallReplaceRequestParam) -> None:
        """Refuse an INVITE that wants to replace this call (603); this call goes on."""
        try:
            prm.statusCode = REFUSED_STATUS
            prm.reason = "Decline"
            _LOGGER.warning("refused an INVITE with Replaces aimed at %s", self._leg_id())
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onCallReplaceRequest failed")

    def onCallRedirected(self, prm: pj.OnCallRedirectedParam) -> int:
        """Never follow a 3xx: the call ends with the redirect's status instead of dialling its Contact."""
        try:
            _LOGGER.warning("not following a redirect to %s on %s", _loggable(str(prm.targetUri)), self._leg_id())
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onCallRedirected failed")
        return int(pj.PJSIP_REDIRECT_STOP)

    def _leg_id(self) -> str:
        return self.leg.leg_id if self.leg is not None else "an unregistered call"

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        """Forward a received digit once (PJSUA calls this at the end of each RFC 2833 event or per INFO)."""
        try:
            if self.leg is not None:
                self.observer.on_digit(self.leg, str(prm.digit))
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onDtmfDigit failed")


class SipAccount(pj.Account):  # type: ignore[misc]
    """An account that turns inbound INVITEs into registered legs and reports registration state."""

    def __init__(self, registry: CallRegistry, observer: CallObserver, *, trunk: bool) -> None:
        super().__init__()
        self.registry = registry
        self.observer = observer
        self.trunk = trunk
        self.retired = False  # replaced by a newer trunk account: its registration answers are no longer news

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        """Register the new call before anything else can touch it, then tell the observer."""
        try:
            call = SipCall(self, self.observer, prm.callId)
            leg = self.registry.add(call, self, outbound=False)
            leg.request_uri = request_uri(str(prm.rdata.wholeMsg))
            self.observer.on_incoming(leg)
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onIncomingCall failed")

    def onIncomingSubscribe(self, prm: pj.OnIncomingSubscribeParam) -> None:
        """Refuse presence subscriptions (PJSUA would accept them with 200): we publish nothing."""
        try:
            prm.code = 403
            prm.reason = "Forbidden"
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onIncomingSubscribe failed")

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        """Report the trunk registration state."""
        try:
            if self.retired:
                return
            info = self.getInfo()
            self.observer.on_reg_state(bool(info.regIsActive), int(prm.code), str(prm.reason))
        except Exception:  # callback boundary
            log_exception(_LOGGER, "onRegState failed")


@dataclass(eq=False)
class Leg:
    """Everything the engine keeps for one call leg (owned by the PJSUA2 thread)."""

    leg_id: str
    call: SipCall
    account: SipAccount
    outbound: bool
    tap: TapPort | None = None
    player: PlayerPort | None = None
    recorders: list[pj.AudioMediaRecorder] = field(default_factory=list)
    bridged: set[str] = field(default_factory=set)
    request_uri: str = ""  # inbound only: the Request-URI, i.e. the address that was called
    rang: bool = False
    answered: bool = False
    ended: bool = False


class CallRegistry:
    """leg id -> Leg, created and emptied only on the PJSUA2 thread."""

    def __init__(self) -> None:
        self._legs: dict[str, Leg] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._legs)

    def add(self, call: SipCall, account: SipAccount, *, outbound: bool) -> Leg:
        """Own ``call`` under a new leg id."""
        leg = Leg(leg_id=f"leg-{next(self._ids)}", call=call, account=account, outbound=outbound)
        call.leg = leg
        self._legs[leg.leg_id] = leg
        return leg

    def get(self, leg_id: str) -> Leg | None:
        """Return the leg with this id, if any."""
        return self._legs.get(leg_id)

    def legs(self) -> list[Leg]:
        """Return a snapshot of every owned leg."""
        return list(self._legs.values())

    def remove(self, leg: Leg) -> None:
        """Forget the leg; the caller has already released its media ports."""
        self._legs.pop(leg.leg_id, None)
        leg.call.leg = None

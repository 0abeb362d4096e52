"""Released media ports outlive the conference bridge's asynchronous removal (pjproject >= 2.14)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest
from hold_slayer_sidecar.sip import wiring
from hold_slayer_sidecar.sip.calls import CallRegistry, Leg


class _Port:
    """Stands in for a TapPort/PlayerPort: only its lifetime matters here."""

    def stop(self) -> None:
        pass


class _Tap(_Port):
    def __init__(self) -> None:
        self.bound: list[object] = []

    def rebind(self, deliver: object) -> None:
        self.bound.append(deliver)


class _Call:
    def isActive(self) -> bool:
        return False  # not up yet: wire() leaves it to on_media


def _leg_with_ports() -> tuple[Leg, weakref.ref[_Tap], weakref.ref[_Port]]:
    leg = Leg(leg_id="leg-1", call=None, account=None, outbound=True)  # type: ignore[arg-type]
    tap, player = _Tap(), _Port()
    leg.tap, leg.player = tap, player  # type: ignore[assignment]
    return leg, weakref.ref(tap), weakref.ref(player)


def _graph(monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> wiring.MediaGraph:
    monkeypatch.setattr(wiring.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(wiring, "TapPort", _Tap)  # isinstance() and reuse see the stand-in
    return wiring.MediaGraph(CallRegistry(), asyncio.new_event_loop(), 8000, lambda leg_id, frame: None)


def test_released_ports_are_never_freed_while_the_endpoint_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    graph = _graph(monkeypatch, clock)
    leg, tap, player = _leg_with_ports()

    graph.release(leg)
    del leg
    gc.collect()
    # The bridge may still call the port on its next clock tick: freeing it now would crash the media thread.
    assert tap() is not None and player() is not None
    assert tap().bound == [None]  # type: ignore[union-attr]  # silent until reused

    clock[0] += wiring.PORT_GRACE_S * 10
    graph.purge()
    gc.collect()
    assert tap() is not None and player() is not None  # kept for the next leg, not destroyed


def test_a_new_leg_reuses_an_idle_port_once_its_grace_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    graph = _graph(monkeypatch, clock)
    old = Leg(leg_id="leg-1", call=_Call(), account=None, outbound=True)  # type: ignore[arg-type]
    port = _Tap()
    old.tap = port  # type: ignore[assignment]
    graph.release(old)

    early = Leg(leg_id="leg-2", call=_Call(), account=None, outbound=True)  # type: ignore[arg-type]
    graph.purge()
    assert not graph._idle_taps

    clock[0] += wiring.PORT_GRACE_S
    graph.purge()
    graph.add_tap(early)
    assert early.tap is port  # type: ignore[comparison-overlap]
    assert len(port.bound) == 2 and port.bound[-1] is not None  # bound to the new leg's delivery


def test_forced_purge_at_shutdown_drops_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    graph = _graph(monkeypatch, clock)
    leg, tap, player = _leg_with_ports()
    graph.release(leg)
    del leg
    clock[0] += wiring.PORT_GRACE_S
    graph.purge()  # idle now
    graph.purge(force=True)  # libDestroy comes next: nothing may outlive it
    gc.collect()
    assert tap() is None and player() is None

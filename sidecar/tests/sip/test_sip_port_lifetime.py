"""Released media ports outlive the conference bridge's asynchronous removal (pjproject >= 2.14)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from hold_slayer_sidecar.sip import wiring
from hold_slayer_sidecar.sip.calls import CallRegistry, Leg


class _Port:
    """Stands in for a TapPort/PlayerPort: only its lifetime matters here."""

    def stop(self) -> None:
        pass


def _leg_with_ports() -> tuple[Leg, weakref.ref[Any], weakref.ref[Any]]:
    leg = Leg(leg_id="leg-1", call=None, account=None, outbound=True)  # type: ignore[arg-type]
    tap, player = _Port(), _Port()
    leg.tap, leg.player = tap, player  # type: ignore[assignment]
    return leg, weakref.ref(tap), weakref.ref(player)


def test_released_ports_stay_alive_until_the_grace_period_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(wiring.time, "monotonic", lambda: clock[0])
    graph = wiring.MediaGraph(CallRegistry(), asyncio.new_event_loop(), 8000, lambda leg_id, frame: None)
    leg, tap, player = _leg_with_ports()

    graph.release(leg)
    del leg
    gc.collect()
    # The bridge may still call the port on its next clock tick: freeing it now would crash the media thread.
    assert tap() is not None and player() is not None

    clock[0] += wiring.PORT_GRACE_S / 2
    graph.purge()
    gc.collect()
    assert tap() is not None

    clock[0] += wiring.PORT_GRACE_S
    graph.purge()
    gc.collect()
    assert tap() is None and player() is None


def test_forced_purge_at_shutdown_drops_everything() -> None:
    graph = wiring.MediaGraph(CallRegistry(), asyncio.new_event_loop(), 8000, lambda leg_id, frame: None)
    leg, tap, _ = _leg_with_ports()
    graph.release(leg)
    del leg
    graph.purge(force=True)
    gc.collect()
    assert tap() is None

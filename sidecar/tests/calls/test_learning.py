"""An explored call that reached a person becomes a stored flow; the next call to that number follows it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from conftest import Rig, settle
from hold_slayer_sidecar.audio.types import Observation, ObservationKind
from hold_slayer_sidecar.calls.learning import learned_flow, merged_flows
from hold_slayer_sidecar.calls.session import CallSession
from hold_slayer_sidecar.nav.api import MenuOption, NavAction, NavDecision
from hold_slayer_sidecar.nav.flows import FlowStepKind
from hold_slayer_sidecar.nav.navigator import NavRecord


@dataclass
class TracingNavigator:
    trace: list[NavRecord] = field(default_factory=list)

    async def decide(
        self, prompt: str, intent: str, *, history: list[str], behind_s: float = 0.0, earlier: Sequence[str] = ()
    ) -> NavDecision:
        return NavDecision(NavAction.WAIT)


def explored(human: bool = True) -> CallSession:
    return CallSession(
        call_id="c1", target="sip:bank@h", transfer_to="sip:me@h", started_at=0.0, company="bank",
        intent="lost card", human_detected_at=50.0 if human else None,
    )  # fmt: skip


MENU = NavRecord(
    "Press 1 for cards. Press 2 for loans.",
    (MenuOption("1", "cards"), MenuOption("2", "loans")),
    NavDecision(NavAction.DTMF, digits="1"),
)


def test_learned_flow_listens_then_holds() -> None:
    flow = learned_flow(explored(), TracingNavigator([MENU]))
    assert flow is not None and flow.learned
    assert [s.kind for s in flow.steps] == [FlowStepKind.LISTEN, FlowStepKind.HOLD]
    assert flow.steps[0].choice == "1" and flow.number == "sip:bank@h"
    assert learned_flow(explored(human=False), TracingNavigator([MENU])) is None
    assert learned_flow(replace(explored(), flow=flow), TracingNavigator([MENU])) is None
    assert merged_flows([], flow) == [flow]
    assert merged_flows([flow], flow) != []  # a second success counts the calls


async def test_manager_keeps_what_an_explored_call_learned(rig: Rig) -> None:
    navigator = TracingNavigator([MENU])
    rig.manager._engines = replace(rig.manager._engines, navigator_factory=lambda flow: navigator)
    info = await rig.manager.place_call("sip:bank@h", company="bank", intent="lost card")
    await settle()
    leg = rig.sip.dialed[0][0]
    await rig.observe(
        leg, Observation(ObservationKind.HOLD_STARTED, 1.0), Observation(ObservationKind.HUMAN_DETECTED, 2.0)
    )
    await rig.manager.hang_up(info["call_id"])
    for _ in range(100):  # the store works in a thread: wait for the learned flow to land
        flows = await rig.manager.list_flows()
        if flows:
            break
        await asyncio.sleep(0.02)
    assert [f.intent for f in flows] == ["lost card"]
    assert "call_flow_saved" in rig.names()

"""Learning call flows from explored calls, merging them per number, and reusing them next time."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.nav.api import MenuOption, NavAction, NavDecision, NavSource
from hold_slayer_sidecar.nav.embedder import MiniLmEmbedder
from hold_slayer_sidecar.nav.flows import CallFlow, FlowStep, FlowStepKind
from hold_slayer_sidecar.nav.learner import build_flow, effective_records, merge_flow, select_flow
from hold_slayer_sidecar.nav.matcher import MenuMatcher
from hold_slayer_sidecar.nav.navigator import MenuNavigator, NavRecord

MAIN = "Press 1 for credit and debit cards. Press 2 for checking and savings. Press 9 to hear these options again."
CARDS = "Press 1 to report a lost or stolen card. Press 2 to dispute a charge."
ACCOUNTS = "Press 1 for your balance. Press 2 to open a new account."
NUMBER = "sip:first_city_bank@127.0.0.1"


@pytest.fixture(scope="module")
def matcher() -> MenuMatcher:
    return MenuMatcher(MiniLmEmbedder.shared())


async def explore(matcher: MenuMatcher, intent: str, prompts: list[str], flow: CallFlow | None = None) -> MenuNavigator:
    nav = MenuNavigator(matcher).for_call(flow)
    history: list[str] = []
    for prompt in prompts:
        decision = await nav.decide(prompt, intent, history=history)
        if decision.action is NavAction.WAIT:  # the call asks again once the company goes quiet
            decision = await nav.decide(prompt, intent, history=history)
        if decision.action is not NavAction.WAIT:
            history.append(prompt)
    return nav


async def test_build_flow_from_an_explored_call(matcher: MenuMatcher) -> None:
    nav = await explore(matcher, "I lost my debit card", ["Thank you for calling.", MAIN, CARDS])
    flow = build_flow(nav.trace, intent="I lost my debit card", department="lost_cards", number=NUMBER)
    assert flow is not None
    assert [s.kind for s in flow.steps] == [FlowStepKind.LISTEN, FlowStepKind.LISTEN, FlowStepKind.HOLD]
    assert [s.choice for s in flow.steps[:2]] == ["1", "1"]
    assert flow.steps[0].options["2"] == "checking and savings"
    assert flow.learned and flow.department == "lost_cards"
    assert CallFlow.model_validate_json(flow.model_dump_json()) == flow  # storable as JSON


def test_no_flow_without_an_outcome() -> None:
    assert build_flow([], intent="x", department=None, human_answered=False) is None
    direct = build_flow([], intent="x", human_answered=True, number=NUMBER)
    assert direct is not None
    assert [s.kind for s in direct.steps] == [FlowStepKind.TRANSFER]


def test_a_try_the_menu_did_not_accept_is_dropped() -> None:
    options = (MenuOption("1", "cards"), MenuOption("2", "accounts"))
    wrong = NavRecord(MAIN, options, NavDecision(NavAction.DTMF, digits="1"))
    right = NavRecord("Sorry. " + MAIN, options, NavDecision(NavAction.DTMF, digits="2"))
    assert effective_records([wrong, right]) == [right]


async def test_next_call_uses_the_flow_without_deciding(matcher: MenuMatcher) -> None:
    first = await explore(matcher, "I lost my debit card", [MAIN, CARDS])
    flow = build_flow(first.trace, intent="I lost my debit card", department="lost_cards", number=NUMBER)
    assert flow is not None
    second = await explore(matcher, "I lost my debit card", [MAIN, CARDS], flow)
    assert [r.decision.source for r in second.trace] == [NavSource.FLOW, NavSource.FLOW]
    assert not second.menu_changed


async def test_changed_menu_is_noticed_and_relearned(matcher: MenuMatcher) -> None:
    first = await explore(matcher, "I lost my debit card", [MAIN, CARDS])
    flow = build_flow(first.trace, intent="I lost my debit card", department="lost_cards", number=NUMBER)
    assert flow is not None
    changed = "Press 1 for checking and savings. Press 2 for mortgages. Press 3 for credit and debit cards."
    second = await explore(matcher, "I lost my debit card", [changed, CARDS], flow)
    assert second.menu_changed
    assert second.trace[0].decision.digits == "3"
    relearned = build_flow(second.trace, intent="I lost my debit card", department="lost_cards", number=NUMBER)
    assert relearned is not None
    merged = merge_flow([flow], relearned)
    assert len(merged) == 1
    assert merged[0].steps[0].choice == "3"
    assert merged[0].calls == 1  # a new path starts counting again


async def test_merge_adds_branches_and_refreshes_shared_menus(matcher: MenuMatcher) -> None:
    lost = build_flow(
        (await explore(matcher, "I lost my debit card", [MAIN, CARDS])).trace,
        intent="I lost my debit card",
        department="lost_cards",
        number=NUMBER,
    )
    savings = build_flow(
        (await explore(matcher, "I want to open a new savings account", [MAIN, ACCOUNTS])).trace,
        intent="I want to open a new savings account",
        department="new_accounts",
        number=NUMBER,
    )
    assert lost is not None and savings is not None
    flows = merge_flow(merge_flow([], lost), savings)
    assert [f.department for f in flows] == ["lost_cards", "new_accounts"]
    again = merge_flow(flows, lost)
    assert next(f for f in again if f.department == "lost_cards").calls == 2
    # The bank renumbers its main menu; a call for accounts learns it, the cards flow follows by label.
    renumbered = (
        "Press 1 for checking and savings. Press 2 for credit and debit cards. Press 9 to hear these options again."
    )
    accounts_again = build_flow(
        (await explore(matcher, "I want to open a new savings account", [renumbered, ACCOUNTS])).trace,
        intent="I want to open a new savings account",
        department="new_accounts",
        number=NUMBER,
    )
    assert accounts_again is not None
    refreshed = merge_flow(again, accounts_again)
    cards_flow = next(f for f in refreshed if f.department == "lost_cards")
    assert cards_flow.steps[0].choice == "2"
    assert cards_flow.steps[0].options["2"] == "credit and debit cards"


def test_select_flow_by_department_intent_or_similar_intent() -> None:
    flow = CallFlow(
        id="bank-lost",
        name="bank: lost cards",
        number=NUMBER,
        intent="I lost my debit card",
        department="lost_cards",
        steps=[FlowStep(kind=FlowStepKind.HOLD)],
    )
    embedder = MiniLmEmbedder.shared()
    assert select_flow([flow], number=NUMBER, intent="anything", department="lost_cards") == flow
    assert select_flow([flow], number=NUMBER, intent="I lost my debit card") == flow
    assert select_flow([flow], number=NUMBER, intent="I have lost my debit card", embedder=embedder) == flow
    assert select_flow([flow], number=NUMBER, intent="I want a mortgage", embedder=embedder) is None
    assert select_flow([flow], number="sip:other@127.0.0.1", intent="I lost my debit card") is None

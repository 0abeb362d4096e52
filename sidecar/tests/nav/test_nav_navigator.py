"""Decision order (flow -> embedded -> LLM -> fallback), recovery from repeated menus, dead LLMs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hold_slayer_sidecar.nav.api import MenuOption, NavAction, NavSource
from hold_slayer_sidecar.nav.embedder import MiniLmEmbedder
from hold_slayer_sidecar.nav.flows import CallFlow, FlowStep, FlowStepKind
from hold_slayer_sidecar.nav.matcher import MenuMatcher
from hold_slayer_sidecar.nav.navigator import (
    MenuNavigator,
    fallthrough_place,
    menu_sounds_complete,
    replays_menu,
    with_earlier_hearings,
)
from hold_slayer_sidecar.voice.api import VoiceEngineError
from hold_slayer_sidecar.voice.llm import OpenAiChat

MAIN = (
    "Press 1 for credit and debit cards. Press 2 for checking and savings accounts. "
    "Press 3 for mortgages and loans. Press 9 to hear these options again."
)
VAGUE = "Press 1 for option one. Press 2 for option two. Press 0 for an operator."


@pytest.fixture(scope="module")
def matcher() -> MenuMatcher:
    return MenuMatcher(MiniLmEmbedder.shared())


class FakeLlm:
    """A ChatModel that answers from a script (or raises)."""

    def __init__(self, answer: dict[str, Any] | Exception | None = None, delay_s: float = 0.0) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.calls = 0

    async def complete_json(self, system: str, user: str) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer or {}

    async def health(self) -> str:
        return "ok"


def flow_for(choice: str, options: dict[str, str], expect: str = MAIN) -> CallFlow:
    return CallFlow(
        id="bank-cards",
        name="bank: cards",
        steps=[
            FlowStep(kind=FlowStepKind.LISTEN, expect=expect, options=options, choice=choice),
            FlowStep(kind=FlowStepKind.HOLD),
        ],
    )


MAIN_OPTIONS = {
    "1": "credit and debit cards",
    "2": "checking and savings accounts",
    "3": "mortgages and loans",
    "9": "hear these options again",
}


async def test_stored_flow_comes_first(matcher: MenuMatcher) -> None:
    llm = FakeLlm({"action": "dtmf", "digits": "3"})
    nav = MenuNavigator(matcher, llm=llm).for_call(flow_for("2", MAIN_OPTIONS))
    decision = await nav.decide(MAIN, "I lost my debit card", history=[])
    assert (decision.action, decision.digits, decision.source) == (NavAction.DTMF, "2", NavSource.FLOW)
    assert llm.calls == 0
    assert [r.decision for r in nav.trace] == [decision]


async def test_changed_menu_is_decided_afresh(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call(flow_for("2", MAIN_OPTIONS))
    renumbered = (
        "Press 1 for mortgages. Press 2 for travel insurance. Press 3 for credit and debit cards. Press 0 for an agent."
    )
    decision = await nav.decide(renumbered, "I lost my debit card", history=[])
    assert nav.menu_changed
    assert (decision.digits, decision.source) == ("3", NavSource.EMBEDDED)


async def test_flow_waits_through_a_greeting(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call(flow_for("2", MAIN_OPTIONS))
    decision = await nav.decide("Thank you for calling First City Bank.", "cards", history=[])
    assert (decision.action, decision.source) == (NavAction.WAIT, NavSource.FLOW)
    assert not nav.menu_changed


async def test_embedded_before_llm_when_confident(matcher: MenuMatcher) -> None:
    llm = FakeLlm({"action": "dtmf", "digits": "3"})
    decision = await MenuNavigator(matcher, llm=llm).decide(MAIN, "I lost my debit card", history=[])
    assert (decision.digits, decision.source) == ("1", NavSource.EMBEDDED)
    assert llm.calls == 0


async def test_llm_decides_when_embedded_is_unsure(matcher: MenuMatcher) -> None:
    llm = FakeLlm({"action": "dtmf", "digits": "2", "confidence": 0.9})
    decision = await MenuNavigator(matcher, llm=llm).decide(VAGUE, "my pension statement", history=[])
    assert (decision.digits, decision.source) == ("2", NavSource.LLM)
    assert llm.calls == 1


@pytest.mark.parametrize(
    "llm",
    [
        FakeLlm(VoiceEngineError("HTTP 500")),
        FakeLlm({"action": "dtmf", "digits": "2"}, delay_s=5.0),
        FakeLlm({"action": "dance"}),
        FakeLlm({"action": "dtmf", "digits": "7"}),  # a key the menu never offered
        FakeLlm(RuntimeError("bug in the client")),
    ],
    ids=["error", "slow", "nonsense", "unoffered-key", "crash"],
)
async def test_bad_llm_falls_back_to_person_option(matcher: MenuMatcher, llm: FakeLlm) -> None:
    nav = MenuNavigator(matcher, llm=llm, llm_timeout_s=0.2)
    decision = await nav.decide(f"{VAGUE} {VAGUE}", "my pension statement", history=[])  # heard twice
    assert decision.action is NavAction.DTMF
    assert decision.digits == "0"  # unsure: the option that reaches a person
    assert decision.source in (NavSource.EMBEDDED, NavSource.FALLBACK)


async def test_no_embedded_and_no_llm_waits() -> None:
    decision = await MenuNavigator(None, embedded=False).decide(MAIN, "cards", history=[])
    assert decision.action is NavAction.WAIT


async def test_say_the_reason_is_answered_by_speaking_the_intent(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher)
    prompt = "Please tell me, in a few words, the reason for your call. Or press zero for an operator."
    decision = await nav.decide(prompt, "My car was stolen last night", history=[])
    assert (decision.action, decision.text) == (NavAction.SPEAK, "My car was stolen last night")
    # Asked again: the speech was not understood, so go for the operator.
    again = await nav.decide(prompt, "My car was stolen last night", history=[prompt])
    assert (again.action, again.digits) == (NavAction.DTMF, "0")


async def test_say_or_choose_waits_for_the_options(matcher: MenuMatcher) -> None:
    prompt = "In a few words, tell me what you're calling about, or choose from the following."
    decision = await MenuNavigator(matcher).decide(prompt, "my bill", history=[])
    assert decision.action is NavAction.WAIT


async def test_repeated_menu_tries_the_next_option_then_a_person(matcher: MenuMatcher) -> None:
    menu = MAIN + " For anything else, press 0."
    nav = MenuNavigator(matcher)
    first = await nav.decide(menu, "I lost my debit card", history=[])
    second = await nav.decide("Sorry, that is not a valid option. " + menu, "I lost my debit card", history=[menu])
    assert first.digits == "1"
    assert second.digits not in ("1", "9")
    third = await nav.decide(menu, "I lost my debit card", history=[menu, menu, menu])
    assert (third.digits, third.source) == ("0", NavSource.FALLBACK)


async def test_partial_menu_waits_unless_sure(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher)
    partial = "Press 1 for credit and debit cards."
    assert (await nav.decide(partial, "Someone is using my account, it's fraud", history=[])).action is NavAction.WAIT
    replayed = MAIN + " Press 1 for credit and debit cards."
    assert (await nav.decide(replayed, "my mortgage", history=[])).digits == "3"


async def test_greeting_and_data_requests_wait(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher)
    greeting = await nav.decide("Thank you for calling. Calls may be recorded.", "cards", history=[])
    data = await nav.decide("Please enter your account number followed by pound.", "cards", history=[])
    assert greeting.action is NavAction.WAIT
    assert (data.action, data.reason) == (NavAction.WAIT, "asks for data we do not have")


@pytest.fixture
async def llm_server(unused_tcp_port: int) -> AsyncIterator[str]:
    """An OpenAI-compatible server that fails in the way the path says."""
    release = asyncio.Event()

    async def fail(request: web.Request) -> web.StreamResponse:
        mode = request.match_info["mode"]
        if mode == "500":
            return web.Response(status=500, text="boom")
        if mode == "hang":
            await asyncio.wait_for(release.wait(), 30)
        if mode == "garbage":
            return web.json_response({"choices": [{"message": {"content": "I think you should press a key!"}}]})
        return web.Response(text="<html>not json</html>")

    app = web.Application()
    app.router.add_post("/{mode}/v1/chat/completions", fail)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", unused_tcp_port)
    await site.start()
    yield f"http://127.0.0.1:{unused_tcp_port}"
    release.set()
    await runner.cleanup()


@pytest.mark.parametrize("mode", ["500", "hang", "garbage", "html"])
async def test_dead_llm_server_gives_fallbacks_not_exceptions(matcher: MenuMatcher, llm_server: str, mode: str) -> None:
    llm = OpenAiChat(f"{llm_server}/{mode}", model="m", timeout_s=0.5, retries=1, backoff_s=0.01)
    with pytest.raises(VoiceEngineError):
        await llm.complete_json("system", "user")
    nav = MenuNavigator(matcher, llm=llm)
    decision = await nav.decide(f"{VAGUE} {VAGUE}", "my pension statement", history=[])
    assert (decision.action, decision.digits) == (NavAction.DTMF, "0")
    assert llm.stats.errors >= 2


async def test_unreachable_llm_is_a_fallback(matcher: MenuMatcher, unused_tcp_port: int) -> None:
    llm = OpenAiChat(f"http://127.0.0.1:{unused_tcp_port}", model="m", timeout_s=0.5, retries=0)
    assert (await llm.health()).startswith("LLM unreachable")
    decision = await MenuNavigator(matcher, llm=llm).decide(f"{VAGUE} {VAGUE}", "my pension statement", history=[])
    assert decision.digits == "0"


@pytest.mark.parametrize(
    ("prompt", "complete"),
    [
        ("If your flight is within the next 24 hours, press 1. For all other changes or cancellations.", False),
        ("Press 1 for billing. For all other questions, press 0.", True),
        ("Press 1 for billing. Press 9 to hear these options again.", True),
        ("Press 1 for billing. Or stay on the line for an agent.", True),
        ("Press 1 for billing. Press 2 for claims.", False),
        ("Press 1 for billing. Press 2 for claims. Press 1 for billing.", True),
        ("Press 3 for more again and long.", False),  # "again" in a garbled label is no closing phrase
        ("Change or cancel a flight. Press 1. Press 1. Seat selection and special assistance.", False),
        # A garbled greeting read as keys: a new key after the "repeat" means the menu is still going.
        ("I need press 2. Press 3. Fill the prescription. Press 1. Order status. Press 2. Transfers. Press 4.", False),
        ("Billing. Press 1. Claims. Press 2. Billing. Press 1.", True),
        # A greeting's notice of the one key that works throughout: the menu is still to come.
        ("Brackenridge Power. To speak with an operator, press 0 at any time.", False),
        ("Press 1 for billing. For anything else, press 0 at any time.", True),
    ],
)
def test_menu_sounds_complete(prompt: str, complete: bool) -> None:
    assert menu_sounds_complete(prompt) is complete


async def test_the_same_prompt_asked_again_means_the_menu_ended(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher, early_confidence=0.99).for_call()  # never sure before the menu ends
    prompt = "Press 1 for checking accounts. Press 2 for savings accounts."  # no closing phrase
    intent = "I want to move money into my savings account"
    first = await nav.decide(prompt, intent, history=[])
    assert first.action is NavAction.WAIT  # the menu may continue
    again = await nav.decide(prompt, intent, history=[])  # the company went quiet
    assert again.action is NavAction.DTMF and again.digits == "2"


async def test_a_shared_navigator_never_treats_a_repeat_as_settled(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher)  # shared between calls: asking twice may be two calls
    prompt = "Press 1 for checking accounts. Press 2 for savings accounts."
    for _ in range(2):
        assert (await nav.decide(prompt, "I lost my credit card", history=[])).action is NavAction.WAIT


async def test_an_unsure_guess_waits_for_the_menu_to_be_replayed(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher)
    once = "Press 1 for garden gnomes. Press 2 for paint colours. Press 9 to hear these options again."
    intent = "my pension statement"
    first = await nav.decide(once, intent, history=[])
    assert first.action is NavAction.WAIT and "replayed" in first.reason
    twice = await nav.decide(f"{once} {once}", intent, history=[])
    # Heard twice and still nothing fits: pressing would lead away from every department the reason could
    # mean; the company's own fallthrough (a general queue) is the better place.
    assert twice.action is NavAction.WAIT and "fallthrough" in twice.reason


async def test_a_per_call_navigator_decides_once_the_replay_offered_every_key(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    once = "Press 1 for checking accounts. Press 2 for savings accounts."
    intent = "I want to move money between my accounts"  # both fit about as well: a close call
    assert (await nav.decide(f"{once} Press 1 for checking accounts.", intent, history=[])).action is NavAction.WAIT
    assert (await nav.decide(f"{once} {once}", intent, history=[])).action is NavAction.DTMF


async def test_a_sure_match_still_waits_for_the_rest_of_the_menu(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    intent = "I want a refund for my cancelled flight"
    partial = "To change or cancel a flight, press 1. For seat selection and special assistance, press 2."
    assert (await nav.decide(partial, intent, history=[])).action is NavAction.WAIT
    whole = f"{partial} For refunds and travel credits, press 3."
    assert (await nav.decide(whole, intent, history=[])).action is NavAction.WAIT  # no closing phrase yet
    settled = await nav.decide(whole, intent, history=[])  # the company went quiet: the menu has ended
    assert (settled.action, settled.digits) == (NavAction.DTMF, "3")


async def test_early_presses_can_be_turned_on(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher, early_confidence=0.5).for_call()
    partial = "Press 1 for garden gnomes. Press 2 to report a power outage."
    decision = await nav.decide(partial, "My power is out", history=[])
    assert (decision.action, decision.digits) == (NavAction.DTMF, "2")


async def test_a_department_reached_by_speaking_with_someone_is_no_safe_guess(matcher: MenuMatcher) -> None:
    # "To speak with a nurse" is a department: an unsure call waits for the replay instead of taking it.
    nav = MenuNavigator(matcher).for_call()
    menu = "For a trip, shouldn't reveal, press 2. For garden gnomes, press 3. To speak with a noise, press 4."
    first = await nav.decide(menu, "my pension statement", history=[])
    first = await nav.decide(menu, "my pension statement", history=[])  # quiet: the menu has ended
    assert first.action is NavAction.WAIT and "replayed" in first.reason


async def test_a_submenu_sharing_a_word_with_the_menu_before_is_not_that_menu_again(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    main = "Press 1 for cards. Press 2 for checking and savings. Press 3 for mortgages and loans."
    cards = "Card services. Press 1 to report a lost or stolen card. Press 2 to dispute a charge."
    intent = "I lost my debit card"
    assert (await nav.decide(main, intent, history=[])).action is NavAction.WAIT  # no closing phrase
    assert (await nav.decide(main, intent, history=[])).digits == "1"  # the company went quiet
    partial = "Card services. Press 1 to report a lost or stolen card."
    assert (await nav.decide(partial, intent, history=[main])).action is NavAction.WAIT  # more may follow
    await nav.decide(cards, intent, history=[main])
    decision = await nav.decide(cards, intent, history=[main])  # the company went quiet
    assert (decision.action, decision.digits) == (NavAction.DTMF, "1")


async def test_a_call_says_why_when_the_menu_also_takes_words(matcher: MenuMatcher) -> None:
    # Real tiny.en transcript of a "say or press" menu whose labels came out garbled.
    nav = MenuNavigator(matcher).for_call()
    menu = (
        "In a few words, tell me what you're calling about, or choose from the following. "
        "For billing, say billing or press 1. I'll bring you from Portland, press 3."
    )
    intent = "I want to upgrade to the new iPhone"
    await nav.decide(menu, intent, history=[])
    decision = await nav.decide(menu, intent, history=[])  # the company went quiet: the menu has ended
    assert (decision.action, decision.text) == (NavAction.SPEAK, intent)


async def test_a_near_tie_waits_for_the_replay(matcher: MenuMatcher) -> None:
    # Real tiny.en transcript: both options score about the same, so pressing now is a coin toss.
    nav = MenuNavigator(matcher).for_call()
    menu = "Press 1 for credit and damage cards. Press 4 to report fraud. Press 9 to hear the motion again."
    intent = "I was scammed by a merchant"
    result = matcher.choose(intent, [MenuOption("1", "credit and damage cards"), MenuOption("4", "report fraud")])
    assert not result.clear
    decision = await nav.decide(menu, intent, history=[])
    assert decision.action is NavAction.WAIT and "replayed" in decision.reason
    twice = await nav.decide(f"{menu} {menu}", intent, history=[])
    assert twice.action is NavAction.DTMF


async def test_an_unsure_call_hears_the_menu_again_before_settling_for_a_person(matcher: MenuMatcher) -> None:
    # The recogniser may invent the person option (real tiny.en: "To speak to a representative, press 1.").
    nav = MenuNavigator(matcher).for_call()
    first = await nav.decide(VAGUE, "my pension statement", history=[])
    assert first.action is NavAction.WAIT and "replayed" in first.reason
    twice = await nav.decide(f"{VAGUE} {VAGUE}", "my pension statement", history=[])
    assert (twice.action, twice.digits) == (NavAction.DTMF, "0")


async def test_a_clear_key_is_pressed_even_where_words_are_accepted(matcher: MenuMatcher) -> None:
    # A key the menu names is deterministic; the company's recogniser may route a sentence anywhere.
    nav = MenuNavigator(matcher).for_call()
    menu = "In a few words, tell me what you're calling about. For billing, press 1. For technical support, press 2."
    await nav.decide(menu, "My mobile internet is not working", history=[])
    decision = await nav.decide(menu, "My mobile internet is not working", history=[])
    assert (decision.action, decision.digits) == (NavAction.DTMF, "2")


async def test_keys_are_the_fallback_when_the_spoken_reason_was_not_understood(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    menu = "In a few words, tell me what you're calling about. For billing, press 1. For device help, press 2."
    intent = "My mobile internet is not working"
    await nav.decide(menu, intent, history=[])
    said = await nav.decide(menu, intent, history=[])
    assert said.action is NavAction.SPEAK
    again = await nav.decide(f"Sorry, I didn't get that. {menu}", intent, history=[menu])
    assert (again.action, again.digits) == (NavAction.DTMF, "2")


async def test_a_menu_heard_with_one_option_waits_for_the_replay(matcher: MenuMatcher) -> None:
    # The company stalled after its first option: pressing it would be a guess that nothing else fits better.
    nav = MenuNavigator(matcher).for_call()
    intent = "Why was I charged a roaming fee"
    partial = "Billing. To make a payment, press 1."
    assert (await nav.decide(partial, intent, history=[])).action is NavAction.WAIT
    quiet = await nav.decide(partial, intent, history=[])  # settled on one option
    assert quiet.action is NavAction.WAIT and "replayed" in quiet.reason
    whole = f"{partial} To make a payment, press 1. To ask about a charge on your bill, press 2."
    await nav.decide(whole, intent, history=[])
    replayed = await nav.decide(whole, intent, history=[])  # quiet again, the whole menu heard
    assert (replayed.action, replayed.digits) == (NavAction.DTMF, "2")


async def test_a_lone_person_option_is_still_taken_once_the_company_is_quiet(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    prompt = "To speak with a representative, press 0."
    await nav.decide(prompt, "my bill", history=[])
    decision = await nav.decide(prompt, "my bill", history=[])
    assert (decision.action, decision.digits) == (NavAction.DTMF, "0")


async def test_a_one_option_menu_is_answered_once_it_played_twice(matcher: MenuMatcher) -> None:
    # Real tiny.en: "To make a payment, say payment or press 1." lost its key, so only option 2 was ever heard.
    nav = MenuNavigator(matcher).for_call()
    intent = "There is a charge on my bill I don't understand"
    once = "Make a payment. The S cannot charge on your meal, pay charges or press 2."
    await nav.decide(once, intent, history=[])
    assert (await nav.decide(once, intent, history=[])).action is NavAction.WAIT  # quiet after one hearing
    await nav.decide(f"{once} {once}", intent, history=[])
    twice = await nav.decide(f"{once} {once}", intent, history=[])  # quiet after the second hearing
    assert (twice.action, twice.digits) == (NavAction.DTMF, "2")  # waiting longer only ends the call


async def test_the_company_s_name_does_not_pull_the_caller_to_the_option_that_repeats_it(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    menu = (
        "Thank you for calling Harbor Gas and Electric. Press 1 for gas leaks and emergencies. "
        "Press 2 for a power outage. Press 3 for your bill. Press 4 to start, stop or transfer service."
    )
    intent = "I'm moving house next month and need the gas connected at the new place"
    await nav.decide(menu, intent, history=[])
    decision = await nav.decide(menu, intent, history=[])  # the company went quiet
    assert decision.digits != "1"  # never the emergency line for a move


@pytest.mark.parametrize(("behind_s", "pressed"), [(0.0, ""), (1.0, ""), (4.0, "0")])
async def test_a_hearing_whose_replay_is_already_playing_is_the_last_one(
    matcher: MenuMatcher, behind_s: float, pressed: str
) -> None:
    """Unsure after one hearing: wait for the replay, unless its words would come after the company's timeout."""
    nav = MenuNavigator(matcher).for_call()
    await nav.decide(VAGUE, "my pension statement", history=[], behind_s=behind_s)
    settled = await nav.decide(VAGUE, "my pension statement", history=[], behind_s=behind_s)  # the company is quiet
    assert settled.digits == pressed  # late: the one hearing decides (a tie goes to the person option)
    assert (settled.action is NavAction.WAIT) == (not pressed)


@pytest.mark.parametrize(
    ("prompt", "place"),
    [
        (
            "Maintenance requests, press 1. Rent, press 2. "
            "To reach the leasing office for anything else, stay on the line.",
            "leasing office for anything else",
        ),
        ("For billing press 1. For support press 2. Or stay on the line.", ""),  # says silence waits, not where
        ("Please stay on the line. For billing press 1. For support press 2.", ""),  # before the keys: a greeting
        ("For billing press 1. For our front desk, please remain on the line.", "our front desk"),
    ],
)
def test_where_a_silent_caller_goes(prompt: str, place: str) -> None:
    assert fallthrough_place(prompt) == place


# The replay of a menu reaches the navigator as a prompt of its own: the call starts a new turn after the company's
# pause (calls/greeting.py turn_gap_lasted) and passes the turns before it (``earlier``). Heard in another garbling,
# it is the same menu.
HOTEL_HEARD = (
    "Welcome to the welcome, Press 1 for Reformation / reservations. Press 2 for Ashrovery Ward's members. "
    "Press 3 for wedding, meeting and group travel. Press 0. Open the front desk."
)
HOTEL_AGAIN = (
    "Press 1 for reminations / reservations. Press 2 for Ashlow reward's members. "
    "Press 3 for weddings, meeting and group travel. Press 0 for the front desk."
)
MOVE_DATES = "We need to push our trip back a week, can you move the dates"
RENTAL_HEARD = "Extending your rental or returning late. Press 1. I'd help press 2. Damage or an accident. Press 3."
RENTAL_AGAIN = (
    "Extending your rental or returning late. Press 1. Roadside help press 2. The image were an accident. Press 3."
)
KEEP_CAR = "Can I keep the car two more days, my flight home got moved"


async def test_the_replay_heard_as_a_new_prompt_is_the_second_hearing(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    assert (await nav.decide(RENTAL_HEARD, KEEP_CAR, history=[])).action is NavAction.WAIT
    first = await nav.decide(RENTAL_HEARD, KEEP_CAR, history=[])  # the company went quiet: unsure, wait
    assert first.action is NavAction.WAIT and "replayed" in first.reason
    # The replay, segment by segment, before the company's no-input timeout: decided once it offered every key.
    earlier = (RENTAL_HEARD,)
    assert (await nav.decide(RENTAL_AGAIN[:49], KEEP_CAR, history=[], earlier=earlier)).action is NavAction.WAIT
    second = await nav.decide(RENTAL_AGAIN, KEEP_CAR, history=[], earlier=earlier)
    assert (second.action, second.digits) == (NavAction.DTMF, "1")
    assert "after the replay" in second.reason


async def test_a_tie_after_the_replay_heard_apart_goes_to_the_person_offered(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    for _ in range(2):
        await nav.decide(HOTEL_HEARD, MOVE_DATES, history=[])
    await nav.decide(HOTEL_AGAIN[:40], MOVE_DATES, history=[], earlier=(HOTEL_HEARD,))
    # Decided before the timeout, not left to it.
    second = await nav.decide(HOTEL_AGAIN, MOVE_DATES, history=[], earlier=(HOTEL_HEARD,))
    assert (second.action, second.digits) == (NavAction.DTMF, "0")


async def test_a_replay_that_has_not_offered_every_key_again_waits(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    for _ in range(2):
        await nav.decide(HOTEL_HEARD, MOVE_DATES, history=[])
    part = "Press 1 for reminations / reservations. Press 2 for Ashlow reward's members."
    assert (await nav.decide(part, MOVE_DATES, history=[], earlier=(HOTEL_HEARD,))).action is NavAction.WAIT


def test_a_replay_is_told_from_another_menu_and_from_the_same_prompt_grown() -> None:
    assert replays_menu(HOTEL_HEARD, HOTEL_AGAIN)
    assert replays_menu(HOTEL_HEARD, "Press 1 for reminations / reservations.")  # its start so far
    # The company moved on by itself to another menu: labels of its own.
    assert not replays_menu(HOTEL_HEARD, "Press 1 for a new booking. Press 2 to change or cancel a booking.")
    assert not replays_menu(HOTEL_HEARD, "Press 5 for parking.")  # a key the menu never offered


async def test_the_same_prompt_grown_or_corrected_is_not_a_second_hearing(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    for _ in range(2):
        await nav.decide(RENTAL_HEARD, KEEP_CAR, history=[])
    # A label rescored into the first hearing after the company went quiet: the same turn (the call passes no
    # earlier turn), still one hearing.
    corrected = RENTAL_HEARD.replace("I'd help", "I'd help / roadside help")
    assert (await nav.decide(corrected, KEEP_CAR, history=[])).action is NavAction.WAIT


async def test_a_turn_that_is_not_the_menu_now_playing_is_not_read_with_it(matcher: MenuMatcher) -> None:
    # The company left an input node by itself ("enter your number followed by pound", nothing entered): the menu
    # after it is a first hearing, and the unsure caller waits for its replay.
    nav = MenuNavigator(matcher).for_call()
    node = "Please enter your account number followed by the pound key. If you don't have it, just hold."
    await nav.decide(RENTAL_HEARD, KEEP_CAR, history=[], earlier=(node,))
    first = await nav.decide(RENTAL_HEARD, KEEP_CAR, history=[], earlier=(node,))
    assert first.action is NavAction.WAIT and "replayed" in first.reason
    # Its replay is read with the menu's first hearing, not with the input node before it.
    second = await nav.decide(RENTAL_AGAIN, KEEP_CAR, history=[], earlier=(node, RENTAL_HEARD))
    assert (second.action, second.digits) == (NavAction.DTMF, "1")


def test_only_the_latest_hearings_of_the_menu_now_playing_are_read_with_it() -> None:
    node = "Please enter your account number followed by the pound key."
    assert with_earlier_hearings((node, HOTEL_HEARD), HOTEL_AGAIN) == f"{HOTEL_HEARD} {HOTEL_AGAIN}"
    assert with_earlier_hearings((HOTEL_HEARD, node), HOTEL_AGAIN) == HOTEL_AGAIN  # the run ended at the node
    assert with_earlier_hearings((), HOTEL_AGAIN) == HOTEL_AGAIN


async def test_a_settled_hearing_is_forgotten_once_a_key_went_out(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    menu = "Press 1 for checking accounts. Press 2 for savings accounts."
    intent = "I want to move money into my savings account"
    await nav.decide(menu, intent, history=[])
    assert (await nav.decide(menu, intent, history=[])).digits == "2"
    # The submenu behind the key has the same keys: it is a new menu, not the replay of the one answered.
    sub = "Press 1 for transfers. Press 2 for interest rates."
    assert (await nav.decide(sub, intent, history=[menu])).action is NavAction.WAIT


async def test_a_greetings_operator_notice_is_not_pressed_before_the_menu(matcher: MenuMatcher) -> None:
    nav = MenuNavigator(matcher).for_call()
    notice = "Brackenridge Power. To speak with an operator, press 0 at any time."
    assert (await nav.decide(notice, "a tree brought down the power line", history=[])).action is NavAction.WAIT
    menu = f"{notice} If you are reporting a power cut or a fallen line, press 1. For your bill, press 2."
    await nav.decide(menu, "a tree brought down the power line", history=[])
    decision = await nav.decide(menu, "a tree brought down the power line", history=[])  # the company went quiet
    assert (decision.action, decision.digits) == (NavAction.DTMF, "1")

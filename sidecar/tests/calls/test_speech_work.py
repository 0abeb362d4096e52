"""Speech-to-text work runs most urgent first, stale work is dropped, and the queue is bounded."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from conftest import FakeDetector
from hold_slayer_sidecar.calls.listening import CallListening, menu_over
from hold_slayer_sidecar.calls.session import CallSession, StepWait
from hold_slayer_sidecar.calls.speech_work import SpeechWork, StaleWork, Urgency
from hold_slayer_sidecar.protocol import CallState


class Engine:
    """One decode at a time, as the embedded engine; records the order work ran in."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.gate = asyncio.Event()

    def job(self, name: str, *, hold: bool = False) -> object:
        async def run() -> str:
            self.ran.append(name)
            if hold:
                await self.gate.wait()
            return name

        return run


async def test_detection_runs_before_menu_words_and_rescoring_whatever_the_order_they_came_in() -> None:
    work, engine = SpeechWork(), Engine()
    first = asyncio.ensure_future(work.submit(Urgency.RESCORE, engine.job("busy rescoring", hold=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    queued = [
        asyncio.ensure_future(work.submit(Urgency.RESCORE, engine.job("call 1 rescoring"))),  # type: ignore[arg-type]
        asyncio.ensure_future(work.submit(Urgency.MENU, engine.job("call 1 menu words"))),  # type: ignore[arg-type]
        asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("call 2 'Hi, this is Sam'"))),  # type: ignore[arg-type]
    ]
    await asyncio.sleep(0)
    engine.gate.set()
    await asyncio.gather(first, *queued)
    assert engine.ran == ["busy rescoring", "call 2 'Hi, this is Sam'", "call 1 menu words", "call 1 rescoring"]


async def _spin() -> None:
    """Let submitted work reach its lane (a submit, then the lane's task, each take a turn of the loop)."""
    for _ in range(5):
        await asyncio.sleep(0)


class Gates:
    """Work that runs until its own gate opens, as a decode runs until it is done; records start order."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def job(self, name: str) -> object:
        self.gates[name] = asyncio.Event()

        async def run() -> str:
            self.started.append(name)
            await self.gates[name].wait()
            return name

        return run


async def test_a_persons_words_start_at_once_while_a_rescoring_is_under_way_and_rescorings_never_run_together() -> None:
    work, engine = SpeechWork(lanes=2), Gates()
    submit = work.submit
    rescoring = asyncio.ensure_future(submit(Urgency.RESCORE, engine.job("call 1 rescoring")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    second = asyncio.ensure_future(submit(Urgency.RESCORE, engine.job("call 2 rescoring")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    await _spin()
    assert engine.started == ["call 1 rescoring"]  # the other lane stays free for urgent work
    person = asyncio.ensure_future(submit(Urgency.DETECTION, engine.job("call 2 'Hi, this is Sam'")))  # type: ignore[arg-type]
    await _spin()
    assert engine.started == ["call 1 rescoring", "call 2 'Hi, this is Sam'"]  # not after the rescoring
    engine.gates["call 2 'Hi, this is Sam'"].set()
    assert await person == "call 2 'Hi, this is Sam'"
    assert engine.started == ["call 1 rescoring", "call 2 'Hi, this is Sam'"]
    engine.gates["call 1 rescoring"].set()
    await rescoring
    await _spin()
    assert engine.started[-1] == "call 2 rescoring"  # its turn came once the first was done
    engine.gates["call 2 rescoring"].set()
    assert await second == "call 2 rescoring"
    await work.close()


async def test_words_for_the_record_come_after_every_call_s_detection_and_menu_work() -> None:
    work, engine = SpeechWork(), Engine()
    busy = asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("busy", hold=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    queued = [
        asyncio.ensure_future(work.submit(Urgency.RECORD, engine.job("call 1 agent talking to the user"))),  # type: ignore[arg-type]
        asyncio.ensure_future(work.submit(Urgency.RESCORE, engine.job("call 2 rescoring"))),  # type: ignore[arg-type]
        asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("call 2 'Hello?'"))),  # type: ignore[arg-type]
    ]
    await asyncio.sleep(0)
    engine.gate.set()
    await asyncio.gather(busy, *queued)
    assert engine.ran == ["busy", "call 2 'Hello?'", "call 2 rescoring", "call 1 agent talking to the user"]


async def test_work_gone_stale_while_waiting_releases_its_caller_at_the_next_submit() -> None:
    """A caller waiting on a menu that is over (and holding its call's order) is not kept waiting for its turn."""
    work, engine = SpeechWork(), Engine()
    over = {"menu": False}
    busy = asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("busy", hold=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    menu = asyncio.ensure_future(work.submit(Urgency.MENU, engine.job("menu"), stale=lambda: over["menu"]))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    over["menu"] = True  # the call went to probing a greeting
    answer = asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("answer")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    with pytest.raises(StaleWork):
        await menu  # released while "busy" still runs
    assert not busy.done()
    engine.gate.set()
    assert await answer == "answer"
    assert engine.ran == ["busy", "answer"]


async def test_work_for_a_menu_that_is_over_is_dropped_when_its_turn_comes() -> None:
    work, engine = SpeechWork(), Engine()
    over = {"menu": False}
    busy = asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("busy", hold=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    rescoring = asyncio.ensure_future(
        work.submit(Urgency.RESCORE, engine.job("rescoring"), stale=lambda: over["menu"])  # type: ignore[arg-type]
    )
    await asyncio.sleep(0)
    over["menu"] = True  # the navigator pressed a key meanwhile
    engine.gate.set()
    await busy
    with pytest.raises(StaleWork):
        await rescoring
    assert engine.ran == ["busy"] and work.dropped == 1


async def test_a_full_queue_drops_the_least_urgent_oldest_work() -> None:
    work, engine = SpeechWork(max_pending=2), Engine()
    busy = asyncio.ensure_future(work.submit(Urgency.MENU, engine.job("busy", hold=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    old = asyncio.ensure_future(work.submit(Urgency.RESCORE, engine.job("old rescoring")))  # type: ignore[arg-type]
    menu = asyncio.ensure_future(work.submit(Urgency.MENU, engine.job("menu")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    person = asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("person")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert work.pending == 2
    with pytest.raises(StaleWork):
        await old
    # Nothing waiting is less urgent than a new rescoring: the newcomer is refused at once.
    with pytest.raises(StaleWork):
        await work.submit(Urgency.RESCORE, engine.job("new rescoring"))  # type: ignore[arg-type]
    engine.gate.set()
    assert await asyncio.gather(busy, person, menu) == ["busy", "person", "menu"]
    assert engine.ran == ["busy", "person", "menu"]


async def test_a_failing_engine_fails_only_its_own_work_and_close_drops_the_rest() -> None:
    work, engine = SpeechWork(), Engine()

    async def broken() -> str:
        raise RuntimeError("engine bug")

    with pytest.raises(RuntimeError):
        await work.submit(Urgency.DETECTION, broken)
    assert await work.submit(Urgency.DETECTION, engine.job("next")) == "next"  # type: ignore[arg-type]
    busy = asyncio.ensure_future(work.submit(Urgency.MENU, engine.job("busy", hold=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(work.submit(Urgency.MENU, engine.job("waiting")))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    await work.close()
    with pytest.raises(StaleWork):
        await waiting
    with pytest.raises(StaleWork):
        await busy


SESSION = CallSession("c1", "sip:co@127.0.0.1", "sip:me@127.0.0.1", 0.0, state=CallState.IVR, listen_epoch=3)


@pytest.mark.parametrize(
    ("change", "over"),
    [
        ({"step_wait": StepWait.LISTEN}, False),
        ({"step_wait": StepWait.DECIDE}, False),
        ({"step_wait": StepWait.DTMF}, True),  # the key for this menu is being pressed
        ({"step_wait": StepWait.LISTEN, "listen_epoch": 4}, True),  # the next menu began
        ({"step_wait": StepWait.LISTEN, "state": CallState.HOLD}, True),
        ({"step_wait": StepWait.LISTEN, "state": CallState.ENDED}, True),
    ],
)
def test_when_a_menu_is_over(change: dict[str, object], over: bool) -> None:
    assert menu_over(replace(SESSION, **change), 3) is over  # type: ignore[arg-type]


def test_stale_tests_of_one_call() -> None:
    session = {"now": replace(SESSION, state=CallState.HOLD)}
    listening = CallListening(lambda: session["now"], FakeDetector())
    first, second = listening.stale_partial(), listening.stale_partial()
    assert first() and not second()  # a newer partial supersedes an older one still waiting
    detection = listening.stale_detection()
    assert not detection()
    session["now"] = replace(SESSION, state=CallState.HUMAN)
    assert second() and not detection()  # a person's words are still transcribed (the transcript is kept)
    session["now"] = replace(SESSION, state=CallState.ENDED)
    assert detection()


async def test_a_lane_is_free_only_while_nothing_waits_and_a_lane_is_idle() -> None:
    """A partial greeting decode goes only into an idle lane (calls/effects.py): queued, it would hold work back."""
    work, engine = SpeechWork(lanes=2), Engine()
    assert work.lane_free
    one = asyncio.ensure_future(work.submit(Urgency.RESCORE, engine.job("rescoring", hold=True)))  # type: ignore[arg-type]
    for _ in range(5):
        await asyncio.sleep(0)  # the lane takes the work
    assert work.lane_free  # the other lane is idle
    two = asyncio.ensure_future(work.submit(Urgency.DETECTION, engine.job("queue speech", hold=True)))  # type: ignore[arg-type]
    for _ in range(5):
        await asyncio.sleep(0)  # the lane takes the work
    assert not work.lane_free
    engine.gate.set()
    await asyncio.gather(one, two)
    assert work.lane_free
    await work.close()

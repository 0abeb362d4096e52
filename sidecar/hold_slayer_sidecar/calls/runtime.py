"""One live call: its session, detector, timers and tasks, and the loop that feeds the state machine."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from ..audio.types import CallDetector
from ..nav.api import Navigator
from ..sip.api import Unsubscribe
from .events import Effect, Input, Leg, Timer, TimerFired
from .listening import CallListening
from .machine import step
from .session import CallSession

_LOGGER = logging.getLogger(__name__)

type EffectRunner = Callable[[CallRuntime, Effect], None]


class CallRuntime:
    """Owns everything that lives as long as one call; inputs are applied one at a time, in order."""

    def __init__(
        self,
        session: CallSession,
        detector: CallDetector,
        navigator: Navigator | None = None,
        *,
        run_effect: EffectRunner,
        now: Callable[[], float],
        on_settled: Callable[[CallRuntime], None],
    ) -> None:
        self.session = session
        self.listening = CallListening(lambda: self.session, detector)
        self.detector = self.listening.ears.detector
        self.navigator = navigator
        self.legs: dict[Leg, str] = {}
        self.last_t_s = 0.0  # stream time of the latest company frame (for detector notes)
        self.dialed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.unsubscribe_audio: Unsubscribe | None = None
        self.detector_failures = 0
        self._run_effect = run_effect
        self._on_settled = on_settled
        self._now = now
        self._inbox: deque[Input] = deque()
        self._busy = False
        self._timers: dict[Timer, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._speaking: asyncio.Task[None] | None = None  # the line being said to the company, if any

    @property
    def call_id(self) -> str:
        """The call's id."""
        return self.session.call_id

    def feed(self, event: Input) -> None:
        """Apply an input; inputs produced while effects run are queued, never applied re-entrantly."""
        self._inbox.append(event)
        if self._busy:
            return
        self._busy = True
        try:
            while self._inbox:
                new, effects = step(self.session, self._inbox.popleft())
                self.session = new
                for effect in effects:
                    try:
                        self._run_effect(self, effect)
                    except Exception:  # an effect that fails must not leave the call half-updated
                        _LOGGER.exception("call %s: effect %r failed", self.call_id, effect)
        finally:
            self._busy = False
        self._on_settled(self)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run a task owned by this call (cancelled when the call is closed)."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.call_id}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def speak(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run the task that says a line to the company (one at a time: StopSpeaking cuts it)."""
        self._speaking = self.spawn(coro, "Speak")

    def stop_speaking(self) -> None:
        """Cut the line being said to the company (cancelling the playback stops it at once)."""
        if self._speaking is not None and not self._speaking.done():
            self._speaking.cancel()

    async def speech_stopped(self) -> None:
        """Wait until a cut line has really stopped (its engine call unwound), e.g. before a bridge."""
        speaking = self._speaking
        if speaking is not None and speaking.cancelling():
            await asyncio.wait([speaking])

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.error("call %s: task %s failed: %s", self.call_id, task.get_name(), err, exc_info=err)

    def start_timer(self, name: Timer, seconds: float) -> None:
        """(Re)start a named timer that feeds TimerFired."""
        self.cancel_timer(name)
        loop = asyncio.get_running_loop()
        self._timers[name] = loop.call_later(seconds, self._fire, name)

    def cancel_timer(self, name: Timer) -> None:
        """Stop a named timer if it runs."""
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _fire(self, name: Timer) -> None:
        self._timers.pop(name, None)
        self.feed(TimerFired(self._now(), name))

    def close(self) -> None:
        """Cancel timers, audio and helper tasks (hang-ups are spawned by the manager, not here)."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self.unsubscribe_audio is not None:
            self.unsubscribe_audio()
            self.unsubscribe_audio = None

    def cancel_tasks(self) -> list[asyncio.Task[None]]:
        """Cancel every helper task still running; return them so a caller can wait."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

"""Speech-to-text work of every call in one bounded priority queue: what decides a transfer goes first.

The embedded engine decodes one clip at a time. Run in arrival order, a menu label rescoring (1-5 s of CPU under
load) made a person's "Hi" wait behind it for seconds: the user's phone rang late, or the agent hung up first.
So work runs by urgency: a possible person's words (the time to ring the user) before a menu segment's words
before rescoring menu labels. Work whose menu is over (a key was pressed, the call ended) is dropped when its
turn comes instead of being done, and the queue is bounded: when it is full the least urgent, oldest work goes.
A decode cannot be interrupted once it runs, so urgency alone still left a person's words waiting out a rescoring
already under way (1.3-4 s on a loaded machine): work runs in LANES lanes, and rescoring holds at most one of them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

_LOGGER = logging.getLogger(__name__)

# Two calls, each with a menu segment, its rescoring, a partial and a segment of queue speech waiting, fit several
# times over; a queue longer than this holds work minutes old, which no call can use any more.
MAX_PENDING = 24
# Two lanes: the sidecar carries at most two calls on a two-core machine, and one lane is always free of rescoring
# and of words for the record (never two such at once), so a possible person's words start as soon as asked. The
# embedded engine runs as many decodes at once (voice/stt.py, EmbeddedWhisperStt.parallel).
LANES = 2


class Urgency(IntEnum):
    """How soon a piece of speech-to-text work is needed (lower runs first)."""

    DETECTION = 0  # words of speech that may be a person (queue speech, partials, an answer to our probe)
    MENU = 1  # a menu segment's words: the navigator chooses a key on them
    RESCORE = 2  # menu labels rescored against a segment's audio: a correction, the costliest work
    RECORD = 3  # words said once a person was found (the transcript, the summary): nothing waits on them


class StaleWork(Exception):
    """The work was dropped before it ran: its menu is over, its call ended, or the queue overflowed."""


@dataclass(order=True)
class _Job:
    urgency: int
    seq: int
    run: Callable[[], Awaitable[Any]] = field(compare=False)
    stale: Callable[[], bool] = field(compare=False)
    done: asyncio.Future[Any] = field(compare=False)
    label: str = field(default="", compare=False)


def _never() -> bool:
    return False


class SpeechWork:
    """Runs speech-to-text work one piece at a time, most urgent first, dropping stale work (owned by the runner)."""

    def __init__(self, max_pending: int = MAX_PENDING, lanes: int = 1) -> None:
        self._max_pending = max_pending
        self._lanes = max(1, lanes)
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._workers: set[asyncio.Task[None]] = set()
        self._running: dict[int, _Job] = {}  # by sequence number: the work each lane runs now
        self.dropped = 0  # stale or overflowed work, for the logs and the benchmarks

    @property
    def running(self) -> str:
        """Labels of the work running now (empty when idle)."""
        return ", ".join(job.label for job in self._running.values())

    @property
    def lane_free(self) -> bool:
        """Whether a piece of work submitted now would start at once (nothing waits and a lane is idle)."""
        return not self._heap and len(self._running) < self._lanes

    @property
    def pending(self) -> int:
        """Pieces of work waiting (not counting the one running)."""
        return len(self._heap)

    async def submit[T](
        self,
        urgency: Urgency,
        run: Callable[[], Awaitable[T]],
        *,
        stale: Callable[[], bool] = _never,
        label: str = "",
    ) -> T:
        """Run ``run()`` when its turn comes and return its result; raise StaleWork if it was dropped instead."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        job = _Job(int(urgency), next(self._seq), run, stale, done, label)
        self._sweep()  # work that went stale while it waited releases its callers now, not when its turn comes
        if len(self._heap) >= self._max_pending and not self._make_room(job):
            self.dropped += 1
            raise StaleWork(f"speech-to-text queue full ({self._max_pending}): {label or 'work'} dropped")
        heapq.heappush(self._heap, job)
        self._start_lanes()
        return await done

    def _start_lanes(self) -> None:
        """Start a lane for each piece of work that may run now, up to LANES at once."""
        while len(self._workers) < self._lanes and self._runnable() is not None:
            task = asyncio.get_running_loop().create_task(self._work(), name="speech-to-text")
            self._workers.add(task)
            task.add_done_callback(self._lane_done)

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if self._heap and not task.cancelled():
            self._start_lanes()  # a rescoring that waited for the other lane's may run now

    def _runnable(self) -> _Job | None:
        """Return the most urgent waiting work a free lane may take: never a second rescoring or record at once."""
        heavy = any(job.urgency >= Urgency.RESCORE for job in self._running.values())
        for job in sorted(self._heap):
            if not (heavy and job.urgency >= Urgency.RESCORE):
                return job
        return None

    def _sweep(self) -> None:
        """Drop every waiting piece of work that is no longer needed (its menu is over, its call ended)."""
        kept: list[_Job] = []
        for job in self._heap:
            try:
                stale = job.done.done() or job.stale()
            except Exception:  # a broken predicate must not stop every call's speech-to-text
                _LOGGER.exception("speech-to-text: stale check of %s failed", job.label)
                stale = False
            if stale:
                self._drop(job, "no longer needed")
            else:
                kept.append(job)
        if len(kept) != len(self._heap):
            self._heap = kept
            heapq.heapify(self._heap)

    def _make_room(self, job: _Job) -> bool:
        """Drop the least urgent, oldest waiting work to make room for ``job``; False if ``job`` is the least urgent."""
        least = max(job.urgency, *(waiting.urgency for waiting in self._heap))
        if job.urgency == least and all(waiting.urgency < least for waiting in self._heap):
            return False
        victim = min((w for w in self._heap if w.urgency == least), key=lambda w: w.seq)
        self._heap.remove(victim)
        heapq.heapify(self._heap)
        self._drop(victim, "the speech-to-text queue is full")
        return True

    def _drop(self, job: _Job, why: str) -> None:
        self.dropped += 1
        if not job.done.done():
            job.done.set_exception(StaleWork(f"{job.label or 'work'} dropped: {why}"))

    async def _work(self) -> None:
        while (job := self._runnable()) is not None:
            self._heap.remove(job)
            heapq.heapify(self._heap)
            if job.done.done():  # its caller gave up (the call was closed)
                continue
            try:
                if job.stale():
                    self._drop(job, "no longer needed")
                    continue
            except Exception:  # a broken predicate must not stop every call's speech-to-text
                _LOGGER.exception("speech-to-text: stale check of %s failed", job.label)
            self._running[job.seq] = job
            try:
                result = await job.run()
            except asyncio.CancelledError:
                self._drop(job, "shutting down")  # its caller must not wait forever
                raise
            except Exception as err:  # handed to the caller, who logs it and keeps the call going
                if not job.done.done():
                    job.done.set_exception(err)
            else:
                if not job.done.done():
                    job.done.set_result(result)
            finally:
                del self._running[job.seq]

    async def close(self) -> None:
        """Drop whatever waits and stop the worker (its caller is released; a decode in a thread still finishes)."""
        for job in self._heap:
            self._drop(job, "shutting down")
        self._heap.clear()
        workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

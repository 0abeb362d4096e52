"""The one thread that owns the PJSUA2 endpoint: it polls PJSIP and runs commands from a bounded queue.

PJSUA2 aborts the process when an unregistered thread touches it, so every PJSUA2 call in this package
happens here. Results travel back to asyncio with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from .api import SipError
from .errors import detach, log_exception

_LOGGER = logging.getLogger(__name__)

POLL_MS = 10
QUEUE_SIZE = 256

type Job = Callable[[], Any]


class PjsuaThread:
    """Runs ``setup`` once, then alternates ``poll`` and queued jobs until ``stop`` runs ``teardown``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        setup: Callable[[], None],
        poll: Callable[[int], None],
        teardown: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._setup = setup
        self._poll = poll
        self._teardown = teardown
        self._jobs: queue.Queue[tuple[Job, asyncio.Future[Any] | None]] = queue.Queue(QUEUE_SIZE)
        self._stopping = threading.Event()
        self._accepting = threading.Lock()
        self._thread = threading.Thread(target=self._main, name="pjsua2", daemon=True)
        self._started: asyncio.Future[None] = loop.create_future()
        self._finished: asyncio.Future[None] = loop.create_future()

    @property
    def alive(self) -> bool:
        """True while the thread runs and accepts jobs."""
        return self._thread.is_alive() and not self._stopping.is_set()

    def is_current(self) -> bool:
        """Return True when called on the PJSUA2 thread itself."""
        return threading.current_thread() is self._thread

    async def start(self) -> None:
        """Start the thread and wait until ``setup`` finished (re-raising its error)."""
        self._thread.start()
        await self._started

    async def stop(self) -> None:
        """Ask the thread to run ``teardown`` and wait for it to end."""
        if not self._thread.is_alive():
            return
        self._stopping.set()
        await self._finished

    def stop_blocking(self, timeout_s: float = 5.0) -> None:
        """Stop from synchronous code (interpreter exit): run ``teardown`` and join the thread."""
        if self._thread.is_alive() and not self.is_current():
            self._stopping.set()
            self._thread.join(timeout_s)

    async def call[T](self, job: Callable[[], T]) -> T:
        """Run ``job`` on the PJSUA2 thread and return its result (or raise its exception)."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._submit(job, future)
        return await future

    def post(self, job: Job) -> None:
        """Run ``job`` on the PJSUA2 thread without waiting for it (errors are logged)."""
        self._submit(job, None)

    def _submit(self, job: Job, future: asyncio.Future[Any] | None) -> None:
        # The lock orders this against the final drain in _main: a job is either run or failed.
        with self._accepting:
            if not self.alive:
                raise SipError("SIP engine is not running")
            try:
                self._jobs.put_nowait((job, future))
            except queue.Full as err:
                raise SipError("SIP engine command queue is full") from err

    def _main(self) -> None:
        try:
            self._setup()
        except BaseException as err:  # thread boundary: hand the error to the awaiting task
            self._stopping.set()
            self._resolve(self._started, None, detach(err))
            self._resolve(self._finished, None, None)
            return
        self._resolve(self._started, None, None)
        try:
            while not self._stopping.is_set():
                self._poll(POLL_MS)
                self._run_jobs()
        except BaseException:  # thread boundary: log and still tear down
            log_exception(_LOGGER, "PJSUA2 thread crashed")
        with self._accepting:
            self._stopping.set()
            self._fail_pending()
        try:
            self._teardown()
        except BaseException:  # thread boundary
            log_exception(_LOGGER, "PJSUA2 teardown failed")
        self._resolve(self._finished, None, None)

    def _run_jobs(self) -> None:
        while True:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            try:
                result = job()
            except Exception as err:  # a failing command must not kill the thread
                if future is None:
                    log_exception(_LOGGER, "PJSUA2 job failed")
                else:
                    # The traceback holds this thread's frames (Call objects): keep them here.
                    self._resolve(future, None, detach(err))
            else:
                if future is not None:
                    self._resolve(future, result, None)

    def _fail_pending(self) -> None:
        while True:
            try:
                _job, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if future is not None:
                self._resolve(future, None, SipError("SIP engine stopped"))

    def _resolve(self, future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        try:
            self._loop.call_soon_threadsafe(settle)
        except RuntimeError:
            _LOGGER.debug("event loop closed; dropping a PJSUA2 result")

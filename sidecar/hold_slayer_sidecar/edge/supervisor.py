"""Run kamailio as the edge: write its configuration, start it in the foreground, restart it if it dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

from .config import EdgeSettings, render_config, render_dispatcher_list
from .errors import EdgeStartError
from .probe import probe_options
from .registrar import ensure_tables, rpc_socket

_LOGGER = logging.getLogger(__name__)
_KAMAILIO_LOGGER = logging.getLogger("hold_slayer_sidecar.edge.kamailio")

# kamailio's own level names in its stderr lines (" 0(123) ERROR: <core> [...]: ...").
_LEVEL = re.compile(r"\b(ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG):")
_LEVELS = {
    "ALERT": logging.CRITICAL,
    "BUG": logging.CRITICAL,
    "CRITICAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "NOTICE": logging.INFO,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
}
# Shared memory holds transactions and dialogs: 32 MB keeps thousands of them (a flood is refused before
# it creates any); private memory per process parses one message at a time.
_SHM_MB = 32
_PKG_MB = 4
_READY_S = 5.0
_STOP_S = 5.0
# Restart backoff: quick first (a crash during a call), capped so a broken machine does not spin.
_BACKOFF_FIRST_S = 0.2
_BACKOFF_MAX_S = 5.0
_HEALTHY_S = 30.0
# A sidecar killed with SIGKILL leaves its kamailio running: on purpose, for a moment, because its media
# workers hang up their calls through it (a BYE each). The next start ends that kamailio, found by its pid
# file, before binding the port (else two would share it, one routing to workers that are gone).
_PID_FILE = "kamailio.pid"


class EdgeSupervisor:
    """Owns the kamailio process of the edge: start, health check, restart on death, stop."""

    def __init__(self, settings: EdgeSettings, run_dir: Path) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.restarts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._log_task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        """The running kamailio's main process id (None when it is not running)."""
        return self._process.pid if self._process is not None and self._process.returncode is None else None

    async def start(self) -> None:
        """Write the configuration, check it, start kamailio and wait until it answers OPTIONS."""
        binary = shutil.which(self.settings.kamailio)
        if binary is None:
            raise EdgeStartError(
                f"kamailio ({self.settings.kamailio}) is not installed: run scripts/setup or apt-get install kamailio"
            )
        self._stopping = False
        cfg = await asyncio.to_thread(self._write_files)
        await self._check(binary, cfg)
        await _end_stale(self.run_dir / _PID_FILE, cfg)
        await self._launch(binary, cfg)
        self._watch = asyncio.create_task(self._supervise(binary, cfg), name="edge-supervisor")
        _LOGGER.info("SIP edge listening on %s, workers %s", self.settings.public_uri, self.settings.worker_ports)

    async def stop(self) -> None:
        """Stop kamailio (SIGTERM, then SIGKILL after 5 s) and the supervision."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._terminate()

    def _write_files(self) -> Path:
        # Private: the configuration holds the trunk password, db/ the devices' HA1s, rpc.sock the control.
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.run_dir.chmod(0o700)
        (self.run_dir / "dispatcher.list").write_text(render_dispatcher_list(self.settings), encoding="utf-8")
        if self.settings.registrar:
            ensure_tables(self.run_dir)
        cfg = self.run_dir / "kamailio.cfg"
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_config(self.settings, self.run_dir, rpc_socket(self.run_dir)))
        cfg.chmod(0o600)
        return cfg

    def _command(self, binary: str, cfg: Path, *extra: str) -> list[str]:
        memory = ("-m", str(_SHM_MB), "-M", str(_PKG_MB))
        pid_file = ("-P", str(self.run_dir / _PID_FILE)) if "-c" not in extra else ()
        return [binary, *extra, "-f", str(cfg), "-Y", str(self.run_dir), *memory, *pid_file]

    async def _check(self, binary: str, cfg: Path) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._command(binary, cfg, "-c"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise EdgeStartError(f"kamailio refused {cfg}: {_last_lines(output)}")

    async def _launch(self, binary: str, cfg: Path) -> None:
        # -DD: stay in the foreground (children are still forked: one receiver set per socket); -E: log to stderr.
        self._process = await asyncio.create_subprocess_exec(
            *self._command(binary, cfg, "-DD", "-E"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C at the terminal reaches the sidecar, which stops kamailio itself
        )
        assert self._process.stderr is not None
        self._log_task = asyncio.create_task(_forward_log(self._process.stderr), name="edge-log")
        if not await self._wait_ready():
            code = self._process.returncode
            await self._terminate()
            state = f"exited with {code}" if code is not None else f"did not answer OPTIONS within {_READY_S:.0f} s"
            raise EdgeStartError(f"kamailio {state} on {self.settings.public_uri} (see the log above)")

    async def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + _READY_S
        while time.monotonic() < deadline and self._process.returncode is None:
            if await probe_options(self.settings.host, self.settings.port, timeout_s=0.2):
                return True
            await asyncio.sleep(0.05)
        return False

    async def _supervise(self, binary: str, cfg: Path) -> None:
        backoff = _BACKOFF_FIRST_S
        while not self._stopping:
            assert self._process is not None
            started = time.monotonic()
            await _main_exited(self._process.pid)
            if self._stopping:
                return
            # Its children outlive a main process that crashed: they still hold the sockets and the log pipe.
            _kill_group(self._process.pid)
            code = await self._process.wait()
            _LOGGER.error("SIP edge (kamailio) exited with %s; restarting in %.1f s", code, backoff)
            await asyncio.sleep(backoff)
            backoff = _BACKOFF_FIRST_S if time.monotonic() - started > _HEALTHY_S else min(backoff * 2, _BACKOFF_MAX_S)
            try:
                await self._launch(binary, cfg)
            except (EdgeStartError, OSError) as err:
                _LOGGER.error("SIP edge restart failed: %s", err)
                continue
            self.restarts += 1
            _LOGGER.warning("SIP edge restarted (%d restarts so far)", self.restarts)

    async def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), _STOP_S)
            except TimeoutError:
                _LOGGER.warning("kamailio ignored SIGTERM for %.0f s; killing it", _STOP_S)
                _kill_group(process.pid)
                await process.wait()
        if process is not None:
            _kill_group(process.pid)
        if self._log_task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._log_task, 1.0)
            self._log_task = None


async def _end_stale(pid_file: Path, cfg: Path) -> None:
    """Stop a kamailio a killed sidecar left running on this configuration."""
    pid = await asyncio.to_thread(_stale_pid, pid_file, cfg)
    if pid is None:
        return
    _LOGGER.warning("stopping the SIP edge (kamailio, pid %d) that a previous sidecar left running", pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_main_exited(pid), _STOP_S)
    _kill_group(pid)


def _stale_pid(pid_file: Path, cfg: Path) -> int | None:
    """Return the pid in the file if that process still runs kamailio on ``cfg`` (a pid may have been reused)."""
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None  # no pid file, or that process is gone
    return pid if str(cfg).encode() in argv else None


async def _main_exited(pid: int) -> None:
    """Return once process ``pid`` has exited (``Process.wait`` also waits for the pipes it shares with children)."""
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not exited.done():
            exited.set_result(None)

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop.add_reader(fd, readable)
    try:
        await exited
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _kill_group(pid: int) -> None:
    """SIGKILL kamailio's process group (its own session, so only kamailio's processes)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class LogLimiter:
    """A token bucket for kamailio's log: a flood of bad packets must not become a flood of log lines.

    kamailio logs every unparsable datagram at ERROR level; 10,000 of them gave 40,000 lines. Up to ``burst``
    lines pass at once and ``rate`` per second after that; the rest are counted and reported in one line.
    """

    def __init__(self, rate: float = 20.0, burst: float = 200.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._tokens, self._last = burst, clock()
        self.suppressed = 0

    def allow(self) -> bool:
        """Return whether the next line may be logged."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self.suppressed += 1
        return False


async def _forward_log(stream: asyncio.StreamReader) -> None:
    """Copy kamailio's stderr into Python logging, line by line, at kamailio's own level, rate-limited."""
    limiter = LogLimiter()
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a line over the reader's limit: skip it rather than stall kamailio on a full pipe
            continue
        if not line:
            break
        text = line.decode("utf-8", "replace").rstrip()
        if not text or not limiter.allow():
            continue
        if limiter.suppressed:
            _KAMAILIO_LOGGER.warning("%d kamailio log lines suppressed (log flood)", limiter.suppressed)
            limiter.suppressed = 0
        match = _LEVEL.search(text)
        _KAMAILIO_LOGGER.log(_LEVELS[match.group(1)] if match else logging.INFO, "%s", text)
    if limiter.suppressed:
        _KAMAILIO_LOGGER.warning("%d kamailio log lines suppressed (log flood)", limiter.suppressed)


def _last_lines(output: bytes, count: int = 6) -> str:
    lines = [line for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    return " | ".join(lines[-count:])

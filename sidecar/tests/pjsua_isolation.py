"""Keep PJSUA2 out of the pytest process: test files that need it in-process run in a child pytest.

A native crash in libpjsua (a PJSIP assertion, a segmentation fault) ends the process it happens in. In the pytest
process that is every later test and the CI run's report with it; in a child pytest it is one failed item that
says how the child died, and the run goes on. The product does the same (``WorkerPoolEngine``).

- Files in ``IN_CHILD`` (tests of ``PjsuaEngine`` itself and of the modules that import ``pjsua2``) are collected
  in this process as one item each that runs ``python -m pytest FILE`` in a child with the same ``-m``/``-k``
  selection and shows the child's report when it fails. In the child (``HOLD_SLAYER_PJSUA_CHILD=1``) they run
  as ordinary tests, so ``HOLD_SLAYER_PJSUA_CHILD=1 pytest tests/sip/test_sip_calls.py::test_x`` runs one
  in-process test directly.
- Every other test must leave ``pjsua2`` unimported: ``no_pjsua2_in_the_pytest_process`` (autouse) fails the
  first test after which it is in ``sys.modules`` (or the first test, if collection imported it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHILD_ENV = "HOLD_SLAYER_PJSUA_CHILD"
IN_CHILD = frozenset(
    {
        # PjsuaEngine in this process (the default ``engine`` fixture, or built by the test)
        "tests/sip/test_sip_bridge.py",
        "tests/sip/test_sip_calls.py",
        "tests/sip/test_sip_hostile.py",
        "tests/sip/test_sip_lifecycle.py",
        "tests/sip/test_sip_rtp_filter.py",
        "tests/sip/test_sip_sipp.py",
        "tests/sip/test_sip_slots.py",
        # unit tests of modules that import pjsua2 (sip.calls, sip.core, sip.media, sip.rtp_filter, sip.wiring)
        "tests/sip/test_sip_helpers.py",
        "tests/sip/test_sip_port_lifetime.py",
        "tests/sip/test_sip_rtp_filter_sockets.py",
        "tests/sip/test_sip_rtp_filter_watch.py",
    }
)
# A child runs a whole file, each of its tests under pytest-timeout's own limit (300 s); this bounds the file.
CHILD_TIMEOUT_S = 1800
REPORT_TAIL_LINES = 150


def in_child() -> bool:
    """Whether this pytest process is a child started for the files that need PJSUA2 in-process."""
    return os.environ.get(CHILD_ENV) == "1"


def signal_name(number: int) -> str:
    """SIGSEGV for 11; a number the signal module does not know stays a number."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class ChildFailed(Exception):
    """The child pytest failed or died; its report is the message."""


class ChildFile(pytest.File):
    """A test file that runs in a child pytest."""

    def collect(self) -> Iterator[pytest.Item]:
        yield ChildRun.from_parent(self, name="child pytest")


class ChildRun(pytest.Item):
    """One child pytest over a whole file."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(pytest.mark.timeout(CHILD_TIMEOUT_S))
        self.summary = ""

    def runtest(self) -> None:
        config = self.config
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", str(self.path)]
        if config.option.markexpr:
            args += ["-m", config.option.markexpr]
        if config.option.keyword:
            args += ["-k", config.option.keyword]
        env = {**os.environ, CHILD_ENV: "1"}
        done = subprocess.run(
            args,
            cwd=config.rootpath,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        output = (done.stdout + done.stderr).rstrip()
        lines = output.splitlines()
        self.summary = lines[-1] if lines else ""
        if done.returncode == pytest.ExitCode.NO_TESTS_COLLECTED:
            pytest.skip("no test selected in the child")
        if done.returncode != 0:
            code = done.returncode
            how = f"killed by {signal_name(-code)}" if code < 0 else f"exit code {code}"
            tail = "\n".join(lines[-REPORT_TAIL_LINES:])
            raise ChildFailed(f"child pytest of {self.path.name}: {how}\n{tail}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ChildFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name} in a child pytest"


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.File | None:
    """Collect an ``IN_CHILD`` file as one child run (in the parent process only)."""
    root = parent.config.rootpath
    if in_child() or not module_path.is_relative_to(root) or module_path.relative_to(root).as_posix() not in IN_CHILD:
        return None
    return ChildFile.from_parent(parent, path=module_path)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List what each child pytest reported (its tests are not counted in this process's summary line)."""
    runs = [
        report
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", "") == "call" and report.nodeid.endswith("::child pytest")
    ]
    if runs:
        terminalreporter.section("PJSUA2 in child pytest processes")
        for report in sorted(runs, key=lambda r: r.nodeid):
            summary = dict(report.user_properties).get("summary", report.outcome)
            terminalreporter.write_line(f"{report.nodeid.split('::')[0]}: {summary}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach each child's own summary line to its report (shown by ``pytest_terminal_summary``)."""
    report = yield
    if isinstance(item, ChildRun) and call.when == "call" and item.summary:
        report.user_properties.append(("summary", item.summary))
    return report


_reported: list[bool] = []  # set once the guard has failed a test: one failure says it, not every later test


@pytest.fixture(autouse=True)
def no_pjsua2_in_the_pytest_process() -> Iterator[None]:
    """Fail the test after which ``pjsua2`` is loaded in this (parent) pytest process."""
    loaded_before = "pjsua2" in sys.modules
    yield
    if in_child() or _reported or "pjsua2" not in sys.modules:
        return
    _reported.append(True)
    when = "by collection (a test module, conftest or helper imports it)" if loaded_before else "by this test"
    pytest.fail(
        f"pjsua2 was imported into the pytest process {when}: a native crash there would end the whole run. "
        "Use WorkerPoolEngine or a peer subprocess (sip_harness.PeerProcess), or list the file in "
        "tests/pjsua_isolation.py IN_CHILD."
    )

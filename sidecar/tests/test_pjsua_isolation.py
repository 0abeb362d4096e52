"""The pytest process never hosts PJSUA2: a native crash in a child pytest fails one item and the run goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pjsua_isolation import CHILD_ENV

TESTS = Path(__file__).parent


def test_this_pytest_process_has_not_loaded_pjsua2() -> None:
    assert "pjsua2" not in sys.modules


def test_a_segfault_in_a_child_file_fails_that_file_only_and_a_stray_import_is_caught(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\npythonpath = {TESTS}\n")
    sip = tmp_path / "tests" / "sip"
    sip.mkdir(parents=True)
    (tmp_path / "tests" / "conftest.py").write_text(
        "from pjsua_isolation import (  # noqa: F401\n"
        "    no_pjsua2_in_the_pytest_process, pytest_pycollect_makemodule, pytest_runtest_makereport,\n"
        "    pytest_terminal_summary,\n"
        ")\n"
    )
    # A file listed in IN_CHILD whose test dies the way libpjsua once did: the parent must survive it.
    (sip / "test_sip_slots.py").write_text(
        "import os, signal\n\ndef test_crash():\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    (tmp_path / "tests" / "test_later.py").write_text("def test_runs_after_the_crash():\n    pass\n")
    (tmp_path / "tests" / "test_stray.py").write_text(
        "def test_imports_pjsua2():\n    import pjsua2  # noqa: F401\n\ndef test_next():\n    pass\n"
    )
    env = {key: value for key, value in os.environ.items() if key != CHILD_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "child pytest of test_sip_slots.py: killed by SIGSEGV" in out, out
    assert "PASSED tests/test_later.py::test_runs_after_the_crash" in out, out
    assert "ERROR tests/test_stray.py::test_imports_pjsua2 - Failed: pjsua2 was imported" in out, out
    assert "PASSED tests/test_stray.py::test_next" in out, out  # reported once, at the test that did it

"""sipvicious against the edge, as scanners on the internet run it.

svmap finds the edge, svwar guesses extensions with INVITE (the scan that used to abort PJSUA2 after 32
requests), svcrack guesses a password.
Debian's ``sipvicious`` package (installed by scripts/setup). Each run is bounded (a fixed range, a timeout).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from .chaos_stage import Outcome, Stage

SCAN_LIMIT_S = 60.0  # a bounded range at the tools' default pacing ends in seconds; this only stops a hang
SVWAR_EXTENSIONS = "100-399"  # 300 INVITEs: ten times what used to abort PJSUA2
SVCRACK_PASSWORDS = "1000-1299"  # 300 digest attempts for one extension
# One address per tool, none the SIPp attacks use: pike's count starts fresh for each tool.
SCANNER_IPS = ("127.0.0.5", "127.0.0.6", "127.0.0.7")


async def run_tool(workdir: Path, name: str, *args: str) -> tuple[int, str]:
    """Run one sipvicious tool (bounded); return its exit code and output."""
    log = workdir / f"{name}.log"
    proc = await asyncio.create_subprocess_exec(
        name, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), SCAN_LIMIT_S)
    except TimeoutError:
        proc.kill()
        output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    log.write_text(text)
    return proc.returncode if proc.returncode is not None else -1, text


def last_line(text: str) -> str:
    """Return the tool's last non-empty output line (its verdict), shortened."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no output")[:80]


async def sipvicious(run: Stage) -> Outcome:
    """svmap, svwar -m INVITE and svcrack against the edge, each from its own stranger's address."""
    if shutil.which("svmap") is None:
        return Outcome(0, "sipvicious is not installed (scripts/setup installs it)", failed=("installed",))
    port = str(run.edge_port)
    svmap_ip, svwar_ip, svcrack_ip = SCANNER_IPS
    runs = [
        ("svmap", 1, ["127.0.0.1", "-p", port, "-b", svmap_ip, "-m", "OPTIONS"]),
        ("svmap", 1, ["127.0.0.1", "-p", port, "-b", svmap_ip, "-m", "INVITE"]),
        # --force: svwar stops at once when an unknown extension is refused as a known one would be (403 here).
        ("svwar", 300, ["127.0.0.1", "-p", port, "-b", svwar_ip, "-m", "INVITE", "--force", "-e", SVWAR_EXTENSIONS]),
        ("svcrack", 300, ["127.0.0.1", "-p", port, "-b", svcrack_ip, "-u", "alice", "-r", SVCRACK_PASSWORDS]),
    ]
    notes, tries = [], 0
    for tool, count, args in runs:
        code, output = await run_tool(run.workdir, tool, *args)
        tries += count
        notes.append(f"{tool} {args[-2]} {args[-1]}: exit {code}, {last_line(output)!r}")
    return Outcome(tries, "; ".join(notes) + " (svwar: 403 to every INVITE; svcrack: silenced by the flood limit)")

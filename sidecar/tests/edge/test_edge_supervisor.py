"""The supervisor with a real kamailio: it comes up, survives a kill -9, and refuses what cannot run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest
from hold_slayer_sidecar.edge import EdgeSettings, EdgeStartError, EdgeSupervisor
from hold_slayer_sidecar.edge.probe import probe_options

from edge.edge_harness import EdgeRig, free_udp_port, requires_edge_tools

pytestmark = requires_edge_tools


async def test_kamailio_killed_is_restarted_and_answers_again(rig: EdgeRig) -> None:
    first = rig.edge.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    for _ in range(100):  # the supervisor restarts within a second
        await asyncio.sleep(0.05)
        if rig.edge.restarts == 1 and await probe_options("127.0.0.1", rig.port, timeout_s=0.2):
            break
    assert rig.edge.restarts == 1
    assert rig.edge.pid not in (None, first)


async def test_stop_leaves_no_kamailio_behind(tmp_path: Path) -> None:
    edge = EdgeSupervisor(EdgeSettings(port=free_udp_port(), internal_port=free_udp_port()), tmp_path)
    await edge.start()
    pid = edge.pid
    assert pid is not None
    await edge.stop()
    assert edge.pid is None
    assert not await probe_options("127.0.0.1", edge.settings.port, timeout_s=0.3)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # no child of its process group survived either


_HOLDER = """
import asyncio, sys
from pathlib import Path
from hold_slayer_sidecar.edge import EdgeSettings, EdgeSupervisor

async def main() -> None:
    edge = EdgeSupervisor(EdgeSettings(port=int(sys.argv[1]), internal_port=int(sys.argv[2])), Path(sys.argv[3]))
    await edge.start()
    print(edge.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def group_alive(pgid: int, within: float) -> bool:
    """Whether the process group still has a member after ``within`` seconds (SIGKILLed ones are reaped by init)."""
    for _ in range(int(within / 0.05)):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_the_next_start_replaces_the_kamailio_a_killed_sidecar_left(tmp_path: Path) -> None:
    """SIGKILL runs no cleanup: kamailio stays (the workers' BYEs go through it) until the next start ends it."""
    port, internal = free_udp_port(), free_udp_port()
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLDER, str(port), str(internal), str(tmp_path), stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    stale = int(await asyncio.wait_for(holder.stdout.readline(), 30))
    holder.kill()
    await holder.wait()
    edge = EdgeSupervisor(EdgeSettings(port=port, internal_port=internal), tmp_path)
    try:
        await edge.start()
        assert not await group_alive(stale, within=2.0)  # the old kamailio and all its children are gone
        assert edge.pid not in (None, stale)
        assert await probe_options("127.0.0.1", port, timeout_s=1.0)
    finally:
        await edge.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(stale, signal.SIGKILL)


async def test_an_address_kamailio_cannot_bind_fails_start_clearly(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface here.
    edge = EdgeSupervisor(EdgeSettings(host="192.0.2.1", port=5060, internal_port=free_udp_port()), tmp_path)
    with pytest.raises(EdgeStartError, match="kamailio"):
        await edge.start()
    await edge.stop()


async def test_missing_kamailio_is_a_clear_error(tmp_path: Path) -> None:
    edge = EdgeSupervisor(EdgeSettings(kamailio="/nonexistent/kamailio"), tmp_path)
    with pytest.raises(EdgeStartError, match="not installed"):
        await edge.start()

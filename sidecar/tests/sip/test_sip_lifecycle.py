"""Engine lifecycle: many calls in one process, bad input, clean stop with calls up."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.api import LegEventKind, SipError
from hold_slayer_sidecar.sip.engine import PjsuaEngine, target_uri
from hold_slayer_sidecar.sip.settings import SipSettings
from sip_harness import BOTH_ENGINES, TIMEOUT, Engine, EventLog, PeerFactory


@BOTH_ENGINES
@pytest.mark.slow
async def test_twenty_back_to_back_calls_all_work(engine: Engine, events: EventLog, make_peer: PeerFactory) -> None:
    """PJSUA reuses its 4 slot ids: a late-freed Call object must never hang up a newer call."""
    peer = await make_peer("answer")
    previous: str | None = None
    for number in range(20):
        leg = await engine.dial(peer.uri)
        await events.wait(LegEventKind.ANSWERED, leg)
        frames: list[AudioFrame] = []
        engine.subscribe_audio(leg, frames.append)
        if previous is not None:  # overlap calls so slots are reused out of order
            await engine.hang_up(previous)
            assert (await events.wait(LegEventKind.DISCONNECTED, previous)).status_code == 200
        await asyncio.sleep(0.15)
        assert frames, f"call {number} carried no audio"
        assert not events.of(LegEventKind.DISCONNECTED, leg), f"call {number} was dropped"
        previous = leg
    assert previous is not None
    await engine.hang_up(previous)
    await events.wait(LegEventKind.DISCONNECTED, previous)
    assert len(events.of(LegEventKind.ANSWERED)) == 20
    assert all(e.status_code == 200 for e in events.of(LegEventKind.DISCONNECTED))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("sip:ivr@127.0.0.1:5062", ("sip:ivr@127.0.0.1:5062", False)),
        ("SIPS:bob@example.com", ("sips:bob@example.com", False)),
        ("+1 (800) 555-0100", ("sip:+18005550100@trunk.example", True)),
    ],
)
def test_dial_targets(target: str, expected: tuple[str, bool]) -> None:
    assert target_uri(target, "trunk.example") == expected


@pytest.mark.parametrize("target", ["911", "112", "sip:911@127.0.0.1", "9911", "tel:999"])
def test_emergency_numbers_are_refused(target: str) -> None:
    with pytest.raises(SipError, match="emergency"):
        target_uri(target, "trunk.example")


# Vertical service codes change the user's own line (*72 forwards it elsewhere): not a company to call.
@pytest.mark.parametrize("target", ["", "bank", "http://x", "12ab", "*72#", "*67 555 0100"])
def test_bad_targets_are_refused(target: str) -> None:
    with pytest.raises(SipError):
        target_uri(target, "trunk.example")


@BOTH_ENGINES
async def test_numbers_need_a_trunk_and_bad_input_is_refused(engine: Engine) -> None:
    with pytest.raises(SipError, match="no SIP trunk"):
        await engine.dial("18005550100")
    with pytest.raises(SipError, match="emergency"):
        await engine.dial("911")
    with pytest.raises(SipError, match="unknown"):
        engine.subscribe_audio("leg-999", lambda _f: None)
    with pytest.raises(SipError):
        await engine.send_dtmf("leg-999", "1", DtmfMethod.RFC2833)
    with pytest.raises(SipError, match="invalid DTMF"):
        await engine.send_dtmf("leg-999", "1x", DtmfMethod.RFC2833)
    with pytest.raises(SipError):
        await engine.answer("leg-999")
    await engine.hang_up("leg-999")  # idempotent: no error


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="max_calls"):
        SipSettings(max_calls=5)
    with pytest.raises(ValueError, match="username"):
        SipSettings(registrar="sip:pbx.example")
    assert SipSettings(registrar="sip:pbx.example:5060;transport=udp", username="u").trunk_domain == "pbx.example:5060"


async def test_engine_refuses_work_when_not_started() -> None:
    engine = PjsuaEngine(SipSettings())
    with pytest.raises(SipError, match="not started"):
        await engine.dial("sip:a@127.0.0.1")
    await engine.stop()  # harmless
    assert engine.local_port == 0


async def test_port_in_use_gives_sip_error(engine: Engine) -> None:
    """A second engine cannot live in this process, so the clash is checked in a subprocess."""
    code = (
        "import asyncio,sys\n"
        "from hold_slayer_sidecar.sip.engine import PjsuaEngine\n"
        "from hold_slayer_sidecar.sip.settings import SipSettings\n"
        "from hold_slayer_sidecar.sip.api import SipError\n"
        "async def main():\n"
        f"    e = PjsuaEngine(SipSettings(port={engine.local_port}))\n"
        "    try:\n"
        "        await e.start()\n"
        "    except SipError as err:\n"
        "        print('SIPERROR', err, file=sys.stderr); return 3\n"
        "    await e.stop(); return 0\n"
        "sys.exit(asyncio.run(main()))\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 3, err.decode(errors="replace")
    assert b"SIPERROR cannot bind" in err


async def test_process_with_calls_up_stops_cleanly(make_peer: PeerFactory, tmp_path: Path) -> None:
    """A script that stops its engine mid-call (with taps, a player and a recording) exits with 0."""
    peer = await make_peer("answer")
    code = (
        "import asyncio,sys,numpy as np\n"
        "from pathlib import Path\n"
        "from hold_slayer_sidecar.sip.engine import PjsuaEngine\n"
        "from hold_slayer_sidecar.sip.settings import SipSettings\n"
        "async def main():\n"
        "    e = PjsuaEngine(SipSettings())\n"
        "    await e.start()\n"
        "    answered = asyncio.Event()\n"
        "    e.subscribe_events(lambda ev: answered.set() if ev.kind == 'answered' else None)\n"
        f"    legs = [await e.dial('{peer.uri}') for _ in range(2)]\n"
        "    await asyncio.wait_for(answered.wait(), 5)\n"
        "    await asyncio.sleep(0.3)\n"
        "    for leg in legs: e.subscribe_audio(leg, lambda f: None)\n"
        f"    await e.start_recording(legs[0], Path('{tmp_path}/x.wav'))\n"
        "    asyncio.ensure_future(e.play(legs[0], np.zeros(80000, np.int16), 8000))\n"
        "    await asyncio.sleep(0.3)\n"
        "    await e.stop()\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, err.decode(errors="replace")
    assert (tmp_path / "x.wav").stat().st_size > 44
    await peer.wait_event(lambda _e: len(peer.legs("disconnected")) == 2)


async def test_one_engine_per_process_and_restart_after_stop(engine: Engine) -> None:
    second = PjsuaEngine(SipSettings())
    with pytest.raises(SipError, match="one endpoint per process"):
        await second.start()
    await engine.stop()
    await second.start()  # the slot is free again
    assert second.local_port > 0
    await second.stop()
    await engine.start()  # and a stopped engine can start again (the fixture stops it)
    assert engine.running


async def test_forgotten_stop_still_exits_cleanly(make_peer: PeerFactory) -> None:
    """An owner that never calls stop(): the atexit safety net tears PJSIP down, exit code 0."""
    peer = await make_peer("answer")
    code = (
        "import asyncio\n"
        "from hold_slayer_sidecar.sip.engine import PjsuaEngine\n"
        "from hold_slayer_sidecar.sip.settings import SipSettings\n"
        "async def main():\n"
        "    e = PjsuaEngine(SipSettings())\n"
        "    await e.start()\n"
        f"    leg = await e.dial('{peer.uri}')\n"
        "    e.subscribe_audio(leg, lambda f: None)\n"
        "    await asyncio.sleep(0.5)\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, err.decode(errors="replace")
    await peer.wait_leg("disconnected")


async def test_cancelled_start_tears_down_and_frees_the_process_slot() -> None:
    first = PjsuaEngine(SipSettings())
    task = asyncio.ensure_future(first.start())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not first.running
    second = PjsuaEngine(SipSettings())
    await asyncio.wait_for(second.start(), TIMEOUT)
    await second.stop()


@pytest.mark.slow
async def test_a_caller_ringing_back_at_once_is_never_declined(
    engine: Engine, events: EventLog, make_peer: PeerFactory
) -> None:
    """We hang up while the next INVITE is on its way: the new call takes the slot just freed, and releasing the
    old Call object must not hang it up ("603 Decline" before anyone answered)."""
    peer = await make_peer("none")
    target = f"sip:bank@127.0.0.1:{engine.local_port}"
    # PJSUA hands out slot ids in turn: with the other slots busy, the next call must take the one just freed.
    for held in range(2):
        await peer.request("dial", target=target)
        await engine.answer((await events.wait_count(LegEventKind.INCOMING, held + 1)).leg_id)
    peer_leg = await peer.request("dial", target=target)
    for number in range(2, 14):
        incoming = await events.wait_count(LegEventKind.INCOMING, number + 1)
        await engine.answer(incoming.leg_id)
        await events.wait(LegEventKind.ANSWERED, incoming.leg_id)
        await peer.wait_leg("answered", peer_leg)
        # The engine hangs up while the same caller is already calling again.
        peer_leg, _ = await asyncio.gather(peer.request("dial", target=target), engine.hang_up(incoming.leg_id))
        await events.wait(LegEventKind.DISCONNECTED, incoming.leg_id)
    incoming = await events.wait_count(LegEventKind.INCOMING, 15)
    await engine.answer(incoming.leg_id)
    await events.wait(LegEventKind.ANSWERED, incoming.leg_id)
    await peer.wait_leg("answered", peer_leg)
    declined = [e for e in events.of(LegEventKind.DISCONNECTED) if e.status_code == 603]
    assert not declined, f"calls declined by a released Call object: {declined}"

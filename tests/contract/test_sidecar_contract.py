"""Contract: the integration's real client against the REAL sidecar process (no fakes on either side)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import typing
from pathlib import Path

import aiohttp
import pytest

from custom_components.hold_slayer import protocol
from custom_components.hold_slayer.client import (
    HoldSlayerAuthenticationError,
    HoldSlayerClient,
    HoldSlayerCommandError,
    HoldSlayerVersionError,
    SidecarEvent,
)

from .conftest import REPO, SIDECAR_PYTHON, RunningSidecar

pytestmark = pytest.mark.slow
# Nothing answers SIP on the discard port: over UDP the INVITE retransmits until timer B fires
# (64*T1 = 32 s, RFC 3261 section 17.1.1.2), then the call fails.
UNREACHABLE = "sip:nobody@127.0.0.1:9"
# Over TCP the refused connection fails the leg at once.
UNREACHABLE_TCP = "sip:nobody@127.0.0.1:9;transport=tcp"


def _client(sidecar: RunningSidecar, session: aiohttp.ClientSession, token: str | None = None) -> HoldSlayerClient:
    return HoldSlayerClient(sidecar.host, sidecar.port, token or sidecar.token, session, client_name="contract-test")


def _required_keys(typed_dict: type) -> set[str]:
    """Return a TypedDict's keys that are not NotRequired (protocol.py's annotations are strings)."""
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    return {key for key, hint in hints.items() if typing.get_origin(hint) is not typing.NotRequired}


async def test_handshake(real_sidecar: RunningSidecar, session: aiohttp.ClientSession) -> None:
    client = _client(real_sidecar, session)
    welcome = await client.connect()
    assert welcome.protocol == protocol.PROTOCOL_VERSION
    assert welcome.sidecar_version
    assert set(welcome.snapshot) >= {"sidecar", "calls"}
    assert welcome.snapshot["calls"] == []
    assert set(welcome.snapshot["sidecar"]) >= _required_keys(protocol.SidecarInfo)
    await client.disconnect()


async def test_wrong_token_refused(real_sidecar: RunningSidecar, session: aiohttp.ClientSession) -> None:
    with pytest.raises(HoldSlayerAuthenticationError):
        await _client(real_sidecar, session, token="wrong").connect()


async def test_version_mismatch_by_hand(real_sidecar: RunningSidecar, session: aiohttp.ClientSession) -> None:
    url = f"ws://{real_sidecar.host}:{real_sidecar.port}{protocol.WS_PATH}"
    async with session.ws_connect(url) as ws:
        await ws.send_str(
            protocol.encode({"type": "hello", "token": real_sidecar.token, "protocol": 999, "client": "x"})
        )
        reply = protocol.decode(await ws.receive_str(timeout=5))
        assert reply["type"] == "error"
        assert reply["code"] == protocol.ErrorCode.VERSION_MISMATCH
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == protocol.CLOSE_VERSION_MISMATCH


async def test_version_mismatch_reported_by_client(
    real_sidecar: RunningSidecar, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", 999)
    with pytest.raises(HoldSlayerVersionError):
        await _client(real_sidecar, session).connect()


async def test_commands_acknowledged(real_sidecar: RunningSidecar, session: aiohttp.ClientSession) -> None:
    client = _client(real_sidecar, session)
    await client.connect()
    await client.ping()
    snapshot = await client.get_snapshot()
    assert snapshot["calls"] == []

    with pytest.raises(HoldSlayerCommandError) as err:
        await client.send_dtmf("no-such-call", "1")
    assert err.value.code == protocol.ErrorCode.NOT_FOUND

    with pytest.raises(HoldSlayerCommandError) as err:
        await client.place_call("911")
    assert err.value.code == protocol.ErrorCode.EMERGENCY_NUMBER
    with pytest.raises(HoldSlayerCommandError) as err:
        await client.place_call("sip:112@127.0.0.1")
    assert err.value.code == protocol.ErrorCode.EMERGENCY_NUMBER

    with pytest.raises(HoldSlayerCommandError) as err:
        await client.send_dtmf("no-such-call", "not digits")
    assert err.value.code == protocol.ErrorCode.INVALID_DATA

    with pytest.raises(HoldSlayerCommandError) as err:
        await client.request("make_coffee")
    assert err.value.code == protocol.ErrorCode.UNKNOWN_COMMAND

    with pytest.raises(HoldSlayerCommandError) as err:
        await client.hang_up("no-such-call")
    assert err.value.code == protocol.ErrorCode.NOT_FOUND
    await client.disconnect()


async def test_call_flows_round_trip(real_sidecar: RunningSidecar, session: aiohttp.ClientSession) -> None:
    client = _client(real_sidecar, session)
    events: list[SidecarEvent] = []
    client.subscribe_events(events.append)
    await client.connect()
    listed = await client.list_call_flows()
    assert isinstance(listed.get("flows"), list)
    with pytest.raises(HoldSlayerCommandError) as err:
        await client.get_call_flow("no-such-flow")
    assert err.value.code == protocol.ErrorCode.NOT_FOUND
    with pytest.raises(HoldSlayerCommandError) as err:
        await client.save_call_flow({"not": "a flow"})
    assert err.value.code == protocol.ErrorCode.INVALID_DATA
    history = await client.get_history(5)
    assert isinstance(history, dict)
    await client.disconnect()


async def test_unreachable_call_reports_states_to_failed(
    real_sidecar: RunningSidecar, session: aiohttp.ClientSession
) -> None:
    await _assert_call_fails(real_sidecar, session, UNREACHABLE, wait_s=60)


async def test_instantly_failing_call_reports_failed(
    real_sidecar: RunningSidecar, session: aiohttp.ClientSession
) -> None:
    await _assert_call_fails(real_sidecar, session, UNREACHABLE_TCP, wait_s=5)


async def _assert_call_fails(
    real_sidecar: RunningSidecar, session: aiohttp.ClientSession, target: str, wait_s: float
) -> None:
    client = _client(real_sidecar, session)
    events: list[SidecarEvent] = []
    ended = asyncio.Event()

    def on_event(event: SidecarEvent) -> None:
        events.append(event)
        if event.name == protocol.EventType.CALL_ENDED:
            ended.set()

    client.subscribe_events(on_event)
    await client.connect()
    call_id = await client.place_call(target, company="Nobody Inc", transfer_to="sip:me@127.0.0.1:9")
    try:
        await asyncio.wait_for(ended.wait(), wait_s)
    finally:
        await client.disconnect()

    states = [e.data["state"] for e in events if e.name == protocol.EventType.CALL_STATE]
    assert states[0] == protocol.CallState.DIALING
    assert states[-1] == protocol.CallState.FAILED
    assert all(e.data["call_id"] == call_id for e in events)
    call_ended = next(e for e in events if e.name == protocol.EventType.CALL_ENDED)
    assert call_ended.data["outcome"] == protocol.CallOutcome.FAILED
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
    final = next(e.data for e in reversed(events) if e.name == protocol.EventType.CALL_STATE)
    assert final["company"] == "Nobody Inc"
    assert final["outcome"] == protocol.CallOutcome.FAILED


def test_client_runs_on_sidecar_python(real_sidecar: RunningSidecar, tmp_path: Path) -> None:
    """client.py has no HA imports and no 3.13-only syntax: it handshakes from the sidecar's Python 3.12."""
    package = tmp_path / "hs_client"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("client.py", "protocol.py"):
        shutil.copy(REPO / "custom_components" / "hold_slayer" / name, package / name)
    script = (
        "import asyncio, sys, aiohttp\n"
        "from hs_client.client import HoldSlayerClient\n"
        "async def main():\n"
        "    async with aiohttp.ClientSession() as session:\n"
        "        host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
        "        client = HoldSlayerClient(host, port, token, session)\n"
        "        welcome = await client.connect()\n"
        "        await client.ping()\n"
        "        await client.disconnect()\n"
        "        print(sys.version_info[:2], welcome.protocol)\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [str(SIDECAR_PYTHON), "-c", script, real_sidecar.host, str(real_sidecar.port), real_sidecar.token],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"(3, 12) {protocol.PROTOCOL_VERSION}"

"""Hostile data for every command of the outbound half and history over the real server: a clear error, nothing lost.

The inbound commands have their table in ``inbound/test_commands.py`` and ``configure`` its own against the real
sidecar (``configure/test_configure_sidecar.py``); the last test here checks that no command is left without one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sidecar_harness as harness
from conftest import Rig
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.history.facade import CallsAndHistory
from hold_slayer_sidecar.history.model_summary import ModelSummaries
from hold_slayer_sidecar.history.service import HistoryService
from hold_slayer_sidecar.protocol import Command
from hold_slayer_sidecar.server.app import SidecarServer, build_app
from hold_slayer_sidecar.server.hub import EventHub
from inbound.test_commands import HOSTILE as INBOUND_HOSTILE

TOKEN = "command-data-token-0123456789"

_STR = [1, 1.5, True, [], {}, "x" * 5000]
_ID = [*_STR, None, ""]  # a required id: no value is no id
_INT = [5.5, [], {}, "many"]  # a huge number is past the end of a list or a file: not an error
_WHEN = [[], {}, "yesterday", "2026-13-01T00:00"]
_ZONE = [1, [], "", "x" * 65, "Mars/Olympus", "../../etc/passwd"]

# (command, a valid payload, {field: bad values}); every bad value is refused with invalid_data naming the field.
HOSTILE: list[tuple[str, dict[str, Any], dict[str, list[Any]]]] = [
    (
        Command.PLACE_CALL,
        {"target": "sip:bank@127.0.0.1", "transfer_to": "sip:me@127.0.0.1"},
        {
            "target": _ID,
            "company": _STR,
            "intent": _STR,
            "call_flow": _STR,
            "transfer_to": _STR,
            "unknown": ["x"],
        },
    ),
    (Command.HANG_UP, {"call_id": "c"}, {"call_id": _ID, "unknown": ["x"]}),
    (Command.SEND_DTMF, {"call_id": "c", "digits": "12"}, {"call_id": _ID, "digits": [*_ID, "12x", "1" * 257]}),
    (
        Command.LIST_CALL_FLOWS,
        {},
        {"limit": [*_INT, 0, protocol.MAX_PAGE_SIZE + 1, 10**30], "cursor": [1, [], "", "x" * 65], "company": _STR},
    ),
    (Command.GET_CALL_FLOW, {"id": "f"}, {"id": _ID}),
    (Command.DELETE_CALL_FLOW, {"id": "f"}, {"id": _ID}),
    (
        Command.GET_HISTORY,
        {},
        {
            "limit": [*_INT, 0, protocol.MAX_PAGE_SIZE + 1, 10**30],
            "cursor": [1, [], "", "x" * 65],
            "company": _STR,
            "number": _STR,
            "outcome": _STR,
            "since": _WHEN,
            "until": _WHEN,
        },
    ),
    (Command.GET_CALL, {"call_id": "c"}, {"call_id": _ID, "after_seq": [-1, *_INT]}),
    (Command.GET_STATISTICS, {}, {"time_zone": _ZONE, "company": _STR}),
    (Command.GET_FORECAST, {"company": "Bank"}, {"company": _ID, "time_zone": _ZONE}),
    (
        Command.FETCH_RECORDING,
        {"call_id": "c", "name": "c-mix.wav"},
        {"call_id": _ID, "name": [*_ID, "../hold_slayer.sqlite3", "a/b.wav", "x" * 129], "offset": [-1, *_INT]},
    ),
    (
        Command.SUBMIT_SUMMARY,
        {"call_id": "c", "reply": {}},
        {"call_id": _ID, "reply": ["x", 1, [], None], "source": ["human", 1, None]},
    ),
]
# What answers with no data to check (any data is ignored), the flow (nested: its own test) and the settings
# (checked against the real sidecar, with the registrar and Wyoming peers it needs).
ELSEWHERE = {Command.PING, Command.GET_SNAPSHOT, Command.GET_SETTINGS, Command.SAVE_CALL_FLOW, Command.CONFIGURE}


@pytest.fixture
async def client(rig: Rig, tmp_path: Path) -> AsyncIterator[harness.Client]:
    hub = EventHub()
    rig.manager.subscribe(hub.publish)
    summaries = ModelSummaries(rig.store, rig.manager.publish)
    service = CallsAndHistory(rig.manager, HistoryService(rig.store, tmp_path / "recordings"), summaries)
    server = SidecarServer(build_app(service, hub, token=TOKEN, version="test"), "127.0.0.1", 0)
    await server.start()
    url = f"ws://127.0.0.1:{server.port}{protocol.WS_PATH}"
    async with harness.connect(url, TOKEN, "command-data-test", timeout_s=10) as connected:
        yield connected
    await server.stop()


@pytest.mark.parametrize(("command", "valid", "bad"), HOSTILE, ids=[row[0] for row in HOSTILE])
async def test_malformed_data_is_refused_clearly(
    client: harness.Client, rig: Rig, command: str, valid: dict[str, Any], bad: dict[str, list[Any]]
) -> None:
    """Every wrong type, missing id, huge string or unknown field gets invalid_data naming the field."""
    for field, values in bad.items():
        for value in values:
            error = await client.error(command, {**valid, field: value})
            assert error["code"] == "invalid_data", (field, value, error)
            assert field in error["message"] and len(error["message"]) < 2000, (field, value, error)
    required = [field for field, values in bad.items() if field in valid and None in values]
    for field in required:
        missing = {key: value for key, value in valid.items() if key != field}
        error = await client.error(command, missing)
        assert error["code"] == "invalid_data" and field in error["message"], (field, error)
    assert (await client.ask(Command.PING))["success"] is True  # the connection is still fine
    assert client.of(protocol.EventType.CALL_STATE) == [] and not rig.sip.dialed  # nothing was done


@pytest.mark.parametrize(
    "flow",
    [
        "x",
        1,
        [],
        None,
        {},
        {"id": 1, "name": "Bank", "steps": []},
        {"id": "x" * 65, "name": "Bank", "steps": []},
        {"id": "bank", "name": "Bank", "steps": "hold"},
        {"id": "bank", "name": "Bank", "steps": [{"kind": "fly"}]},
        {"id": "bank", "name": "Bank", "steps": [{"kind": "dtmf"}]},
        {"id": "bank", "name": "Bank", "steps": [{"kind": "wait", "seconds": "long"}]},
        {"id": "bank", "name": "Bank", "steps": [{"kind": "hold"}], "unknown": 1},
    ],
)
async def test_a_malformed_call_flow_is_refused_and_nothing_is_kept(client: harness.Client, flow: Any) -> None:
    error = await client.error(Command.SAVE_CALL_FLOW, {"flow": flow})
    assert error["code"] == "invalid_data" and 0 < len(error["message"]) < 2000, error
    assert (await client.ok(Command.LIST_CALL_FLOWS))["flows"] == []


@pytest.mark.parametrize("command", [Command.PING, Command.GET_SNAPSHOT])
async def test_commands_without_data_ignore_whatever_data_comes(client: harness.Client, command: str) -> None:
    assert (await client.ask(command, {"x" * 1000: ["y" * 10_000], "nested": {"a": [[[]]]}}))["success"] is True


@pytest.mark.parametrize("name", ["", "PING", " ping", "ping ", "__class__", "x" * 100_000, "ping\u0000"])
async def test_an_unknown_command_is_named_as_such_and_the_connection_stays(client: harness.Client, name: str) -> None:
    error = await client.error(name)
    assert error["code"] == "unknown_command", error
    assert (await client.ask(Command.PING))["success"] is True


def test_every_command_has_hostile_data_tests() -> None:
    """A new command must get a row in one of the hostile tables (or say where its data is checked)."""
    tabled = {row[0] for row in HOSTILE} | {row[0] for row in INBOUND_HOSTILE}
    assert set(Command) - tabled - ELSEWHERE == set()

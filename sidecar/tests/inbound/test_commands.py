"""The inbound commands over the real websocket server: round trips, events, snapshot, and hostile data."""

from __future__ import annotations

import time
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
from hold_slayer_sidecar.inbound.service import InboundService
from hold_slayer_sidecar.protocol import Command
from hold_slayer_sidecar.server.app import SidecarServer, build_app
from hold_slayer_sidecar.server.hub import EventHub
from hold_slayer_sidecar.store.inbound import InboundStore, Voicemail

from .fakes import FakeRegistrar
from .rig import rig as inbound_rig

TOKEN = "inbound-commands-token-0123456789"


class Client(harness.Client):
    """The harness's client, with the store, to add voicemails as the handler would."""

    store: InboundStore


@pytest.fixture
async def client(rig: Rig, tmp_path: Path) -> AsyncIterator[Client]:
    hub = EventHub()
    async with inbound_rig(tmp_path, registrar=FakeRegistrar()) as inbound:
        inbound.sinks.append(hub.publish)  # events of the inbound half go to the websocket
        service = InboundService(
            inbound.calls,
            inbound.store,
            recordings_dir=tmp_path / "recordings",
            clock=time.time,
            publish=hub.publish,
        )
        history = HistoryService(rig.store, tmp_path / "recordings")
        summaries = ModelSummaries(rig.store, rig.manager.publish)
        calls = CallsAndHistory(rig.manager, history, summaries, inbound=service)
        server = SidecarServer(build_app(calls, hub, token=TOKEN, version="test"), "127.0.0.1", 0)
        await server.start()
        url = f"ws://127.0.0.1:{server.port}{protocol.WS_PATH}"
        async with harness.connect(url, TOKEN, "inbound-test", timeout_s=10) as connected:
            client = Client(connected.ws, connected.welcome, timeout_s=10)
            client.store = inbound.store
            yield client
        await server.stop()


async def test_snapshot_carries_the_inbound_half(client: Client) -> None:
    """The welcome snapshot has the inbound section."""
    inbound = client.welcome["snapshot"]["inbound"]
    assert inbound == {"global_dnd": False, "devices": [], "calls": [], "unheard_voicemails": 0, "last_caller": None}


async def test_devices_dnd_round_trip(client: Client) -> None:
    """Devices are made with ids, listed in ring order, switched to DND, deleted; each change is an event."""
    kitchen = (
        await client.ok(
            Command.SAVE_DEVICE,
            {"name": "Kitchen", "kind": "sip_uri", "address": "sip:kitchen@192.0.2.5", "priority": 20},
        )
    )["device"]
    mobile = (
        await client.ok(
            Command.SAVE_DEVICE, {"name": "Mobile", "kind": "number", "address": "+1 (555) 123-4567", "priority": 10}
        )
    )["device"]
    assert mobile["address"] == "+15551234567" and len(kitchen["device_id"]) == 12
    desk = await client.ok(Command.SAVE_DEVICE, {"name": "Desk", "kind": "registered"})
    assert desk["credentials"]["password"] and desk["device"]["registered"] is False
    listed = await client.ok(Command.LIST_DEVICES)
    assert [d["name"] for d in listed["devices"]] == ["Mobile", "Kitchen", "Desk"]
    await client.ok(Command.SET_DND, {"device_id": kitchen["device_id"], "enabled": True})
    await client.ok(Command.SET_DND, {"device_id": None, "enabled": True})
    listed = await client.ok(Command.LIST_DEVICES)
    assert listed["global_dnd"] is True and listed["devices"][1]["dnd"] is True
    await client.ok(Command.DELETE_DEVICE, {"device_id": kitchen["device_id"]})
    assert (await client.error(Command.DELETE_DEVICE, {"device_id": kitchen["device_id"]}))["code"] == "not_found"
    snapshot = await client.ok(Command.GET_SNAPSHOT)
    assert snapshot["inbound"]["global_dnd"] is True and len(snapshot["inbound"]["devices"]) == 2
    names = client.event_names()
    assert names.count("device_state") >= 4 and "dnd_changed" in names and "device_deleted" in names


async def test_rules_round_trip_and_route_test(client: Client) -> None:
    """A rule is saved with an id, listed, tested, edited and deleted."""
    rule = (
        await client.ok(
            Command.SAVE_RULE,
            {
                "name": "Toll-free at night",
                "enabled": True,
                "priority": 5,
                "caller_pattern": "+1800*",
                "time_start": "22:00",
                "time_end": "07:00",
                "time_zone": "America/New_York",
                "action": "reject",
            },
        )
    )["rule"]
    assert rule["reject_code"] == 603
    night = await client.ok(Command.TEST_ROUTE, {"caller": "+1 800 555 1234", "at": "2026-06-03T23:30:00-04:00"})
    assert night["decision"]["action"] == "reject" and night["decision"]["rule_id"] == rule["rule_id"]
    day = await client.ok(Command.TEST_ROUTE, {"caller": "+18005551234", "at": "2026-06-03T12:00:00-04:00"})
    assert day["decision"] == {
        "action": "receptionist",
        "rule_id": None,
        "rule_name": None,
        "device_ids": [],
        "reason": "no rule matched: the receptionist answers",
    }
    await client.ok(Command.SAVE_RULE, {"rule": {**rule, "enabled": False}})
    assert (await client.ok(Command.LIST_RULES))["rules"][0]["enabled"] is False
    await client.ok(Command.DELETE_RULE, {"rule_id": rule["rule_id"]})
    assert (await client.ok(Command.LIST_RULES))["rules"] == []
    assert (await client.error(Command.SAVE_RULE, {**rule}))["code"] == "not_found"  # its id is gone
    assert client.event_names().count("rule_saved") == 2 and "rule_deleted" in client.event_names()


async def test_contacts_make_callers_known(client: Client) -> None:
    """set_contacts replaces the list; a contacts-only rule then matches that caller."""
    await client.ok(
        Command.SAVE_RULE,
        {"name": "friends", "enabled": True, "priority": 1, "known_contact": True, "action": "take_message"},
    )
    assert (await client.ok(Command.SET_CONTACTS, {"contacts": [{"name": "Mum", "number": "+44 20 7946 0000"}]})) == {
        "contacts": 1
    }
    routed = await client.ok(Command.TEST_ROUTE, {"caller": "+442079460000"})
    assert routed["decision"]["rule_name"] == "friends"
    await client.ok(Command.SET_CONTACTS, {"contacts": []})
    assert (await client.ok(Command.TEST_ROUTE, {"caller": "+442079460000"}))["decision"]["rule_name"] is None


async def test_voicemails_page_mark_fetch_delete(client: Client, tmp_path: Path) -> None:
    """Voicemails page newest first, are marked heard, fetched like recordings, and deleted with their file."""
    service = client.store
    folder = tmp_path / "recordings" / "2026-06-03"
    folder.mkdir(parents=True)
    for n in range(5):
        wav = folder / f"call{n}-voicemail.wav"
        wav.write_bytes(b"RIFF" + bytes(100))
        await service.add_voicemail(
            Voicemail(f"vm{n}", f"call{n}", "+15550000", None, None, 1_780_000_000.0 + n, 3.0, f"words {n}", str(wav))
        )
    first = await client.ok(Command.LIST_VOICEMAILS, {"limit": 2})
    assert [v["voicemail_id"] for v in first["voicemails"]] == ["vm4", "vm3"] and first["unheard"] == 5
    second = await client.ok(Command.LIST_VOICEMAILS, {"limit": 2, "cursor": first["next_cursor"]})
    assert [v["voicemail_id"] for v in second["voicemails"]] == ["vm2", "vm1"]
    last = await client.ok(Command.LIST_VOICEMAILS, {"limit": 2, "cursor": second["next_cursor"]})
    assert [v["voicemail_id"] for v in last["voicemails"]] == ["vm0"] and last["next_cursor"] is None
    await client.ok(Command.MARK_VOICEMAIL, {"voicemail_id": "vm4", "heard": True})
    chunk = await client.ok(Command.FETCH_RECORDING, {"call_id": "call4", "name": "call4-voicemail.wav"})
    assert chunk["size"] == 104
    await client.ok(Command.DELETE_VOICEMAIL, {"voicemail_id": "vm4"})
    assert not (folder / "call4-voicemail.wav").exists()
    assert (await client.error(Command.MARK_VOICEMAIL, {"voicemail_id": "vm4", "heard": True}))["code"] == "not_found"
    changed = [frame["data"] for frame in client.events if frame["event"] == "voicemail_changed"]
    assert changed[0]["unheard"] == 4 and changed[-1] == {
        "voicemail_id": "vm4",
        "heard": True,
        "deleted": True,
        "unheard": 4,
    }


async def test_calls_not_in_progress_are_not_found(client: Client) -> None:
    """Answering or rejecting a call that is not waiting is a clear not_found."""
    assert (await client.error(Command.ANSWER_INBOUND, {"call_id": "nope", "device_id": "x"}))["code"] == "not_found"
    assert (await client.error(Command.REJECT_INBOUND, {"call_id": "nope"}))["code"] == "not_found"


_STR = [1, 1.5, True, [], {}, "x" * 5000]
_BOOL = ["true", 1, 0, [], {}, "yes"]
_INT = ["5", 5.5, True, [], {}, 10**30]
_FLOAT = ["20", True, [], {}, -1, 1e9]

# (command, a valid payload, {field: bad values}); every bad value must be refused with invalid_data.
HOSTILE: list[tuple[str, dict[str, Any], dict[str, list[Any]]]] = [
    (
        Command.SAVE_DEVICE,
        {"name": "K", "kind": "sip_uri", "address": "sip:k@192.0.2.5"},
        {
            "name": [*_STR, "", None],
            "kind": [*_STR, "phone", None],
            "address": [*_STR, "sip:k@h?X-Route=evil", "sip:911@h", "+1555;x", "", "tel:112"],
            "priority": [*_INT, -1, 1001],
            "ring_timeout_s": [*_FLOAT, 1, 500],
            "dnd": _BOOL,
            "reset_credentials": _BOOL,
            "device_id": [*_STR, "", "../x", "a b"],
            "extra": ["x"],
        },
    ),
    (Command.DELETE_DEVICE, {"device_id": "abc"}, {"device_id": [*_STR, None, ""], "more": [1]}),
    (Command.SET_DND, {"device_id": None, "enabled": True}, {"enabled": [*_BOOL, None], "device_id": _STR}),
    (
        Command.SAVE_RULE,
        {"name": "r", "enabled": True, "priority": 1, "action": "reject"},
        {
            "name": [*_STR, None, ""],
            "enabled": [*_BOOL],
            "priority": [*_INT, -1],
            "action": [*_STR, None, "dial"],
            "caller_pattern": [*_STR, "+1[", "sip:x@y"],
            "dialled_pattern": [*_STR, "]"],
            "time_start": [*_STR, "24:00", "7:00"],
            "time_end": [*_STR, "12:60"],
            "days": [*_STR[:2], "mon", [1], ["xyz"], ["mon"] * 8, {}],
            "time_zone": [*_STR, "Nowhere/City", "/etc/passwd"],
            "known_contact": [*_BOOL],
            "reject_code": [*_INT, 200, 700, 399],
            "reject_message": [*_STR],
            "rule_id": [*_STR[:5], ""],
            "unknown": ["x"],
        },
    ),
    (Command.DELETE_RULE, {"rule_id": "abc"}, {"rule_id": [*_STR, None, ""]}),
    (
        Command.TEST_ROUTE,
        {"caller": "+15551234567"},
        {"caller": [*_STR, None, ""], "dialled": _STR, "at": [1, True, [], {}, "yesterday", "2026-13-01T00:00"]},
    ),
    (
        Command.SET_CONTACTS,
        {"contacts": [{"name": "a", "number": "+1555"}]},
        {
            "contacts": [
                "x",
                {},
                1,
                None,
                [1],
                [{"name": 1, "number": "2"}],
                [{"name": "a"}],
                [{"name": "a", "number": "1", "x": 1}],
                [{"name": "a", "number": "1"}] * 5001,
            ]
        },
    ),
    (
        Command.ANSWER_INBOUND,
        {"call_id": "c", "device_id": "d"},
        {"call_id": [*_STR, None], "device_id": [*_STR, None]},
    ),
    (Command.REJECT_INBOUND, {"call_id": "c"}, {"call_id": [*_STR, None], "to_voicemail": [*_BOOL, None]}),
    (Command.LIST_VOICEMAILS, {}, {"limit": [*_INT, 0, 501], "cursor": [*_STR, ""]}),
    (
        Command.MARK_VOICEMAIL,
        {"voicemail_id": "v", "heard": True},
        {"voicemail_id": [*_STR, None], "heard": [*_BOOL, None]},
    ),
    (Command.DELETE_VOICEMAIL, {"voicemail_id": "v"}, {"voicemail_id": [*_STR, None, ""]}),
    (Command.LIST_DEVICES, {}, {"anything": [1, "x"]}),
    (Command.LIST_RULES, {}, {"anything": [1, "x"]}),
]


@pytest.mark.parametrize(("command", "valid", "bad"), HOSTILE, ids=[row[0] for row in HOSTILE])
async def test_malformed_data_is_refused_clearly(
    client: Client, command: str, valid: dict[str, Any], bad: dict[str, list[Any]]
) -> None:
    """Every wrong type or value of every field gets invalid_data (or emergency_number) naming the field."""
    for field, values in bad.items():
        for value in values:
            error = await client.error(command, {**valid, field: value})
            assert error["code"] in ("invalid_data", "emergency_number"), (field, value, error)
            assert field in error["message"] or field == "contacts", (field, value, error)
    assert (await client.ask(Command.PING))["success"] is True  # the connection is still fine
    assert "device_state" not in client.event_names() and "rule_saved" not in client.event_names()

"""The edge with real kamailio, PJSUA2 workers and SIPp: what passes, what is refused, what a flood does."""

from __future__ import annotations

import asyncio

import pytest

from edge.edge_harness import (
    SCENARIOS,
    STRANGER_IP,
    TRUNK_IP,
    EdgeRig,
    PeerProcess,
    SippRun,
    Trap,
    finished,
    requires_edge_tools,
    start_trunk_worker,
    start_worker,
)

pytestmark = [requires_edge_tools, pytest.mark.slow]


async def test_outbound_call_registers_dials_and_hangs_up_through_the_edge(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun
) -> None:
    uas_port, uas = await sipp("-sf", str(SCENARIOS / "uas_answer.xml"), "-trace_msg", source=TRUNK_IP)
    worker = await start_trunk_worker(rig, peers, sipp, uas_port)
    leg = await worker.request("dial", target="1 800 555 0100")
    await worker.wait_leg("answered", leg)
    await worker.request("hang_up", leg=leg)
    assert (await worker.wait_leg("disconnected", leg))["status_code"] == 200
    assert await finished(uas) == 0
    trace = next(rig.tmp_path.glob("uas_answer_*_messages.log")).read_text()
    # The company saw the edge, not the worker: the INVITE and the BYE came through the public socket.
    assert f"Record-Route: <sip:127.0.0.1:{rig.port};" in trace
    bye = trace[trace.index("BYE sip:") :]
    assert f"Via: SIP/2.0/UDP 127.0.0.1:{rig.port};" in bye.split("\n\n", 1)[0]


async def test_inbound_invite_from_a_stranger_is_refused_and_never_reaches_pjsua(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun
) -> None:
    worker = await start_worker(rig, peers)
    _port, stranger = await sipp("-sf", str(SCENARIOS / "invite_refused.xml"), f"127.0.0.1:{rig.port}")
    assert await finished(stranger) == 0  # it got 403
    _port, trunk = await sipp("-sf", str(SCENARIOS / "uac_call.xml"), f"127.0.0.1:{rig.port}", source=TRUNK_IP)
    assert await finished(trunk) == 0  # the trunk's call was answered and hung up through the edge
    incoming = worker.legs("incoming")
    assert [leg["remote_uri"].split("@")[1].split(":")[0] for leg in incoming] == [TRUNK_IP]


@pytest.mark.parametrize("source", [STRANGER_IP, TRUNK_IP])
async def test_out_of_dialog_message_subscribe_refer_replaces_are_refused_from_anyone(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun, source: str
) -> None:
    worker = await start_worker(rig, peers)
    _port, proc = await sipp("-sf", str(SCENARIOS / "out_of_dialog.xml"), f"127.0.0.1:{rig.port}", source=source)
    assert await finished(proc) == 0  # OPTIONS 200 from the edge; 405 / 403 for the rest (PJSUA would say 200/202)
    assert worker.legs("incoming") == []


async def test_refer_from_the_company_mid_call_is_refused_and_the_call_goes_on(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun, trap: Trap
) -> None:
    refer_to = f"sip:911@127.0.0.9:{trap.port}"
    uas_port, company = await sipp(
        "-sf", str(SCENARIOS / "uas_refer.xml"), "-key", "refer_to", refer_to, source=TRUNK_IP
    )
    worker = await start_trunk_worker(rig, peers, sipp, uas_port)
    leg = await worker.request("dial", target="18005550100")
    await worker.wait_leg("answered", leg)
    assert await finished(company) == 0  # REFER got 403, then the company's BYE reached the worker
    assert (await worker.wait_leg("disconnected", leg))["status_code"] == 200
    assert len(worker.legs("answered")) == 1
    assert trap.received == []  # nothing was sent to the Refer-To target


async def test_invite_flood_from_a_stranger_leaves_pjsua_alive_and_calls_working(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun
) -> None:
    worker = await start_worker(rig, peers)
    # 2,000 INVITEs at 200/s: 403 for the first, silence once pike marks the address; SIPp gives up after 15 s.
    _port, flood = await sipp("-sn", "uac", "-r", "200", f"127.0.0.1:{rig.port}", calls=2000, timeout_s=15)
    await finished(flood, within=30)
    assert worker.legs("incoming") == []
    assert worker.alive
    _port, trunk = await sipp("-sf", str(SCENARIOS / "uac_call.xml"), f"127.0.0.1:{rig.port}", source=TRUNK_IP)
    assert await finished(trunk) == 0
    assert len(worker.legs("answered")) == 1
    await asyncio.sleep(0)


async def test_redirect_to_an_emergency_number_becomes_403_at_the_edge(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun, trap: Trap
) -> None:
    redirect_to = f"sip:911@127.0.0.9:{trap.port}"
    uas_port, company = await sipp(
        "-sf", str(SCENARIOS / "uas_redirect.xml"), "-key", "redirect_to", redirect_to, source=TRUNK_IP
    )
    worker = await start_trunk_worker(rig, peers, sipp, uas_port)
    leg = await worker.request("dial", target="18005550100")
    ended = await worker.wait_leg("disconnected", leg)
    assert (ended["status_code"], ended["reason"]) == (403, "Redirect Refused")
    assert await finished(company) == 0
    assert trap.received == []  # nothing was sent to the redirect target


async def test_call_to_a_sip_uri_leaves_through_the_edge_too(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun
) -> None:
    uas_port, uas = await sipp("-sf", str(SCENARIOS / "uas_answer.xml"), "-trace_msg", source=TRUNK_IP)
    worker = await start_worker(rig, peers)  # no trunk: the user's SIP phone is rung by URI like this
    leg = await worker.request("dial", target=f"sip:alex@{TRUNK_IP}:{uas_port}")
    await worker.wait_leg("answered", leg)
    await worker.request("hang_up", leg=leg)
    await worker.wait_leg("disconnected", leg)
    assert await finished(uas) == 0
    trace = next(rig.tmp_path.glob("uas_answer_*_messages.log")).read_text()
    assert f"Record-Route: <sip:127.0.0.1:{rig.port};" in trace


async def test_invite_flood_from_a_trunk_address_reaches_pjsua_only_at_the_capped_rate(
    rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun
) -> None:
    worker = await start_worker(rig, peers, auto="busy")
    # 300 INVITEs at 100/s from an allowed address (a spoofed trunk): pipelimit passes 5 per second.
    _port, flood = await sipp(
        "-sn", "uac", "-r", "100", f"127.0.0.1:{rig.port}", source=TRUNK_IP, calls=300, timeout_s=6
    )
    await finished(flood, within=20)
    assert worker.alive
    assert 1 <= len(worker.legs("incoming")) <= 5 * (6 + 2)

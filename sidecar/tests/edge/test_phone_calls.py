"""A registered phone is a phone: its calls go out through the trunk (emergency numbers first); no one else's do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from hold_slayer_sidecar.edge.registrar import EdgeRegistrar

from edge.edge_harness import (
    PHONE_IP,
    SCENARIOS,
    TRUNK_IP,
    EdgeRig,
    SippRun,
    Trap,
    call_scenario,
    finished,
    phone_args,
    requires_edge_tools,
)

pytestmark = [requires_edge_tools, pytest.mark.slow]

type StartEdge = Callable[..., Awaitable[tuple[EdgeRig, EdgeRegistrar]]]
ACCOUNT, ACCOUNT_PASSWORD = "alice", "trunk-account-secret"


async def phone_calls(
    sipp: SippRun, rig: EdgeRig, registrar: EdgeRegistrar, dial: str, *, expect: str = "200", waits: bool = False
) -> asyncio.subprocess.Process:
    """A registered SIPp phone dials ``dial``; return its SIPp process (exit 0: it got ``expect``)."""
    creds = await registrar.add_device("kitchen")
    scenario = call_scenario(rig.tmp_path, expect=expect, far_end_hangs_up=waits)
    args = phone_args(creds.username, creds.password, dial=dial)
    _port, phone = await sipp("-sf", str(scenario), *args, f"127.0.0.1:{rig.port}", source=PHONE_IP, timeout_s=10)
    return phone


def trunk_trace(tmp_path: Path, name: str) -> str:
    return next(tmp_path.glob(f"{name}_*_messages.log")).read_text()


async def test_an_emergency_call_from_a_phone_goes_straight_to_the_trunk(
    registrar_edge: StartEdge, sipp: SippRun
) -> None:
    trunk_port, trunk = await sipp("-sf", str(SCENARIOS / "uas_answer.xml"), "-trace_msg", source=TRUNK_IP)
    rig, registrar = await registrar_edge(
        trunk_domain=f"{TRUNK_IP}:{trunk_port}", trunk_username=ACCOUNT, trunk_password=ACCOUNT_PASSWORD
    )
    # The media worker's port, where the routing rules and the receptionist would see a call: a trap.
    transport, worker = await asyncio.get_running_loop().create_datagram_endpoint(
        Trap, local_addr=("127.0.0.1", rig.worker_port)
    )
    try:
        phone = await phone_calls(sipp, rig, registrar, "911")
        assert await finished(phone) == 0  # answered by the trunk, then hung up through the edge
        assert await finished(trunk) == 0  # the trunk saw INVITE, ACK and the phone's BYE
    finally:
        transport.close()
    invite = trunk_trace(rig.tmp_path, "uas_answer").split("INVITE sip:", 1)[1]
    assert invite.startswith(f"911@{TRUNK_IP}:{trunk_port} SIP/2.0")
    assert f"From: <sip:{ACCOUNT}@{TRUNK_IP}:{trunk_port}>" in invite  # as the account, not the phone
    # Straight to the trunk: no rule, no receptionist, no worker saw it (the edge's OPTIONS probes only).
    assert not [d for d in worker.received if not d.startswith(b"OPTIONS ")], worker.received[:1]


async def test_the_far_end_hangs_up_a_phones_call_through_the_edge(registrar_edge: StartEdge, sipp: SippRun) -> None:
    trunk_port, trunk = await sipp("-sf", str(SCENARIOS / "uas_hangup.xml"), source=TRUNK_IP)
    rig, registrar = await registrar_edge(
        trunk_domain=f"{TRUNK_IP}:{trunk_port}", trunk_username=ACCOUNT, trunk_password=ACCOUNT_PASSWORD
    )
    phone = await phone_calls(sipp, rig, registrar, "+1 800 555 0100".replace(" ", "%20"), waits=True)
    assert await finished(phone) == 0  # the trunk's BYE reached the phone (in-dialog, phone-to-trunk dialog)
    assert await finished(trunk) == 0  # and the phone's 200 came back


@pytest.mark.parametrize("dial", ["911", "18005550100"])
async def test_without_a_trunk_a_phones_call_gets_a_clear_503(
    registrar_edge: StartEdge, sipp: SippRun, dial: str
) -> None:
    rig, registrar = await registrar_edge()
    phone = await phone_calls(sipp, rig, registrar, dial, expect="503")
    assert await finished(phone) == 0
    log = next(rig.tmp_path.glob("phone_call_503_*_messages.log"), None)
    assert log is None or "No SIP Trunk Configured" in log.read_text()


async def test_an_ordinary_number_goes_out_as_the_account_answering_the_trunks_challenge(
    registrar_edge: StartEdge, sipp: SippRun, tmp_path: Path
) -> None:
    text = (SCENARIOS / "uas_challenge.xml").read_text().replace("__USER__", ACCOUNT)
    challenge = tmp_path / "uas_challenge.xml"
    challenge.write_text(text.replace("__PASSWORD__", ACCOUNT_PASSWORD))
    trunk_port, trunk = await sipp("-sf", str(challenge), "-trace_msg", source=TRUNK_IP)
    rig, registrar = await registrar_edge(
        trunk_domain=f"{TRUNK_IP}:{trunk_port}", trunk_username=ACCOUNT, trunk_password=ACCOUNT_PASSWORD
    )
    phone = await phone_calls(sipp, rig, registrar, "1-800-555-0100")
    assert await finished(phone) == 0
    assert await finished(trunk) == 0
    trace = trunk_trace(tmp_path, "uas_challenge")
    assert f"INVITE sip:18005550100@{TRUNK_IP}:{trunk_port} SIP/2.0" in trace
    assert "SIP/2.0 403" not in trace  # the second INVITE carried the account's valid credentials


async def test_a_caller_from_the_trunk_cannot_dial_through_the_edge(
    registrar_edge: StartEdge, sipp: SippRun, trap: Trap
) -> None:
    rig, registrar = await registrar_edge(
        trunk_domain=f"127.0.0.9:{trap.port}", trunk_username=ACCOUNT, trunk_password=ACCOUNT_PASSWORD
    )
    creds = await registrar.add_device("kitchen")
    # An INVITE from the trunk's address to an outside number, carrying made-up proxy credentials of a
    # real device: refused (not a registered phone's address), and nothing is sent to the "trunk".
    forged = (
        f'Proxy-Authorization: Digest username="{creds.username}", realm="hold-slayer", nonce="x", '
        'uri="sip:19005550100@127.0.0.1", response="00000000000000000000000000000000"\n      Max-Forwards: 70'
    )
    scenario = rig.tmp_path / "invite_forged_auth.xml"
    scenario.write_text((SCENARIOS / "invite_refused.xml").read_text().replace("Max-Forwards: 70", forged, 1))
    _port, caller = await sipp("-sf", str(scenario), "-s", "19005550100", f"127.0.0.1:{rig.port}", source=TRUNK_IP)
    assert await finished(caller) == 0  # 403
    await asyncio.sleep(0.3)
    assert trap.received == []


async def test_a_forged_in_dialog_request_is_not_relayed_to_outside(
    registrar_edge: StartEdge, sipp: SippRun, trap: Trap
) -> None:
    rig, _registrar = await registrar_edge()
    # A BYE with a To tag and the edge's own Route, naming an outside host: the open relay the phones'
    # dialogs must not open (only a dialog the edge made for a phone's call may leave to the outside).
    forged = rig.tmp_path / "forged_bye.xml"
    forged.write_text(f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="forged in-dialog request">
  <send retrans="500">
    <![CDATA[

      BYE sip:911@127.0.0.9:{trap.port} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:x@[local_ip]>;tag=a1
      To: <sip:911@127.0.0.9>;tag=b2
      Call-ID: [call_id]
      CSeq: 2 BYE
      Route: <sip:127.0.0.1:{rig.port};lr;did=123.456>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="403" />
</scenario>
""")
    _port, stranger = await sipp("-sf", str(forged), f"127.0.0.1:{rig.port}")
    assert await finished(stranger) == 0
    await asyncio.sleep(0.3)
    assert trap.received == []

"""Local phones register to the edge (real kamailio, SIPp as the phone): digest auth, bans, bindings, ringing."""

from __future__ import annotations

import asyncio
import shutil
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.edge.registrar import EdgeRegistrar

from edge.edge_harness import (
    PHONE_IP,
    SCENARIOS,
    STRANGER_IP,
    EdgeRig,
    PeerProcess,
    SippRun,
    finished,
    free_udp_port,
    phone_args,
    phone_scenario,
    requires_edge_tools,
    start_worker,
)

pytestmark = [requires_edge_tools, pytest.mark.slow]

type StartEdge = Callable[..., Awaitable[tuple[EdgeRig, EdgeRegistrar]]]


async def register(
    sipp: SippRun, rig: EdgeRig, username: str, password: str, *, expect: str = "200", source: str = PHONE_IP,
    **keys: Any,
) -> int:  # fmt: skip
    """One REGISTER exchange from a SIPp phone; return SIPp's exit code (0: it got ``expect``)."""
    scenario = phone_scenario(rig.tmp_path, expect=expect)
    args = phone_args(username, password, **keys)
    _port, proc = await sipp("-sf", str(scenario), *args, f"127.0.0.1:{rig.port}", source=source, timeout_s=5)
    return await finished(proc)


async def test_a_phone_registers_with_digest_auth_and_its_binding_is_reported(
    registrar_edge: StartEdge, sipp: SippRun
) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("kitchen")
    assert len(creds.password) >= 20 and creds.username.startswith("hs-")
    assert creds.registrar == f"127.0.0.1:{rig.port}"
    assert (await registrar.registrations())["kitchen"].registered is False
    assert await register(sipp, rig, creds.username, creds.password) == 0
    binding = (await registrar.registrations())["kitchen"]
    assert binding.registered
    assert binding.contact is not None and f"@{PHONE_IP}:" in binding.contact
    assert binding.user_agent == "SIPp phone"
    assert binding.expires_at is not None and 60 < binding.expires_at - time.time() <= 121


async def test_wrong_password_is_challenged_again_and_repeated_failures_ban_the_source(
    registrar_edge: StartEdge, sipp: SippRun
) -> None:
    rig, registrar = await registrar_edge(auth_failures=3)
    creds = await registrar.add_device("kitchen")
    for _ in range(3):
        assert await register(sipp, rig, creds.username, "wrong-password-guess", expect="401") == 0
    # Banned: not even the right password gets an answer from that address now (SIPp times out).
    assert await register(sipp, rig, creds.username, creds.password) != 0
    # Another address (the real phone) is not affected.
    assert await register(sipp, rig, creds.username, creds.password, source="127.0.0.5") == 0


async def test_remaking_credentials_stops_the_old_password_at_once_and_removing_stops_registration(
    registrar_edge: StartEdge, sipp: SippRun
) -> None:
    rig, registrar = await registrar_edge()
    old = await registrar.add_device("kitchen")
    assert await register(sipp, rig, old.username, old.password) == 0
    new = await registrar.add_device("kitchen")  # within the same second as the first write
    assert new.username == old.username and new.password != old.password
    assert (await registrar.registrations())["kitchen"].registered is False  # the old phone's binding is gone
    assert await register(sipp, rig, old.username, old.password, expect="401") == 0
    assert await register(sipp, rig, new.username, new.password) == 0
    await registrar.remove_device("kitchen")
    assert await registrar.registrations() == {}
    assert await register(sipp, rig, new.username, new.password, expect="401") == 0


async def test_a_device_cannot_register_someone_elses_address(registrar_edge: StartEdge, sipp: SippRun) -> None:
    rig, registrar = await registrar_edge()
    mine = await registrar.add_device("kitchen")
    theirs = await registrar.add_device("office")
    assert await register(sipp, rig, mine.username, mine.password, to_user=theirs.username, expect="403") == 0
    assert not any(binding.registered for binding in (await registrar.registrations()).values())


@pytest.mark.parametrize(("asked", "granted"), [(4294967295, 600), (1, 60)])
async def test_expires_abuse_is_clamped(registrar_edge: StartEdge, sipp: SippRun, asked: int, granted: int) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("kitchen")
    assert await register(sipp, rig, creds.username, creds.password, expires=asked) == 0
    binding = (await registrar.registrations())["kitchen"]
    assert binding.expires_at is not None
    assert granted - 5 <= binding.expires_at - time.time() <= granted + 1


async def test_a_huge_contact_list_does_not_make_many_bindings(registrar_edge: StartEdge, sipp: SippRun) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("kitchen")
    extra = "".join(f", <sip:x{index}@127.0.0.9:{5000 + index}>" for index in range(300))
    # RFC 3261 s10.3 step 6 lets a registrar refuse more contacts than it keeps: 503 (registrar max_contacts).
    assert await register(sipp, rig, creds.username, creds.password, more_contacts=extra, expect="503") == 0
    dump = await registrar._rpc.call("ul.dump")
    aors = dump["Domains"][0]["Domain"]["AoRs"]
    assert sum(len(aor["Info"]["Contacts"]) for aor in aors) <= 1
    assert await register(sipp, rig, creds.username, creds.password) == 0  # the edge still works


async def test_a_register_flood_is_dropped_and_a_phone_still_registers(
    registrar_edge: StartEdge, sipp: SippRun
) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("kitchen")
    scenario = phone_scenario(rig.tmp_path, expect="401")
    args = phone_args(creds.username, "guess")
    _port, flood = await sipp(
        "-sf", str(scenario), *args, "-r", "200", f"127.0.0.1:{rig.port}", source=STRANGER_IP, calls=1000,
        timeout_s=8,
    )  # fmt: skip
    await finished(flood, within=30)
    assert rig.edge.pid is not None and rig.edge.restarts == 0
    assert await register(sipp, rig, creds.username, creds.password) == 0


async def test_a_worker_rings_a_registered_phone_through_the_edge(
    registrar_edge: StartEdge, peers: list[PeerProcess]
) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("kitchen")
    # A real user agent as the phone (PJSUA2 on the phone's own address): registers with digest, answers.
    phone = PeerProcess(
        "answer",
        rig.tmp_path / "phone.log",
        {
            "bind_host": PHONE_IP,
            "port": free_udp_port(PHONE_IP),
            "registrar": f"sip:{creds.registrar}",
            "username": creds.username,
            "password": creds.password,
            "domain": creds.domain,
        },
    )
    peers.append(phone)
    await phone.start()
    await wait_registered(registrar, "kitchen")
    worker = await start_worker(rig, peers)
    leg = await worker.request("dial", target=registrar.ring_uri("kitchen"))
    await worker.wait_leg("answered", leg)
    await worker.request("hang_up", leg=leg)
    assert (await worker.wait_leg("disconnected", leg))["status_code"] == 200
    incoming = phone.legs("incoming")
    assert len(incoming) == 1 and incoming[0]["remote_uri"].startswith("sip:holdslayer@")


BARESIP_CONFIG = """\
sip_listen {listen}
sip_trans_def udp
audio_player aufile,/dev/null
audio_alert aufile,/dev/null
audio_source aufile,{wav}
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module account.so
module menu.so
rtp_ports {rtp}-{rtp_end}
"""


@pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip (Debian baresip-core) is not installed")
async def test_a_softphone_registers_and_answers_when_rung(
    registrar_edge: StartEdge, peers: list[PeerProcess], tmp_path: Path
) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("softphone")
    # baresip, a real softphone, set up as a user would from the fields HA shows (auto-answer on).
    home = tmp_path / "baresip"
    home.mkdir()
    rtp = free_udp_port(PHONE_IP)
    listen = f"{PHONE_IP}:{free_udp_port(PHONE_IP)}"
    wav = home / "silence.wav"  # what the phone's microphone hears: 2 s of 8 kHz silence, looped
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(32000))
    (home / "config").write_text(BARESIP_CONFIG.format(listen=listen, rtp=rtp, rtp_end=rtp + 20, wav=wav))
    (home / "accounts").write_text(
        f"<sip:{creds.username}@{creds.domain}>;auth_pass={creds.password};"
        f'outbound="sip:{creds.registrar}";regint=120;answermode=auto\n'
    )
    with (tmp_path / "baresip.log").open("wb") as log:
        phone = await asyncio.create_subprocess_exec(
            "baresip", "-f", str(home), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        await wait_registered(registrar, "softphone")
        binding = (await registrar.registrations())["softphone"]
        assert binding.user_agent is not None and binding.user_agent.startswith("baresip")
        worker = await start_worker(rig, peers)
        leg = await worker.request("dial", target=registrar.ring_uri("softphone"))
        await worker.wait_leg("answered", leg)
        await worker.request("hang_up", leg=leg)
        assert (await worker.wait_leg("disconnected", leg))["status_code"] == 200
    finally:
        phone.terminate()
        await phone.wait()


async def wait_registered(registrar: EdgeRegistrar, device_id: str) -> None:
    """Wait (up to 10 s) until ``device_id`` has a binding."""
    for _ in range(100):
        if (await registrar.registrations())[device_id].registered:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{device_id} never registered")


async def test_ringing_an_unregistered_device_fails_cleanly(
    registrar_edge: StartEdge, peers: list[PeerProcess]
) -> None:
    rig, registrar = await registrar_edge()
    await registrar.add_device("kitchen")
    worker = await start_worker(rig, peers)
    leg = await worker.request("dial", target=registrar.ring_uri("kitchen"))
    ended = await worker.wait_leg("disconnected", leg)
    assert ended["status_code"] == 480


async def test_an_invite_from_an_unregistered_source_to_a_device_is_refused(
    registrar_edge: StartEdge, sipp: SippRun, peers: list[PeerProcess]
) -> None:
    rig, registrar = await registrar_edge()
    creds = await registrar.add_device("kitchen")
    worker = await start_worker(rig, peers)
    uri = registrar.ring_uri("kitchen").replace(f":{rig.edge.settings.internal_port}", f":{rig.port}")
    _port, stranger = await sipp(
        "-sf", str(SCENARIOS / "invite_refused.xml"), "-s", creds.username, uri.split("@")[1], source=STRANGER_IP
    )
    assert await finished(stranger) == 0  # 403
    assert worker.legs("incoming") == []

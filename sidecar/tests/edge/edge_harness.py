"""Helpers for SIP edge tests: a real kamailio on loopback, real PJSUA2 peers and SIPp as the network.

Loopback is a whole /8: the "trunk" speaks from 127.0.0.2, strangers and attackers from 127.0.0.3, so the
edge's per-source rules (allow-list, flood limit) apply as they would on the internet.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.edge import EdgeSupervisor
from sidecar_harness import free_port
from sip_harness import TIMEOUT, PeerProcess

SCENARIOS = Path(__file__).with_name("scenarios")
SIP_SCENARIOS = Path(__file__).parent.parent / "sip" / "scenarios"
TRUNK_IP = "127.0.0.2"
STRANGER_IP = "127.0.0.3"
PHONE_IP = "127.0.0.4"  # a registered desk phone or softphone on the LAN

# CI installs kamailio and SIPp (scripts/setup): there a missing one is a failure, not a skip.
requires_edge_tools = pytest.mark.skipif(
    (shutil.which("kamailio") is None or shutil.which("sipp") is None) and not os.environ.get("CI"),
    reason="kamailio or SIPp (Debian kamailio, sip-tester) is not installed",
)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody listens on (bound then released)."""
    return free_port(socket.SOCK_DGRAM, host)


@dataclass
class EdgeRig:
    """The edge under test, the worker port it forwards to, and the files of the run."""

    edge: EdgeSupervisor
    worker_port: int
    tmp_path: Path

    @property
    def port(self) -> int:
        return self.edge.settings.port

    @property
    def proxy(self) -> str:
        return self.edge.settings.proxy_uri


type SippRun = Callable[..., Awaitable[tuple[int, asyncio.subprocess.Process]]]


async def finished(proc: asyncio.subprocess.Process, within: float = TIMEOUT) -> int:
    """Wait for a SIPp run to end; return its exit code (0: every call went as the scenario says)."""
    return await asyncio.wait_for(proc.wait(), within)


async def start_worker(rig: EdgeRig, peers: list[PeerProcess], auto: str = "answer", **settings: Any) -> PeerProcess:
    """Start a PJSUA2 peer as the edge's worker: loopback only, the edge as its outbound proxy."""
    peer = PeerProcess(
        auto,
        rig.tmp_path / f"worker{len(peers)}.log",
        {"port": rig.worker_port, "edge_proxy": rig.proxy, **settings},
    )
    peers.append(peer)
    await peer.start()
    return peer


async def start_trunk_worker(rig: EdgeRig, peers: list[PeerProcess], sipp: SippRun, call_port: int) -> PeerProcess:
    """A worker registered (through the edge) to a SIPp trunk registrar; numbers go to TRUNK_IP:call_port."""
    scenario = rig.tmp_path / "registrar.xml"
    template = (SIP_SCENARIOS / "registrar.xml").read_text()
    scenario.write_text(template.replace("__USER__", "alice").replace("__PASSWORD__", "secret"))
    registrar_port, registrar = await sipp("-sf", str(scenario), source=TRUNK_IP)
    peer = await start_worker(
        rig,
        peers,
        registrar=f"sip:{TRUNK_IP}:{registrar_port}",
        username="alice",
        password="secret",
        domain=f"{TRUNK_IP}:{call_port}",
    )
    assert await finished(registrar) == 0, "the REGISTER did not pass the edge with its digest challenge"
    return peer


class Trap(asyncio.DatagramProtocol):
    """Collects every datagram sent to it (it stands for 911 or a premium number): there must be none."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.port = 0

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.received.append(data)


def phone_scenario(tmp_path: Path, *, expect: str = "200", answer: bool = False) -> Path:
    """A phone that REGISTERs and expects ``expect``; with ``answer`` it then answers one INVITE."""
    text = (SCENARIOS / "phone.xml").read_text().replace("__EXPECT__", expect)
    if not answer:
        text = text.split("<!-- ANSWER -->")[0] + "</scenario>\n"
    path = tmp_path / f"phone_{expect}_{'answer' if answer else 'register'}.xml"
    path.write_text(text)
    return path


def call_scenario(tmp_path: Path, *, expect: str = "200", far_end_hangs_up: bool = False) -> Path:
    """A phone that registers, then dials [dial] with proxy authentication and expects ``expect``.

    Answered, the phone hangs up after a second, or with ``far_end_hangs_up`` waits for the far end's BYE.
    """
    text = (SCENARIOS / "phone_call.xml").read_text().replace("__REGISTERED__", "200").replace("__EXPECT__", expect)
    cut = "<!-- REFUSED -->" if expect.startswith("2") else "<!-- ANSWERED -->"
    head, _, rest = text.partition(cut)
    text = head + rest.split(cut.replace("<!-- ", "<!-- /"), 1)[1]
    if far_end_hangs_up:
        start, end = text.index('  <pause milliseconds="1000" />'), text.index("<!-- /ANSWERED -->")
        text = text[:start] + _WAIT_FOR_BYE + text[end:]
    path = tmp_path / f"phone_call_{expect}{'_waits' if far_end_hangs_up else ''}.xml"
    path.write_text(text)
    return path


_WAIT_FOR_BYE = """  <recv request="BYE" />

  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def phone_args(
    username: str, password: str, *, to_user: str | None = None, expires: int = 120, more_contacts: str = "",
    dial: str = "911",
) -> list[str]:  # fmt: skip
    """SIPp arguments for the phone scenarios: its credentials and what it puts in its REGISTER."""
    return [
        "-s", username, "-au", username, "-ap", password,
        "-key", "to_user", to_user or username, "-key", "expires", str(expires),
        "-key", "more_contacts", more_contacts, "-key", "dial", dial,
    ]  # fmt: skip

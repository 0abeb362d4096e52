"""The stage of the chaos run: every process it starts on loopback, the client that watches, what an attack reports.

Started, all on 127.0.0.0/8: the sidecar (``python -m hold_slayer_sidecar``, edge on, trunk configured, three
media workers, recording on), a SIPp trunk on 127.0.0.2 (digest registrar, and the far end of every call: a held
call and a hostile company), a trap on 127.0.0.9 that counts every INVITE reaching it (it stands for 911 and a
premium number), a simulated company whose agent answers at once and a simulated user phone that answers and
talks (the bridged call), and a websocket client like Home Assistant's. The sidecar can be killed and started
again on the same ports (``restart_sidecar``), as a supervisor (systemd, the add-on) would.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hold_slayer_sidecar import protocol
from hold_slayer_sim.launch import SimProcess, run_company, run_phone

from hold_slayer_tools.demo import Child, Children, DemoClient, connect, ready_file

from .attacks import SCENARIOS, free_udp_port

TRUNK_IP = "127.0.0.2"
ATTACKER_IP = "127.0.0.3"
SPOOFED_TRUNK_IP = "127.0.0.4"  # listed as a trunk address: what an attacker spoofing the trunk gets
TRAP_IP = "127.0.0.9"
HOLD_NUMBER = "5550100"
HOSTILE_NUMBER = "5550199"  # scenarios/trunk.xml answers this number as the hostile company
AGENT_COMPANY = SCENARIOS / "agent_desk.yaml"  # a person answers at once: the sidecar rings the phone and bridges
HOLD_COMPANY = SCENARIOS / "hold_queue.yaml"  # music for an hour: a call the sidecar knows is on hold
WORKERS = 3  # the held call, the bridged call and the call whose worker is killed: one worker each
MAX_CALLS = 4  # the three above plus the call placed after a kill to show capacity came back (or one on hold)
PHONE_TALK_EVERY_S = 5.0  # the user says "Hello?" this often: the company hears speech through the bridge
ANSWER_WAIT_S = 10.0  # SIPp answers at once; a loaded 2-core machine still connects a call within a second or two
WORKER_RESTARTED = re.compile(r"media worker \d+ restarted \(pid")


@dataclass
class AttackResult:
    """What one attack did."""

    name: str
    tries: int = 0
    crashes: int = 0
    edge_restarts: int = 0
    worker_restarts: int = 0
    collateral_calls_lost: int = 0
    calls_originated_by_attacker: int = 0
    emergency_dialled: int = 0
    connections_wrongly_closed: int = 0
    checks_failed: int = 0  # what the attack itself expected and did not see (listed in the note)
    seconds: float = 0.0
    note: str = ""
    figures: dict[str, float] = field(default_factory=dict)  # measured by the attack (restart_s, ...)


@dataclass(frozen=True)
class Outcome:
    """What an attack reports itself: how much it sent, a note, legitimate connections it cost."""

    tries: int
    note: str
    wrongly_closed: int = 0
    failed: tuple[str, ...] = ()  # checks of the attack's own that did not hold
    collateral: int = 0  # calls lost that the attack did not target, when it targets the held call itself
    figures: dict[str, float] = field(default_factory=dict)


type Attack = Callable[[Stage], Awaitable[Outcome]]


class Trap(asyncio.DatagramProtocol):
    """Counts INVITEs that reach it (it never answers): each one is a call an attacker made us place."""

    def __init__(self) -> None:
        self.invites: list[str] = []

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """Record the request line of an INVITE."""
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        if line.startswith("INVITE "):
            self.invites.append(line)

    @property
    def emergency(self) -> int:
        """INVITEs for the emergency number the hostile company named."""
        return sum(1 for line in self.invites if line.startswith("INVITE sip:911@"))


@dataclass
class Stage:
    """Everything the run started and watches."""

    workdir: Path
    edge_port: int
    trap: Trap
    children: Children
    config: Path
    company: SimProcess
    phone: SimProcess
    sidecar: Child = field(init=False)  # the current one (start_sidecar)
    client: DemoClient = field(init=False)  # connected to the current sidecar (open_client)
    ended: dict[str, str] = field(default_factory=dict)  # call id -> outcome
    reasons: dict[str, str] = field(default_factory=dict)  # call id -> reason it ended
    bridged: set[str] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    ws_url: str = ""
    ws_port: int = 0
    token: str = ""
    hold_call: str = ""
    sidecar_logs: list[Path] = field(default_factory=list)  # of every sidecar this run started, in order
    _client_stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _watcher: asyncio.Task[None] | None = None

    @property
    def company_uri(self) -> str:
        """The SIP URI that reaches the simulated company's agent."""
        return str(self.company.ready["companies"]["agent_desk"])

    @property
    def hold_uri(self) -> str:
        """The SIP URI of the simulated company that keeps a call on hold."""
        return str(self.company.ready["companies"]["hold_queue"])

    @property
    def phone_uri(self) -> str:
        """The SIP URI that rings the simulated user phone."""
        return str(self.phone.ready["uri"])

    async def call_ended(self, call_id: str) -> None:
        """Return once the call has ended."""
        while call_id not in self.ended:
            self.changed.clear()
            await self.changed.wait()

    async def call_bridged(self, call_id: str) -> None:
        """Return once the call has been bridged to the user's phone (or has ended)."""
        while call_id not in self.bridged and call_id not in self.ended:
            self.changed.clear()
            await self.changed.wait()

    def _log_text(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.sidecar_logs if path.exists())

    def edge_restarts(self) -> int:
        """How often the sidecars have restarted kamailio so far (from their logs)."""
        return self._log_text().count("SIP edge restarted")

    def worker_restarts(self) -> int:
        """How often the sidecars' pools have restarted a media worker so far (their log line, sip/pool.py)."""
        return len(WORKER_RESTARTED.findall(self._log_text()))

    async def call_state(self, call_id: str) -> str | None:
        """Return the call's state in a fresh snapshot (None once it is no longer listed)."""
        snapshot = await self.client.request(protocol.Command.GET_SNAPSHOT, {})
        return next((call["state"] for call in snapshot["calls"] if call["call_id"] == call_id), None)

    async def open_client(self) -> None:
        """Connect the watching client to the current sidecar."""
        client, _welcome = await self._client_stack.enter_async_context(connect(self.ws_url, self.token))
        self.client = client
        self._watcher = asyncio.create_task(watch(self), name="chaos watcher")

    async def close_client(self) -> None:
        """Stop watching and close the client's connection."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._client_stack.aclose()

    async def start_sidecar(self) -> dict[str, Any]:
        """Start a sidecar with the run's configuration (the same ports each time); return its ready data."""
        ready_path = self.workdir / "sidecar.ready.json"
        ready_path.unlink(missing_ok=True)
        name = f"sidecar-{len(self.sidecar_logs) + 1}" if self.sidecar_logs else "sidecar"
        self.sidecar = await self.children.spawn(
            name, "-m", "hold_slayer_sidecar", "--config", str(self.config), "--port", str(self.ws_port),
            "--ready-file", str(ready_path),
        )  # fmt: skip
        self.sidecar_logs.append(self.sidecar.log)
        ready = await ready_file(self.sidecar, ready_path)
        self.ws_url = str(ready["ws_url"])
        return ready


def sidecar_config(workdir: Path, edge_port: int, registrar_port: int, trunk_port: int, token: str) -> Path:
    """Write the sidecar's YAML settings: edge on the public port, a trunk at TRUNK_IP, light voice engines."""
    config = {
        "token": token,
        "data_dir": str(workdir / "data"),
        # Only rung if the detector heard a person in SIPp's silence: nobody listens there. The bridged
        # call names the simulated phone in its own transfer_to.
        "user_phone": f"sip:user@{TRAP_IP}:9",
        "max_calls": MAX_CALLS,
        "sip": {
            "bind_host": "127.0.0.1",
            "port": edge_port,
            "registrar": f"sip:{TRUNK_IP}:{registrar_port}",
            "username": "alice",
            "password": "chaos-secret",
            "domain": f"{TRUNK_IP}:{trunk_port}",
            "workers": WORKERS,
        },
        "edge": {
            "enabled": True,
            "internal_port": free_udp_port(),
            "trunk_sources": [TRUNK_IP, SPOOFED_TRUNK_IP],
        },
        # The held call must outlast the run whatever the detector makes of SIPp's silence.
        "timeouts": {"max_ivr_s": 3600, "max_hold_s": 6 * 3600, "max_ring_s": 60},
        # Speech-to-text on: the judge needs words to tell the agent is a person and ring the phone.
        "voice": {"stt": "embedded", "tts": "espeak", "relabel_menus": False},
        # Recorded: a sidecar killed mid-call must leave a playable recording up to the kill.
        "record": True,
    }
    path = workdir / "sidecar.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port nobody listens on (bound then released): the websocket's, kept across restarts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def start_sipp(workdir: Path, name: str, source: str, port: int, *args: str) -> asyncio.subprocess.Process:
    """Start a long-lived SIPp (registrar or trunk far end) on ``source:port``."""
    with (workdir / f"{name}.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            "sipp", *args, "-i", source, "-p", str(port), "-mp", str(free_udp_port(source)), "-nostdin",
            "-timeout", "900", "-trace_err",
            stdout=log, stderr=log, cwd=workdir,
        )  # fmt: skip
    await asyncio.sleep(0.3)  # let it bind
    return proc


@contextlib.asynccontextmanager
async def stage(workdir: Path) -> AsyncIterator[Stage]:
    """Start trap, trunk, simulated company and phone, sidecar and client; stop everything afterwards."""
    loop = asyncio.get_running_loop()
    trap_transport, trap = await loop.create_datagram_endpoint(Trap, local_addr=(TRAP_IP, 0))
    trap_port = int(trap_transport.get_extra_info("sockname")[1])
    registrar_port, trunk_port, edge_port = free_udp_port(TRUNK_IP), free_udp_port(TRUNK_IP), free_udp_port()
    registrar_xml = workdir / "registrar.xml"
    registrar_xml.write_text(
        (SCENARIOS / "registrar.xml").read_text().replace("__USER__", "alice").replace("__PASSWORD__", "chaos-secret")
    )
    trunk_keys = [
        *("-key", "refer_to", f"sip:911@{TRAP_IP}:{trap_port}"),
        *("-key", "premium_to", f"sip:19005550199@{TRAP_IP}:{trap_port}"),
    ]
    sipps = [
        await start_sipp(workdir, "registrar", TRUNK_IP, registrar_port, "-sf", str(registrar_xml), "-m", "1"),
        # -trace_msg: the sidecar-kill attack counts the BYEs the trunk receives (a leg left dangling has none).
        await start_sipp(
            workdir,
            "trunk",
            TRUNK_IP,
            trunk_port,
            "-sf",
            str(SCENARIOS / "trunk.xml"),
            "-m",
            "20",
            "-trace_msg",
            *trunk_keys,
        ),
    ]
    token = secrets.token_urlsafe(32)
    config = sidecar_config(workdir, edge_port, registrar_port, trunk_port, token)
    children = Children(workdir)
    try:
        async with (
            run_company(
                [AGENT_COMPANY, HOLD_COMPANY], report=workdir / "company.jsonl", stt=False,
                stderr=workdir / "company.log",
            ) as company,
            run_phone(
                report=workdir / "phone.jsonl", answer_after=0.5, talk_every=PHONE_TALK_EVERY_S,
                stderr=workdir / "phone.log",
            ) as phone,
        ):  # fmt: skip
            ws_port = free_tcp_port()
            run = Stage(workdir, edge_port, trap, children, config, company, phone, ws_port=ws_port, token=token)
            await run.start_sidecar()
            await run.open_client()
            try:
                yield run
            finally:
                if run.hold_call and run.hold_call not in run.ended and not run.client.closed:
                    with contextlib.suppress(Exception):
                        await run.client.request(protocol.Command.HANG_UP, {"call_id": run.hold_call})
                await run.close_client()
                await children.stop_all()
    finally:
        await children.stop_all()
        for proc in sipps:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        trap_transport.close()


async def watch(run: Stage) -> None:
    """Record every call that ends or is bridged."""
    while True:
        frame = await run.client.events.get()
        event, data = frame.get("event"), frame.get("data") or {}
        if event == protocol.EventType.CALL_ENDED:
            run.ended[data["call_id"]] = str(data.get("outcome"))
            run.reasons[data["call_id"]] = str(data.get("reason"))
            run.changed.set()
        elif event == protocol.EventType.BRIDGED:
            run.bridged.add(str(data["call_id"]))
            run.changed.set()


async def place_held_call(run: Stage) -> None:
    """Place the call no attack targets, and wait until the trunk has answered it."""
    placed = await run.client.request(protocol.Command.PLACE_CALL, {"target": HOLD_NUMBER})
    run.hold_call = placed["call_id"]
    await asyncio.sleep(3.0)  # answered at once by SIPp; the first seconds show whether it stays up
    if run.hold_call in run.ended:
        raise RuntimeError(f"the held call ended before any attack: {run.ended[run.hold_call]}")


async def answered(run: Stage, call_id: str) -> bool:
    """Wait until the far end has answered the call (its state is past dialling and ringing)."""
    deadline = asyncio.get_running_loop().time() + ANSWER_WAIT_S
    while asyncio.get_running_loop().time() < deadline and call_id not in run.ended:
        if await run.call_state(call_id) not in (None, protocol.CallState.DIALING, protocol.CallState.RINGING):
            return True
        await asyncio.sleep(0.2)
    return False


async def hang_up(run: Stage, call_id: str) -> None:
    """End a call the attack placed, and wait (bounded) until it has ended."""
    if call_id not in run.ended:
        with contextlib.suppress(Exception):
            await run.client.request(protocol.Command.HANG_UP, {"call_id": call_id})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.call_ended(call_id), ANSWER_WAIT_S)

"""The inbound half end to end: the real sidecar (PJSUA2 workers), SIPp as the caller and as the phones.

Over loopback SIP: a rule rejects a toll-free number at night in another time zone; the ring chain skips a
DND phone, the first phone declines, the second answers and is bridged; nobody answers and the caller's
spoken message is recorded, transcribed by the sidecar's embedded speech-to-text, and announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.inbound.voicemail import is_silent
from hold_slayer_sidecar.protocol import Command
from sidecar_harness import Client, Sidecar, free_port
from sidecar_harness import connect as harness_connect

from .speech_pcap import rtp_pcap, spoken

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed"),
]
TOKEN = "inbound-e2e-token-0123456789abc"
SCENARIOS = Path(__file__).with_name("scenarios")
MESSAGE = "Hi, this is the dentist about tomorrow's appointment. Please call me back."
GREETING = "Please leave a message."


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The real sidecar with one media worker, no trunk (its SIP port listens on loopback only)."""
    inbound = {"voicemail_greeting": GREETING, "voicemail_silence_s": 8, "voicemail_limit_s": 30, "time_zone": "UTC"}
    process = Sidecar(tmp_path, token=TOKEN, config={"inbound": inbound}, sip_workers=1)
    try:
        yield {**process.wait_ready(), "data": process.data, "log": process.log}
    finally:
        process.stop()


def connect(sidecar: dict[str, Any]) -> contextlib.AbstractAsyncContextManager[Client]:
    """An authenticated client of the sidecar (an answer may take a minute on a loaded machine)."""
    return harness_connect(sidecar["ws_url"], TOKEN, "inbound-e2e", timeout_s=60)


class Sipp:
    """SIPp instances; each must end with exit code 0."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[tuple[asyncio.subprocess.Process, Path]] = []

    async def start(self, *args: str) -> int:
        port = free_port(socket.SOCK_DGRAM)
        log = self.tmp / f"sipp{len(self.procs)}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                "sipp",
                *args,
                "-i",
                "127.0.0.1",
                "-p",
                str(port),
                "-mp",
                str(free_port(socket.SOCK_DGRAM)),
                "-nostdin",
                "-m",
                "1",
                "-timeout",
                "60",
                "-timeout_error",
                "-trace_err",
                stdout=out,
                stderr=out,
                cwd=self.tmp,
            )
        self.procs.append((proc, log))
        await asyncio.sleep(0.3)  # let it bind
        return port

    async def finish(self) -> None:
        for proc, log in self.procs:
            try:
                code = await asyncio.wait_for(proc.wait(), 90)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise
            errors = "".join(p.read_text(errors="replace")[-1500:] for p in self.tmp.glob("*_errors.log"))
            assert code == 0, log.read_text(errors="replace")[-2000:] + errors


def caller_scenario(tmp: Path, caller: str, after_invite: str) -> str:
    text = (SCENARIOS / "uac_caller.xml").read_text()
    path = tmp / f"caller-{time.monotonic_ns()}.xml"
    path.write_text(text.replace("__CALLER__", caller).replace("__AFTER_INVITE__", after_invite))
    return str(path)


_ACK = """
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch__BRANCH__]
      From: "Caller" <sip:__CALLER__@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""
_BYE = """
  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:__CALLER__@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true" />
"""


def rejected_with(code: int) -> str:
    """After the INVITE: the final error, and its ACK (same branch as the INVITE, RFC 3261 s17.1.1.3)."""
    return f'  <recv response="{code}" />\n' + _ACK.replace("__BRANCH__", "-3")


def answered(*middle: str) -> str:
    """After the INVITE: 200, ACK, the given actions, BYE."""
    return (
        '  <recv response="200" rtd="true" crlf="true" />\n' + _ACK.replace("__BRANCH__", "") + "".join(middle) + _BYE
    )


def pause(ms: int) -> str:
    return f'  <pause milliseconds="{ms}" />\n'


def play(pcap: Path) -> str:
    return f'  <nop><action><exec play_pcap_audio="{pcap}" /></action></nop>\n'


async def three_phones(client: Client, sipp: Sipp) -> dict[str, str]:
    """Save three phones: "hall" on DND (nothing listens), "kitchen" declines (603), "office" answers (SIPp)."""
    declining = await sipp.start("-sf", str(SCENARIOS / "uas_decline.xml"))
    answering = await sipp.start("-sn", "uas", "-rtp_echo")
    devices = {}
    for name, port, priority in (
        ("hall", free_port(socket.SOCK_DGRAM), 10),
        ("kitchen", declining, 20),
        ("office", answering, 30),
    ):
        data = {"name": name, "kind": "sip_uri", "address": f"sip:{name}@127.0.0.1:{port}", "priority": priority}
        devices[name] = (await client.ok(Command.SAVE_DEVICE, data))["device"]["device_id"]
    await client.ok(Command.SET_DND, {"device_id": devices["hall"], "enabled": True})
    return devices


def night_zone(now: datetime) -> str:
    """An IANA zone (Etc/GMT±N) where it is 23:00-23:59 now, so a 22:00-06:00 rule holds there."""
    offset = (23 - now.hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-3 is UTC+3


# ----- what the caller said


def voiced_span(pcm: np.ndarray, rate: int = 8000) -> float:
    """Seconds from the first to the last 20 ms frame above the silence level."""
    frames = [pcm[i : i + rate // 50] for i in range(0, len(pcm) - rate // 50 + 1, rate // 50)]
    voiced = [i for i, frame in enumerate(frames) if not is_silent(frame)]
    return (voiced[-1] - voiced[0] + 1) * 0.02 if voiced else 0.0


# ----- the tests


async def test_a_rule_rejects_a_toll_free_number_at_night_in_another_zone(
    sidecar: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    """Toll-free caller, 22:00-06:00 in a zone where it is night now: 603 to the INVITE, nothing answered."""
    zone = night_zone(datetime.now(UTC))
    async with connect(sidecar) as client:
        rule = {
            "name": "Toll-free at night",
            "enabled": True,
            "priority": 1,
            "caller_pattern": "+1800*",
            "time_start": "22:00",
            "time_end": "06:00",
            "time_zone": zone,
            "action": "reject",
        }
        saved = (await client.ok(Command.SAVE_RULE, rule))["rule"]
        noon = datetime(2026, 6, 3, 12, 0, tzinfo=ZoneInfo(zone)).isoformat()
        day = await client.ok(Command.TEST_ROUTE, {"caller": "+18005550100", "at": noon})
        assert day["decision"]["action"] == "receptionist"  # the same caller by day in that zone is not refused
        scenario = caller_scenario(tmp_path, "+18005550100", rejected_with(603))
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{sidecar['sip_port']}")
        await sipp.finish()
        rejected = await client.until(protocol.EventType.INBOUND_REJECTED, 10)
        assert rejected["caller"] == "+18005550100" and rejected["dialled"] == "+15551230000"
        assert rejected["decision"]["rule_id"] == saved["rule_id"] and zone in rejected["decision"]["reason"]


async def test_the_chain_skips_dnd_the_first_phone_declines_the_second_answers(
    sidecar: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    """DND phone never rings, the next declines (603) and the chain moves on at once, the third is bridged."""
    async with connect(sidecar) as client:
        devices = await three_phones(client, sipp)
        await client.ok(Command.SAVE_RULE, {"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        started = time.monotonic()
        scenario = caller_scenario(tmp_path, "+15557654321", answered(pause(2000)))
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{sidecar['sip_port']}")
        answered_call = await client.until(protocol.EventType.INBOUND_ANSWERED, 30)
        assert time.monotonic() - started < 10  # the decline moved the chain on at once, not after 20 s
        assert answered_call["answered_by"] == devices["office"]
        assert answered_call["decision"]["device_ids"] == [devices["kitchen"], devices["office"]]
        await sipp.finish()  # the caller hung up; the office phone got its BYE; the kitchen its ACK
        rang = {d["device_id"] for d in client.of(protocol.EventType.DEVICE_STATE) if d["ringing"]}
        assert devices["hall"] not in rang and devices["kitchen"] in rang


async def test_nobody_answers_the_message_is_recorded_transcribed_and_announced(
    sidecar: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    """Ring out (5 s), greeting and tone, the caller's spoken message kept as a WAV, transcribed, announced."""
    speech = await spoken(MESSAGE)
    pcap = tmp_path / "message.pcap"
    rtp_pcap(speech, pcap)
    ringing = await sipp.start("-sf", str(SCENARIOS / "uas_ring_no_answer.xml"))
    async with connect(sidecar) as client:
        data = {"name": "den", "kind": "sip_uri", "address": f"sip:den@127.0.0.1:{ringing}", "ring_timeout_s": 5}
        await client.ok(Command.SAVE_DEVICE, data)
        await client.ok(Command.SAVE_RULE, {"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        message_ms = int(len(speech) / 8)
        # Answered after ~5 s of ringing; the greeting and tone take ~2 s; then the caller speaks and hangs up.
        scenario = caller_scenario(
            tmp_path, "+15557654321", answered(pause(4000), play(pcap), pause(message_ms + 1000))
        )
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{sidecar['sip_port']}")
        voicemail = await client.until(protocol.EventType.VOICEMAIL, 120)
        await sipp.finish()
        assert voicemail["caller"] == "+15557654321" and voicemail["dialled"] == "+15551230000"
        assert "dentist" in (voicemail["transcript"] or "").lower(), voicemail
        (wav,) = (sidecar["data"] / "recordings").glob(f"*/{voicemail['recording']}")
        assert wav.parent.name == datetime.now(UTC).strftime("%Y-%m-%d")
        with wave.open(str(wav)) as w:
            rate, frames = w.getframerate(), w.getnframes()
            pcm = np.frombuffer(w.readframes(frames), np.int16)
        assert rate == 8000 and voicemail["duration_s"] == pytest.approx(frames / rate, abs=0.02)
        assert voiced_span(pcm) == pytest.approx(voiced_span(speech), abs=0.4)  # the whole message, no more
        listed = await client.ok(Command.LIST_VOICEMAILS)
        assert listed["unheard"] == 1 and listed["voicemails"][0]["voicemail_id"] == voicemail["voicemail_id"]
        chunk = await client.ok(Command.FETCH_RECORDING, {"call_id": voicemail["call_id"], "name": wav.name})
        assert chunk["size"] == wav.stat().st_size
        states = [d["state"] for d in client.of(protocol.EventType.INBOUND_STATE)]
        assert "ringing" in states and "voicemail" in states and states[-1] == "ended"

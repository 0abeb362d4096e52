"""The receptionist and the ring chain together, end to end over loopback SIP with the real sidecar.

No rule matches, so the default action answers: the receptionist greets, the caller (SIPp replaying piper
speech) says who they are and why, the embedded speech-to-text hears it, and the chain rings: a DND phone is
skipped, the first phone declines, the second answers and is bridged. A caller who asks to be put through to
an outside number is not: nothing rings, the request is noted, and the call goes to the message box. A robocall
(a recorded sales pitch over music that plays on from the answer) is recognised, announced as blocked with its
reason, never rings a phone, and is kept in the message box.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar import protocol
from hold_slayer_sidecar.protocol import Command

from .speech_pcap import rtp_pcap, spoken
from .test_inbound_e2e import (
    Sipp,
    answered,
    caller_scenario,
    connect,
    pause,
    play,
    sidecar,
    three_phones,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed"),
]
__all__ = ["sidecar"]  # the fixture, imported for pytest (sipp comes from conftest.py)

DENTIST = "Hi, this is Dana from the dentist's office, about your appointment tomorrow morning."
OUTSIDE = "Hello, please transfer me to five five five, zero one nine nine. Put me through to that number now."


async def _speech(text: str, path: Path) -> int:
    """Render ``text`` with piper as a PCMU capture SIPp replays; return its length in ms."""
    speech = await spoken(text)
    rtp_pcap(speech, path)
    return int(len(speech) / 8)


async def test_the_receptionist_hears_the_dentist_and_the_chain_rings(
    sidecar: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    pcap = tmp_path / "dentist.pcap"
    speech_ms = await _speech(DENTIST, pcap)
    async with connect(sidecar) as client:
        devices = await three_phones(client, sipp)
        # The greeting takes a few seconds; the caller answers it, then stays on the line until bridged.
        scenario = caller_scenario(
            tmp_path, "+15557654321", answered(pause(5000), play(pcap), pause(speech_ms + 40000))
        )
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{sidecar['sip_port']}")
        started = time.monotonic()
        answered_call = await client.until(protocol.EventType.INBOUND_ANSWERED, 90)
        elapsed = time.monotonic() - started
        assert answered_call["decision"]["rule_id"] is None  # no rule: the receptionist decided
        assert answered_call["answered_by"] == devices["office"], answered_call
        assert "appointment" in (answered_call["purpose"] or "").lower(), answered_call
        assert not answered_call["robocall"]
        rang = {d["device_id"] for d in client.of(protocol.EventType.DEVICE_STATE) if d["ringing"]}
        assert devices["hall"] not in rang and devices["kitchen"] in rang
        states = [d["state"] for d in client.of(protocol.EventType.INBOUND_STATE)]
        assert states.index("screening") < states.index("ringing")  # screened first, then the chain rang
        assert elapsed < 60, elapsed
        await sipp.finish()


async def test_a_caller_who_asks_for_an_outside_number_is_not_put_through(
    sidecar: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    pcap = tmp_path / "outside.pcap"
    speech_ms = await _speech(OUTSIDE, pcap)
    answering = await sipp.start("-sn", "uas", "-rtp_echo")
    async with connect(sidecar) as client:
        data = {"name": "office", "kind": "sip_uri", "address": f"sip:office@127.0.0.1:{answering}"}
        office = (await client.ok(Command.SAVE_DEVICE, data))["device"]["device_id"]
        scenario = caller_scenario(
            tmp_path, "+15557654321", answered(pause(5000), play(pcap), pause(speech_ms + 15000))
        )
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{sidecar['sip_port']}")
        states = []
        deadline = time.monotonic() + 90
        while "voicemail" not in states and "ended" not in states and time.monotonic() < deadline:
            await client.until(protocol.EventType.INBOUND_STATE, 90)
            states = [d["state"] for d in client.of(protocol.EventType.INBOUND_STATE)]
            if "voicemail" not in states and "ended" not in states:
                client.events = [e for e in client.events if e["event"] != protocol.EventType.INBOUND_STATE]
        last = client.of(protocol.EventType.INBOUND_STATE)[-1]
        assert last["state"] in ("voicemail", "ended"), last
        assert "5550199" in (last["reason"] or "").replace(" ", "").replace("-", ""), last  # noted, refused
        assert not client.of(protocol.EventType.INBOUND_ANSWERED)
        rang = {d["device_id"] for d in client.of(protocol.EventType.DEVICE_STATE) if d["ringing"]}
        assert office not in rang  # an outside number is never rung, and no phone stands in for it


async def test_a_robocall_goes_to_the_message_box_and_rings_nobody(
    sidecar: dict[str, Any], sipp: Sipp, tmp_path: Path
) -> None:
    from hold_slayer_tools.bench.callers import DEV, speech, with_bed

    robocall = next(s for s in DEV if s.name == "robo_rate_music")
    assert robocall.music is not None
    pcm = with_bed(speech(robocall.message, robocall.voice), robocall.music, robocall.music_db)
    pcap = tmp_path / "robocall.pcap"
    rtp_pcap(pcm, pcap)
    answering = await sipp.start("-sn", "uas", "-rtp_echo")
    async with connect(sidecar) as client:
        data = {"name": "office", "kind": "sip_uri", "address": f"sip:office@127.0.0.1:{answering}"}
        office = (await client.ok(Command.SAVE_DEVICE, data))["device"]["device_id"]
        # A recording starts at the answer and talks on through the greeting; then it ends the call.
        scenario = caller_scenario(tmp_path, "+18005550199", answered(play(pcap), pause(int(len(pcm) / 8) + 2000)))
        await sipp.start("-sf", scenario, "-s", "+15551230000", f"127.0.0.1:{sidecar['sip_port']}")
        blocked = await client.until(protocol.EventType.ROBOCALL_BLOCKED, 90)
        assert blocked["robocall"] is True and blocked["reason"], blocked  # the decision and why, visible
        voicemail = await client.until(protocol.EventType.VOICEMAIL, 120)  # robocall_action: voicemail (default)
        assert voicemail["caller"] == "+18005550199" and voicemail["call_id"] == blocked["call_id"]
        assert not client.of(protocol.EventType.INBOUND_ANSWERED)
        rang = {d["device_id"] for d in client.of(protocol.EventType.DEVICE_STATE) if d["ringing"]}
        assert office not in rang  # (the office SIPp was never rung: it is not waited for)

"""The inbound handler on fakes: rules first, the ring chain, voicemail, the receptionist, capacity, choices."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from hold_slayer_sidecar.inbound.ports import Screening, ScreeningOutcome
from hold_slayer_sidecar.protocol import EventType

from .fakes import FakeRegistrar, FakeScreener, FakeStt, FakeTts, silence_frames, speech_frames
from .rig import rig

TOLL_FREE_AT_NIGHT = {
    "name": "Toll-free",
    "enabled": True,
    "priority": 10,
    "caller_pattern": "+1800*",
    "action": "reject",
}


async def test_a_reject_rule_refuses_with_its_code(tmp_path: Path) -> None:
    """A matching reject rule answers nothing: the INVITE gets the SIP code, and the decision names the rule."""
    async with rig(tmp_path) as r:
        await r.calls.directory.save_rule({**TOLL_FREE_AT_NIGHT, "reject_code": 486})
        leg = await r.call_in()
        await r.settle()
        assert r.sip.actions("reject") == [(leg, 486)]
        assert not r.sip.actions("answer")
        incoming = r.data(EventType.INCOMING_CALL)[0]
        assert incoming["decision"]["action"] == "reject" and incoming["decision"]["rule_name"] == "Toll-free"
        assert incoming["caller"] == "+18005551234" and incoming["dialled"] == "+15551230000"
        assert r.data(EventType.INBOUND_REJECTED)[0]["state"] == "rejected"


async def test_a_rejection_is_announced_even_when_the_leg_ends_before_the_reject_returns(tmp_path: Path) -> None:
    """The workers' DISCONNECTED (after our 603) may overtake the reply to reject(): the event still goes out."""
    async with rig(tmp_path) as r:
        await r.calls.directory.save_rule({**TOLL_FREE_AT_NIGHT, "reject_code": 603})
        sip_reject = r.sip.reject

        async def slow_reply(leg_id: str, status_code: int = 486) -> None:
            await sip_reject(leg_id, status_code)
            await asyncio.sleep(0.05)  # the reply from the worker comes after the leg's end

        r.sip.reject = slow_reply  # type: ignore[method-assign]
        await r.call_in()
        await r.settle()
        assert [e["state"] for e in r.data(EventType.INBOUND_REJECTED)] == ["rejected"]


async def test_a_reject_rule_with_a_message_speaks_it(tmp_path: Path) -> None:
    """A reject rule with a message answers, says it and hangs up."""
    tts = FakeTts()
    async with rig(tmp_path, tts=tts) as r:
        await r.calls.directory.save_rule({**TOLL_FREE_AT_NIGHT, "reject_message": "No sales calls, thank you."})
        leg = await r.call_in()
        await r.settle()
        assert tts.said == ["No sales calls, thank you."]
        assert r.sip.actions("answer") == [leg] and leg in r.sip.actions("hang_up")
        assert not r.sip.actions("reject")


async def test_the_chain_skips_dnd_moves_on_at_a_decline_and_bridges_the_answer(tmp_path: Path) -> None:
    """DND device skipped, the first declines (next at once), the second answers and is bridged to the caller."""
    async with rig(tmp_path) as r:
        await r.device("hall", "sip:hall@192.0.2.10", 10, dnd=True)
        await r.device("kitchen", "sip:kitchen@192.0.2.11", 20)
        await r.device("office", "sip:office@192.0.2.12", 30)
        r.sip.behaviour["sip:kitchen@192.0.2.11"] = "decline"
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        leg = await r.call_in()
        await asyncio.sleep(0.3)
        assert [target for _, target, _ in r.sip.dialed] == ["sip:kitchen@192.0.2.11", "sip:office@192.0.2.12"]
        assert all(near == leg for _, _, near in r.sip.dialed)  # beside the caller: one conference bridge
        office_leg = r.sip.dialed[1][0]
        assert r.sip.actions("bridge") == [(leg, office_leg)]
        answered = r.data(EventType.INBOUND_ANSWERED)
        assert answered[0]["answered_by"] == "office"
        assert answered[0]["decision"]["device_ids"] == ["kitchen", "office"]
        r.sip.caller_hangs_up(leg)
        await r.settle()
        assert office_leg in r.sip.actions("hang_up")
        assert r.data(EventType.INBOUND_STATE)[-1]["state"] == "ended"
        phones = {d["device_id"]: d for d in r.calls.directory.device_infos()}
        assert phones["office"]["last_caller"] == "+18005551234" and not phones["office"]["ringing"]
        # The phone that declined rang too: its last-call sensor shows it. The DND phone never rang.
        assert phones["kitchen"]["last_caller"] == "+18005551234" and phones["kitchen"]["last_call_at"]
        assert phones["hall"]["last_caller"] is None and phones["hall"]["last_call_at"] is None


async def test_equal_priorities_ring_together_and_the_loser_stops(tmp_path: Path) -> None:
    """Two devices of one priority ring at once; the one that did not answer is hung up."""
    async with rig(tmp_path) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        await r.device("b", "sip:b@192.0.2.2", 10)
        r.sip.behaviour["sip:a@192.0.2.1"] = "silent"
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        leg = await r.call_in()
        await asyncio.sleep(0.3)
        a_leg, b_leg = (entry[0] for entry in r.sip.dialed)
        assert r.sip.actions("bridge") == [(leg, b_leg)]
        assert a_leg in r.sip.actions("hang_up")
        r.sip.caller_hangs_up(leg)
        await r.settle()


async def test_nobody_answers_a_voicemail_is_kept_transcribed_and_announced(tmp_path: Path) -> None:
    """Ring out, then greeting, tone, the caller's words to a WAV in a date folder, transcript, event."""
    stt = FakeStt("hi it's Sam, call me back")
    async with rig(tmp_path, stt=stt) as r:
        await r.device("a", "sip:a@192.0.2.1", 10, ring_s=0.2)
        r.sip.behaviour["sip:a@192.0.2.1"] = "silent"
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        r.sip.caller_audio["in-1"] = silence_frames(0.2) + speech_frames(1.5)
        await r.call_in()
        await r.settle()
        voicemail = r.data(EventType.VOICEMAIL)[0]
        assert voicemail["transcript"] == "hi it's Sam, call me back"
        assert voicemail["caller"] == "+18005551234" and voicemail["heard"] is False
        assert voicemail["duration_s"] == pytest.approx(1.7 + 0.0, abs=0.05)
        (wav,) = (tmp_path / "recordings").glob("*/*-voicemail.wav")
        assert wav.name == voicemail["recording"]
        with wave.open(str(wav)) as w:
            assert w.getframerate() == 8000 and w.getnframes() == pytest.approx(1.7 * 8000, abs=400)
        assert r.data(EventType.VOICEMAIL_CHANGED)[0]["unheard"] == 1
        assert r.calls.snapshot()["unheard_voicemails"] == 1
        assert len(r.sip.played) == 2  # the greeting, then the tone
        stored = await r.store.voicemails(10)
        assert stored[0].transcript == "hi it's Sam, call me back"
        (a,) = r.calls.directory.device_infos()
        assert a["last_caller"] == "+18005551234" and a["last_call_at"]  # it rang out: still its last call


async def test_a_failing_stt_keeps_the_voicemail_without_words(tmp_path: Path) -> None:
    """Speech-to-text down: the message is still kept and announced, transcript None."""
    async with rig(tmp_path, stt=FakeStt(fail=True), tts=FakeTts()) as r:
        await r.calls.directory.save_rule({"name": "m", "enabled": True, "priority": 1, "action": "take_message"})
        r.sip.caller_audio["in-1"] = speech_frames(1.0)
        await r.call_in()
        await r.settle()
        assert r.data(EventType.VOICEMAIL)[0]["transcript"] is None
        assert list((tmp_path / "recordings").glob("*/*-voicemail.wav"))


async def test_silence_ends_the_message_and_a_silent_caller_leaves_none(tmp_path: Path) -> None:
    """Silence past the limit ends the recording (trimmed); a caller who said nothing leaves no voicemail."""
    async with rig(tmp_path) as r:
        await r.calls.directory.save_rule({"name": "m", "enabled": True, "priority": 1, "action": "take_message"})
        r.sip.caller_audio["in-1"] = speech_frames(1.0) + silence_frames(3.0)
        r.sip.caller_audio["in-2"] = silence_frames(1.0)
        await r.call_in()
        await r.call_in()
        await r.settle()
        (voicemail,) = r.data(EventType.VOICEMAIL)
        assert voicemail["duration_s"] == pytest.approx(1.5, abs=0.05)  # 1 s of words and half a second after


async def test_global_dnd_rings_nothing(tmp_path: Path) -> None:
    """Global DND: no device rings, the caller may leave a message."""
    async with rig(tmp_path) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        await r.calls.directory.set_dnd(None, True)
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        await r.call_in()
        await r.settle()
        assert not r.sip.dialed
        assert r.data(EventType.INCOMING_CALL)[0]["decision"]["device_ids"] == []
        assert r.data(EventType.DND_CHANGED) == [{"global_dnd": True}]
        assert len(r.data(EventType.VOICEMAIL)) == 1


async def test_receptionist_rings_the_chain(tmp_path: Path) -> None:
    """No rule: the receptionist answers, screens, and a RING conclusion rings the devices."""
    screener = FakeScreener(
        Screening(ScreeningOutcome.RING, "a dentist's appointment", caller_name="Dr Lee", purpose="appointment")
    )
    async with rig(tmp_path, screener=screener) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        leg = await r.call_in()
        await asyncio.sleep(0.3)
        assert r.sip.actions("answer") == [leg]
        assert screener.contexts[0].leg_id == leg and screener.contexts[0].device_names == {"a": "a"}
        answered = r.data(EventType.INBOUND_ANSWERED)[0]
        assert answered["caller_name"] == "Dr Lee" and answered["purpose"] == "appointment"
        assert "screening" in [d["state"] for d in r.data(EventType.INBOUND_STATE)]
        r.sip.caller_hangs_up(leg)
        await r.settle()


async def test_rules_win_over_the_receptionist(tmp_path: Path) -> None:
    """A take_message rule sends the caller to voicemail without the receptionist."""
    screener = FakeScreener()
    async with rig(tmp_path, screener=screener) as r:
        await r.calls.directory.save_rule({"name": "m", "enabled": True, "priority": 1, "action": "take_message"})
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        await r.call_in()
        await r.settle()
        assert not screener.contexts


@pytest.mark.parametrize(("action", "rejected"), [("voicemail", False), ("reject", True)])
async def test_a_robocall_is_blocked_visibly(tmp_path: Path, action: str, rejected: bool) -> None:
    """A robocall: robocall_blocked with the evidence, then the message box (or hung up)."""
    screener = FakeScreener(Screening(ScreeningOutcome.ROBOCALL, "a recording: it said 'press 1'"))
    async with rig(tmp_path, screener=screener, config={"robocall_action": action}) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        await r.call_in()
        await r.settle()
        blocked = r.data(EventType.ROBOCALL_BLOCKED)[0]
        assert blocked["robocall"] is True and "press 1" in (blocked["reason"] or "")
        assert not r.sip.dialed
        assert bool(r.data(EventType.INBOUND_REJECTED)) is rejected
        assert bool(r.data(EventType.VOICEMAIL)) is not rejected


async def test_a_caller_asking_for_an_outside_number_is_never_put_through(tmp_path: Path) -> None:
    """Whatever the caller asked for, only configured devices are dialled; the request is shown as refused."""
    screener = FakeScreener(Screening(ScreeningOutcome.RING, "wants out", refused_requests=("+12125550100",)))
    async with rig(tmp_path, screener=screener) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        leg = await r.call_in()
        await asyncio.sleep(0.3)
        assert [target for _, target, _ in r.sip.dialed] == ["sip:a@192.0.2.1"]
        assert "+12125550100: refused" in (r.data(EventType.INBOUND_ANSWERED)[0]["reason"] or "")
        r.sip.caller_hangs_up(leg)
        await r.settle()


@pytest.mark.parametrize("outcome", [ScreeningOutcome.END, ScreeningOutcome.CALLER_GONE])
async def test_receptionist_ending_hangs_up(tmp_path: Path, outcome: ScreeningOutcome) -> None:
    """END or the caller gone: hung up, nothing rings, nothing recorded."""
    async with rig(tmp_path, screener=FakeScreener(Screening(outcome, "a wrong number"))) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        leg = await r.call_in()
        await r.settle()
        assert leg in r.sip.actions("hang_up") and not r.sip.dialed
        assert r.data(EventType.INBOUND_STATE)[-1]["state"] == "ended"


async def test_a_failing_receptionist_takes_a_message(tmp_path: Path) -> None:
    """The receptionist raising never drops the caller: a message is taken."""
    async with rig(tmp_path, screener=FakeScreener(fail=True)) as r:
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        await r.call_in()
        await r.settle()
        assert len(r.data(EventType.VOICEMAIL)) == 1


async def test_without_a_receptionist_the_default_takes_a_message(tmp_path: Path) -> None:
    """No Screener wired: the default action falls back to taking a message."""
    async with rig(tmp_path) as r:
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        await r.call_in()
        await r.settle()
        assert "no receptionist" in (r.data(EventType.INCOMING_CALL)[0]["reason"] or "") or r.data(EventType.VOICEMAIL)
        assert len(r.data(EventType.VOICEMAIL)) == 1


async def test_the_caller_hanging_up_stops_the_ringing(tmp_path: Path) -> None:
    """A caller gone while phones ring: every device leg is hung up, the call ends."""
    async with rig(tmp_path) as r:
        await r.device("a", "sip:a@192.0.2.1", 10, ring_s=30)
        r.sip.behaviour["sip:a@192.0.2.1"] = "silent"
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        leg = await r.call_in()
        await asyncio.sleep(0.1)
        r.sip.caller_hangs_up(leg)
        await r.settle()
        assert r.sip.dialed[0][0] in r.sip.actions("hang_up")
        assert r.calls.snapshot()["calls"] == []
        assert r.calls.snapshot()["last_caller"]["state"] == "ended"  # type: ignore[index]
        assert not r.calls.directory.ringing


async def test_no_capacity_is_busy_and_the_hold_calls_slot_is_never_taken(tmp_path: Path) -> None:
    """An INVITE in a slot a call on hold keeps: 486 at once. No slot to ring a phone: a message instead."""
    room = {"in-1": -1, "in-2": 0}
    async with rig(tmp_path, capacity=lambda leg: room[leg]) as r:
        await r.device("a", "sip:a@192.0.2.1", 10)
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        first = await r.call_in()
        r.sip.caller_audio["in-2"] = speech_frames(0.5)
        await r.call_in()
        await r.settle()
        assert r.sip.actions("reject") == [(first, 486)]
        assert "busy" in (r.data(EventType.INBOUND_REJECTED)[0]["reason"] or "")
        assert not r.sip.dialed and len(r.data(EventType.VOICEMAIL)) == 1


async def test_more_inbound_calls_than_allowed_hear_busy(tmp_path: Path) -> None:
    """Beyond max_calls inbound calls, the next caller gets 486 Busy Here."""
    wait = asyncio.Event()
    async with rig(tmp_path, screener=FakeScreener(wait=wait), config={"max_calls": 1}) as r:
        first = await r.call_in()
        await asyncio.sleep(0.05)
        second = await r.call_in()
        await asyncio.sleep(0.05)
        assert r.sip.actions("reject") == [(second, 486)]
        r.sip.caller_hangs_up(first)
        wait.set()
        await r.settle()


async def test_the_user_puts_a_screened_call_through_to_a_device(tmp_path: Path) -> None:
    """answer_inbound during screening rings that device now (even on DND) and bridges it."""
    wait = asyncio.Event()
    async with rig(tmp_path, screener=FakeScreener(wait=wait)) as r:
        await r.device("a", "sip:a@192.0.2.1", 10, dnd=True)
        leg = await r.call_in()
        await asyncio.sleep(0.05)
        call_id = r.calls.snapshot()["calls"][0]["call_id"]
        await r.calls.answer_on(call_id, "a")
        await asyncio.sleep(0.3)
        assert r.sip.actions("bridge") == [(leg, r.sip.dialed[0][0])]
        r.sip.caller_hangs_up(leg)
        await r.settle()


@pytest.mark.parametrize("to_voicemail", [False, True])
async def test_the_user_rejects_a_ringing_call(tmp_path: Path, to_voicemail: bool) -> None:
    """reject_inbound: 603 to an unanswered caller, or the message box."""
    async with rig(tmp_path) as r:
        await r.device("a", "sip:a@192.0.2.1", 10, ring_s=30)
        r.sip.behaviour["sip:a@192.0.2.1"] = "silent"
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        leg = await r.call_in()
        await asyncio.sleep(0.1)
        await r.calls.reject(r.calls.snapshot()["calls"][0]["call_id"], to_voicemail)
        await r.settle()
        assert r.sip.dialed[0][0] in r.sip.actions("hang_up")
        if to_voicemail:
            assert len(r.data(EventType.VOICEMAIL)) == 1
        else:
            assert r.sip.actions("reject") == [(leg, 603)]
            assert r.data(EventType.INBOUND_REJECTED)[0]["reason"] == "rejected by you"


async def test_registered_devices_ring_at_the_registrars_uri(tmp_path: Path) -> None:
    """A registered phone is dialled where the registrar says; its credentials are made once."""
    registrar = FakeRegistrar()
    async with rig(tmp_path, registrar=registrar) as r:
        info, credentials = await r.calls.directory.save_device({"name": "Desk phone", "kind": "registered"})
        assert credentials is not None and credentials["username"] == info["address"]
        again, none = await r.calls.directory.save_device({**info, "name": "Desk"})
        assert none is None and again["address"] == info["address"]
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        leg = await r.call_in()
        await asyncio.sleep(0.3)
        assert r.sip.dialed[0][1] == registrar.ring_uri(info["device_id"])
        r.sip.caller_hangs_up(leg)
        await r.settle()
        await r.calls.directory.delete_device(info["device_id"])
        assert registrar.removed == [info["device_id"]]


async def test_a_device_cannot_point_at_an_emergency_number(tmp_path: Path) -> None:
    """The dialling policy applies to devices too."""
    from hold_slayer_sidecar.inbound.errors import InboundError

    async with rig(tmp_path) as r:
        with pytest.raises(InboundError, match="emergency") as caught:
            await r.calls.directory.save_device({"name": "x", "kind": "number", "address": "9-1-1"})
        assert caught.value.code == "emergency_number"
        with pytest.raises(InboundError, match="sip: URI"):
            await r.calls.directory.save_device({"name": "x", "kind": "sip_uri", "address": "+15551234567"})


async def test_a_callers_digits_never_choose_anything(tmp_path: Path) -> None:
    """Digits the caller presses (even an emergency number or 'transfer' codes) are ignored: only devices ring."""
    from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind

    async with rig(tmp_path) as r:
        await r.device("a", "sip:a@192.0.2.1", 10, ring_s=0.3)
        r.sip.behaviour["sip:a@192.0.2.1"] = "silent"
        await r.calls.directory.save_rule({"name": "all", "enabled": True, "priority": 1, "action": "ring_chain"})
        r.sip.caller_audio["in-1"] = speech_frames(0.5)
        leg = await r.call_in()
        for digit in "*9112125550100#":
            r.sip.emit(LegEvent(leg, LegEventKind.DTMF_RECEIVED, digit=digit))
            await asyncio.sleep(0.01)
        await r.settle()
        assert [target for _, target, _ in r.sip.dialed] == ["sip:a@192.0.2.1"]
        assert len(r.data(EventType.VOICEMAIL)) == 1


async def test_a_message_in_progress_is_kept_when_the_sidecar_stops(tmp_path: Path) -> None:
    """Stopping mid-message keeps what the caller already said."""
    async with rig(tmp_path) as r:
        await r.calls.directory.save_rule({"name": "m", "enabled": True, "priority": 1, "action": "take_message"})
        r.sip.caller_audio["in-1"] = speech_frames(1.0)
        r.sip.hang_up_after_audio = False  # the line stays open, no more audio: only the stop ends the message
        await r.call_in()
        await asyncio.sleep(0.3)
        await r.calls.stop()
        stored = await r.store.voicemails(10)
        assert len(stored) == 1 and stored[0].duration_s > 0.5

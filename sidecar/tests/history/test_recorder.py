"""The recorder on the real manager (fake engines, real SQLite): rows, lines, taps after the answer, privacy."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import numpy as np
from conftest import Rig, settle
from hold_slayer_sidecar.audio.types import AudioFrame, Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.history.recorder import CallRecorder, TranscriptPrivacy
from hold_slayer_sidecar.nav.flows import CallFlow, FlowStep, FlowStepKind
from hold_slayer_sidecar.sip.api import LegEventKind
from hold_slayer_sidecar.store.history import TranscriptLine
from hold_slayer_sidecar.summary.extract import extract
from hold_slayer_sidecar.summary.model import Said

FLOW = CallFlow(id="f", name="f", company="Bank", steps=[FlowStep(kind=FlowStepKind.HOLD)])


async def summarise(lines: list[TranscriptLine], started: float, company: str | None) -> dict[str, Any]:
    return extract([Said(line.speaker, line.text) for line in lines], date(2026, 3, 2), company).as_dict()


def talk(rig: Rig, leg: str, seconds: float, loud: bool) -> None:
    """Push frames of speech-level noise (or silence) into every tap of a leg."""
    rng = np.random.default_rng(1)
    for _ in range(int(seconds / 0.02)):
        rig.sip._t[leg] = rig.sip._t.get(leg, 0.0) + 0.02
        pcm = (rng.normal(0, 3000, 160) if loud else np.zeros(160)).astype(np.int16)
        for callback in list(rig.sip._audio_subs.get(leg, [])):
            callback(AudioFrame(pcm, 8000, rig.sip._t[leg]))


async def run_call(rig: Rig, privacy: TranscriptPrivacy) -> tuple[CallRecorder, str, list[tuple[str, dict[str, Any]]]]:
    published: list[tuple[str, dict[str, Any]]] = []

    def publish(event: str, data: dict[str, Any]) -> None:
        published.append((event, data))
        rig.manager.publish(event, data)

    recorder = CallRecorder(rig.store, sip=rig.sip, publish=publish, stt=rig.stt, summarize=summarise, privacy=privacy)
    await recorder.start()
    rig.manager.subscribe(recorder.on_event)
    rig.manager.watch_legs(recorder.on_leg)
    rig.manager.subscribe(lambda event, data: published.append((event, data)) if event == "call_summary" else None)
    await rig.manager.save_flow(FLOW)
    info = await rig.manager.place_call("sip:bank@x", call_flow="f", transfer_to="sip:me@x")
    await settle()
    company = rig.sip.dialed[0][0]
    await rig.observe(company, Observation(K.HOLD_STARTED, 1.0), Observation(K.MUSIC, 1.0))
    rig.stt.texts = ["Hi, this is Dana. Your ticket number is 4 8 2 1 9.", "Hi, this is Alex."]
    talk(rig, company, 1.0, loud=True)  # the agent's greeting, heard while the detector decides
    await rig.observe(company, Observation(K.HUMAN_DETECTED, 40.0))
    talk(rig, company, 1.0, loud=False)
    user = rig.sip.dialed[1][0]
    rig.sip.emit(user, LegEventKind.ANSWERED)
    await settle()
    talk(rig, user, 0.8, loud=True)
    talk(rig, user, 1.0, loud=False)
    await settle()
    rig.sip.emit(company, LegEventKind.DISCONNECTED, 200, "BYE")
    for _ in range(100):
        await asyncio.sleep(0.02)
        if any(event == "call_summary" for event, _ in published):
            break
    await recorder.stop()
    return recorder, info["call_id"], published


async def test_the_conversation_is_transcribed_kept_and_summarised(rig: Rig) -> None:
    _, call_id, published = await run_call(rig, TranscriptPrivacy())
    detail = await rig.store.get_call(call_id)
    assert detail is not None
    assert [(line.speaker, line.text) for line in detail.lines] == [
        ("agent", "Hi, this is Dana. Your ticket number is 4 8 2 1 9."),
        ("you", "Hi, this is Alex."),
    ]
    assert detail.call.status == "ended" and detail.call.summary is not None
    assert detail.call.summary["reference"] == "48219" and detail.call.summary["agent_name"] == "Dana"
    assert {ref.leg for ref in detail.recordings} == {"company", "user", "mix"}
    summary = next(data for event, data in published if event == "call_summary")
    assert summary["call_id"] == call_id and summary["company"] == "Bank"


async def test_a_private_company_gets_no_conversation_transcript(rig: Rig) -> None:
    _, call_id, published = await run_call(rig, TranscriptPrivacy(private_companies=frozenset({"bank"})))
    detail = await rig.store.get_call(call_id)
    assert detail is not None and detail.lines == []
    assert rig.stt.texts  # nothing was sent to speech-to-text after the answer
    assert any(event == "call_summary" for event, _ in published)  # the call is still kept and summarised

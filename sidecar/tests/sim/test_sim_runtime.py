"""The SIP glue of a company call, on a fake line: effects become actions, failures never drop the call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hold_slayer_sidecar.audio.types import AudioFrame, Pcm
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sim.clips import ClipLibrary
from hold_slayer_sim.model import Clip, Voice, parse_company
from hold_slayer_sim.report import ReportWriter
from hold_slayer_sim.runtime import CompanyCall
from test_sim_model import MINIMAL

SPEED_UP = 20.0  # the fake line plays audio this much faster than real time


class FakeLine:
    def __init__(self) -> None:
        self.actions: list[str] = []
        self.played: list[float] = []
        self.audio: Callable[[AudioFrame], None] | None = None

    def subscribe_audio(self, leg_id: str, callback: Callable[[AudioFrame], None]) -> Callable[[], None]:
        self.audio = callback
        return lambda: None

    async def ring(self, leg_id: str) -> None:
        self.actions.append("ring")

    async def answer(self, leg_id: str) -> None:
        self.actions.append("answer")

    async def reject(self, leg_id: str, status_code: int = 486) -> None:
        self.actions.append(f"reject {status_code}")

    async def hang_up(self, leg_id: str) -> None:
        self.actions.append("hang_up")

    async def play(self, leg_id: str, pcm: Pcm, sample_rate: int) -> None:
        self.played.append(pcm.size / sample_rate)
        await asyncio.sleep(pcm.size / sample_rate / SPEED_UP)


class BrokenLibrary(ClipLibrary):
    """TTS fails for one text."""

    def clip(self, clip: Clip, voice: Voice) -> Pcm:
        if clip.text == "Press 1 for sales.":
            raise OSError("espeak-ng crashed")
        return super().clip(clip, voice)


def company_data() -> dict[str, Any]:
    data = {**MINIMAL, "ringback_s": 0.05, "greeting": "Hello."}
    data["queues"] = {"sales": {"name": "Sales", "agent_after_s": 0.3, "hold": "silence"}}
    data["agent"] = {**MINIMAL["agent"], "hello_after_s": 0.3, "hangup_after_s": 0.6, "goodbye": None}
    return data


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


async def wait_until(check: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("library_type", [ClipLibrary, BrokenLibrary])
async def test_call_runs_to_the_agent_and_the_agent_hangs_up_on_silence(
    tmp_path: Path, library_type: type[ClipLibrary]
) -> None:
    line = FakeLine()
    report_path = tmp_path / "report.jsonl"
    report = ReportWriter(report_path)
    call = CompanyCall(
        line, "leg-1", parse_company(company_data()), library_type(tmp_path / "assets"), report, call_id="c1"
    )
    task = asyncio.create_task(call.run())
    await wait_until(
        lambda: any(x["event"] == "prompt_started" and x.get("node") == "main" for x in lines(report_path))
    )
    call.on_leg_event(LegEvent("leg-1", LegEventKind.DTMF_RECEIVED, digit="1"))
    await asyncio.wait_for(task, 20)
    events = [x["event"] for x in lines(report_path)]
    assert line.actions[:2] == ["ring", "answer"] and line.actions[-1] == "hang_up"
    assert events.index("department_reached") < events.index("hold_started") < events.index("agent_started")
    assert lines(report_path)[-1]["event"] == "hangup" and lines(report_path)[-1]["why"] == "agent_silence"
    assert ("error" in events) == (library_type is BrokenLibrary)  # a broken prompt is skipped, not fatal


async def test_caller_speech_reaches_the_agent_and_barge_in_stops_playback(tmp_path: Path) -> None:
    line = FakeLine()
    report_path = tmp_path / "report.jsonl"
    data = company_data()
    data["queues"]["sales"]["agent_after_s"] = 0.5
    data["agent"] = {**data["agent"], "hello_after_s": 5, "hangup_after_s": 10, "replies": ["Sure."]}
    call = CompanyCall(
        line, "leg-1", parse_company(data), ClipLibrary(tmp_path / "assets"), ReportWriter(report_path), call_id="c2"
    )
    task = asyncio.create_task(call.run())
    await wait_until(lambda: any(x["event"] == "prompt_started" for x in lines(report_path)))
    call.on_leg_event(LegEvent("leg-1", LegEventKind.DTMF_RECEIVED, digit="1"))  # barges into the greeting
    await wait_until(lambda: any(x["event"] == "agent_started" for x in lines(report_path)))
    assert line.audio is not None
    t = np.arange(160) / 8000
    loud = (np.sin(2 * np.pi * 200 * t) * 8000).astype(np.int16)
    for i in range(40):  # 0.8 s of "speech", then 1 s of quiet
        line.audio(AudioFrame(loud, 8000, i * 0.02))
    for i in range(50):
        line.audio(AudioFrame(np.zeros(160, np.int16), 8000, 0.8 + i * 0.02))
    await wait_until(lambda: any(x["event"] == "agent_said" for x in lines(report_path)))
    call.on_leg_event(LegEvent("leg-1", LegEventKind.DISCONNECTED, 200, "BYE"))
    await asyncio.wait_for(task, 5)
    events = [x["event"] for x in lines(report_path)]
    assert events.index("agent_started") < events.index("heard_user") < events.index("agent_said")
    assert events[-1] == "hangup" and lines(report_path)[-1]["who"] == "caller"
    assert line.actions[-1] == "answer"  # the caller hung up: the company does not send BYE again

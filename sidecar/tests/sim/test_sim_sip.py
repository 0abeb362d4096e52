"""Real SIP over loopback: the company runtime and the user phone as subprocesses, dialled by the sidecar's engine.

The engine is the one the sidecar runs (``WorkerPoolEngine``: PJSUA2 in a worker process), not ``PjsuaEngine`` in the
pytest process: a fresh-clone CI run died with a segmentation fault between two of these tests, after an in-process
endpoint was stopped, taking every later test with it. The in-process engine keeps its own contract tests
(tests/sip, ``BOTH_ENGINES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hold_slayer_sidecar.audio.types import AudioFrame
from hold_slayer_sidecar.protocol import DtmfMethod
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from hold_slayer_sim.clips import DEFAULT_ASSET_DIR
from hold_slayer_sim.launch import run_company, run_phone
from hold_slayer_sim.model import Voice
from hold_slayer_sim.speech import SpeechCache

pytestmark = pytest.mark.slow

TEST_COMPANY: dict[str, Any] = {
    "id": "testco",
    "name": "Test Company",
    "ringback_s": 0.5,
    "voice": {"engine": "espeak", "id": "en-us", "speed": 1.3},
    "greeting": "Welcome to Test Company.",
    "start": "main",
    "menus": {
        "main": {
            "prompt": "Press 1 for sales. Press 2 for support.",
            "options": {"1": {"queue": "sales"}, "2": {"menu": "support"}},
        },
        "support": {"prompt": "Press 1 for internet problems.", "options": {"1": {"queue": "internet"}}},
    },
    "queues": {
        "sales": {"name": "Sales", "agent_after_s": 3},
        "internet": {
            "name": "Internet support",
            "music": "pop",
            "agent_after_s": 7,
            "announcements": [{"say": "You are caller {position}.", "interval_s": 10, "first_after_s": 2}],
        },
    },
    "agent": {
        "voice": {"engine": "espeak", "id": "en-gb", "speed": 1.2},
        "greeting": "Hi, this is Dana, how can I help?",
        "replies": ["Sure, one moment."],
        "hello_after_s": 4,
        "hangup_after_s": 8,
    },
    "test_intents": [{"intent": "my internet is down", "department": "internet", "path": "2 1"}] * 5,
}


@contextlib.asynccontextmanager
async def dialler() -> AsyncIterator[tuple[WorkerPoolEngine, list[LegEvent]]]:
    engine = WorkerPoolEngine(SipSettings(port=0), workers=1)
    await engine.start()
    events: list[LegEvent] = []
    engine.subscribe_events(events.append)
    try:
        yield engine, events
    finally:
        await engine.stop()


async def wait_leg(
    events: list[LegEvent], kind: LegEventKind, leg: str | None = None, within: float = 15.0
) -> LegEvent:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for e in events:
            if e.kind == kind and (leg is None or e.leg_id == leg):
                return e
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} in {events}")


def caller_speech() -> np.ndarray:
    return SpeechCache(DEFAULT_ASSET_DIR / "tts").render(
        "Hi, I am calling about my internet.", Voice(engine="espeak", id="en-us+m3", speed=1.0)
    )


async def test_company_call_reaches_department_and_agent(tmp_path: Path) -> None:
    company_file = tmp_path / "testco.yaml"
    company_file.write_text(yaml.safe_dump(TEST_COMPANY))
    async with (
        run_company(
            [company_file],
            report=tmp_path / "co.jsonl",
            stt=False,
            record_dir=tmp_path / "rec",
            stderr=tmp_path / "co.err",
        ) as co,
        dialler() as (engine, events),
    ):
        uri = co.ready["companies"]["testco"]
        assert uri == f"sip:testco@127.0.0.1:{co.ready['port']}"
        leg = await engine.dial(uri)
        assert (await wait_leg(events, LegEventKind.RINGING)).status_code in (180, 183)
        await wait_leg(events, LegEventKind.ANSWERED)
        loud: list[float] = []

        def on_frame(frame: AudioFrame) -> None:
            if np.sqrt(np.mean(frame.pcm.astype(np.float64) ** 2)) > 300:
                loud.append(time.monotonic())

        engine.subscribe_audio(leg, on_frame)
        await co.wait_for("prompt_started", node="main")
        await engine.send_dtmf(leg, "2", DtmfMethod.RFC2833)
        await co.wait_for("prompt_started", node="support")
        await engine.send_dtmf(leg, "1", DtmfMethod.INBAND)  # tones in the audio work too
        reached = await co.wait_for("department_reached")
        assert reached["department"] == "internet"
        assert (await co.wait_for("announcement"))["text"] == "You are caller 3."
        agent = await co.wait_for("agent_started", within=30)
        assert agent["t_s"] - reached["t_s"] == pytest.approx(7.0, abs=1.5)  # agent_after_s, measured
        assert agent["department"] == "internet"
        await asyncio.sleep(1.0)
        heard_from = time.monotonic() - 1.0
        assert any(t >= heard_from for t in loud), "no audio from the agent"
        await engine.play(leg, caller_speech(), 8000)
        await co.wait_for("heard_user")
        dtmf = [(line["digit"], line["via"]) for line in co.lines() if line["event"] == "dtmf"]
        assert dtmf == [("2", "event"), ("1", "inband")]
        assert not [line for line in co.lines() if line["event"] == "caller_speech" and line["phase"] == "menu"]
        await engine.hang_up(leg)
        hangup = await co.wait_for("hangup")
        assert hangup["who"] == "caller"
        recording = await co.wait_for("recording")
        stranger = await engine.dial(f"sip:nobody@127.0.0.1:{co.ready['port']}")
        assert (await wait_leg(events, LegEventKind.DISCONNECTED, stranger)).status_code == 404
        assert await asyncio.to_thread(lambda: Path(recording["path"]).stat().st_size) > 8000


async def test_user_phone_answers_and_hears_the_far_side(tmp_path: Path) -> None:
    async with (
        run_phone(report=tmp_path / "phone.jsonl", answer_after=0.5, stderr=tmp_path / "phone.err") as phone,
        dialler() as (engine, events),
    ):
        leg = await engine.dial(phone.ready["uri"])
        await wait_leg(events, LegEventKind.ANSWERED)
        assert (await phone.wait_for("incoming"))["from"]
        heard: list[float] = []
        engine.subscribe_audio(leg, lambda f: heard.append(float(np.abs(f.pcm).max())))
        said = await phone.wait_for("said")
        assert said["text"] == "Hi, this is Alex."
        await engine.play(leg, caller_speech(), 8000)
        heard_audio = await phone.wait_for("heard_audio")
        assert heard_audio["t_s"] > said["t_s"]
        heard_speech = await phone.wait_for("heard_speech")  # Silero agrees it is a voice
        assert heard_speech["t_s"] >= heard_audio["t_s"] - 0.1
        assert max(heard) > 3000  # the user's greeting reached us
        await engine.hang_up(leg)
        assert (await phone.wait_for("hangup"))["who"] == "remote"


async def test_user_phone_can_reject(tmp_path: Path) -> None:
    async with run_phone(report=tmp_path / "phone.jsonl", reject=True) as phone, dialler() as (engine, events):
        await engine.dial(phone.ready["uri"])
        gone = await wait_leg(events, LegEventKind.DISCONNECTED)
        assert gone.status_code == 486
        await phone.wait_for("rejected")

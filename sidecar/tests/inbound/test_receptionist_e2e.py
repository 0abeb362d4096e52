"""End to end over loopback SIP: a real PJSUA2 leg answered by the sidecar's engine, screened by the receptionist
with the real engines (piper/espeak-ng TTS, embedded whisper, Silero VAD), the caller a PJSUA2 engine in another
process playing synthesised speech (simulator voices) or a robocall recording over music.

The engine is the sidecar's own ``WorkerPoolEngine`` (PJSUA2 in a worker process): PJSUA2 never runs in the pytest
process (tests/pjsua_isolation.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hold_slayer_sidecar.inbound.ports import Screening, ScreeningContext, ScreeningOutcome
from hold_slayer_sidecar.inbound.receptionist.config import ReceptionistSettings
from hold_slayer_sidecar.inbound.receptionist.dialogue import Receptionist
from hold_slayer_sidecar.sip.api import LegEvent, LegEventKind
from hold_slayer_sidecar.sip.pool import WorkerPoolEngine
from hold_slayer_sidecar.sip.settings import SipSettings
from hold_slayer_sidecar.voice.stt import EmbeddedWhisperStt
from hold_slayer_sidecar.voice.tts import EspeakTts
from hold_slayer_sidecar.voice.wav import write_wav
from hold_slayer_tools.bench.callers import DEV, PIPER, speech, with_bed

CALLER = Path(__file__).with_name("sip_caller.py")
TIMEOUT_S = 90.0
pytestmark = pytest.mark.slow


@pytest.fixture
async def engine() -> AsyncIterator[WorkerPoolEngine]:
    sip = WorkerPoolEngine(SipSettings(), workers=1)
    await sip.start()
    yield sip
    await asyncio.wait_for(sip.stop(), 20)


async def screen_a_call(engine: WorkerPoolEngine, tmp_path: Path, wav_pcm: object, mode: str) -> Screening:
    """Let the caller dial in, answer, screen, hang up; the caller process must exit cleanly."""
    wav = tmp_path / "caller.wav"
    write_wav(wav, wav_pcm, 8000)  # type: ignore[arg-type]
    incoming: asyncio.Queue[LegEvent] = asyncio.Queue(maxsize=8)

    def on_event(event: LegEvent) -> None:
        if event.kind is LegEventKind.INCOMING:
            incoming.put_nowait(event)

    unsubscribe = engine.subscribe_events(on_event)
    report = tmp_path / "caller.jsonl"
    with (tmp_path / "caller.log").open("wb") as log:
        caller = await asyncio.create_subprocess_exec(
            sys.executable, str(CALLER), engine.local_uri, str(wav), mode, str(report), stdout=log, stderr=log
        )
    try:
        event = await asyncio.wait_for(incoming.get(), 30)
        await engine.answer(event.leg_id)
        receptionist = Receptionist(
            sip=engine,
            tts=EspeakTts("en-us"),
            stt=EmbeddedWhisperStt(),
            settings=ReceptionistSettings(follow_up=False, stt_timeout_s=120.0),
        )
        context = ScreeningContext("e2e", event.leg_id, event.remote_uri, None, event.local_uri, "Alex", {})
        result = await asyncio.wait_for(receptionist.screen(context), TIMEOUT_S)
        await engine.hang_up(event.leg_id)
        code = await asyncio.wait_for(caller.wait(), 30)
        assert code == 0, (tmp_path / "caller.log").read_text(errors="replace")[-2000:]
        return result
    finally:
        unsubscribe()
        if caller.returncode is None:
            caller.kill()
            await caller.wait()


async def test_a_caller_who_says_name_and_purpose_is_put_through(engine: WorkerPoolEngine, tmp_path: Path) -> None:
    # One sentence: a loaded machine's media clock can stall a playback for a moment, and a pause between two
    # sentences plus such a stall ends the caller's turn early (the follow-up question, off here, would recover it).
    words = "Hi, this is Dana from Doctor Patel's office, calling about your appointment tomorrow."
    result = await screen_a_call(engine, tmp_path, speech(words, PIPER), "after_greeting")
    assert result.outcome is ScreeningOutcome.RING, result
    assert result.caller_name is not None and "Dana" in result.caller_name
    assert result.purpose is not None and "appointment" in result.purpose
    assert result.refused_requests == ()


async def test_a_robocall_recording_that_plays_on_is_recognised(engine: WorkerPoolEngine, tmp_path: Path) -> None:
    robocall = next(s for s in DEV if s.name == "robo_rate_music")
    assert robocall.music is not None
    pcm = with_bed(speech(robocall.message, robocall.voice), robocall.music, robocall.music_db)
    result = await screen_a_call(engine, tmp_path, pcm, "at_once")
    assert result.outcome is ScreeningOutcome.ROBOCALL, result
    assert "talked on through the greeting" in result.reason


async def test_a_caller_who_hangs_up_during_the_greeting_is_gone(engine: WorkerPoolEngine, tmp_path: Path) -> None:
    result = await screen_a_call(engine, tmp_path, speech("unused", PIPER), "hang_up")
    assert result.outcome is ScreeningOutcome.CALLER_GONE

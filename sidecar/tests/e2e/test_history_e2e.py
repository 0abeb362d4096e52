"""History that survives a crash: the real sidecar on hold with a simulated company, killed with SIGKILL.

After the kill the call row must be there (marked interrupted on restart), the transcript lines heard up to
the kill must be in SQLite, and the recordings must play (Python's ``wave`` and ``sox``) up to the kill.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import signal
import sqlite3
import subprocess
import time
import wave
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.summary.extract import extract
from hold_slayer_sidecar.summary.model import Said
from sidecar_harness import Client, Sidecar, phone_uri, start_sim, stop_process
from sidecar_harness import connect as harness_connect

pytestmark = pytest.mark.slow
TOKEN = "history-e2e-token-0123456789"
COMPANIES = Path(__file__).resolve().parents[2] / "hold_slayer_sim" / "companies"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def start_sidecar(tmp: Path, data: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    sidecar = Sidecar(tmp, token=TOKEN, data_dir=data)
    return sidecar.process, sidecar.wait_ready()


def company_and_phone(tmp: Path, company_file: Path) -> Iterator[tuple[str, str]]:
    """A simulated company (its SIP URI) and the user's phone (its SIP URI), stopped after the test."""
    company, company_ready = start_sim(tmp, "hold_slayer_sim.company", "--company", str(company_file))
    phone, phone_ready = start_sim(tmp, "hold_slayer_sim.phone")
    try:
        yield company_ready["companies"][company_file.stem], phone_uri(phone_ready)
    finally:
        for process in (phone, company):
            stop_process(process, 10)


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from company_and_phone(tmp_path, COMPANIES / "first_city_bank.yaml")


def connect(url: str) -> contextlib.AbstractAsyncContextManager[Client]:
    """An authenticated client (an answer may take a minute on a loaded machine)."""
    return harness_connect(url, TOKEN, "e2e", timeout_s=60)


async def test_kill_9_on_hold_keeps_the_call_its_transcript_and_playable_recordings(
    tmp_path: Path, sims: tuple[str, str]
) -> None:
    company_uri, phone_uri = sims
    data = tmp_path / "data"
    process, ready = start_sidecar(tmp_path, data)
    flow = {"id": "bank-disputes", "name": "disputes", "company": "First City Bank", "number": company_uri,
            "steps": [{"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": "1"},
                      {"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": "2"}, {"kind": "hold"}]}  # fmt: skip
    try:
        async with connect(ready["ws_url"]) as client:
            await client.ok("save_call_flow", {"flow": flow})
            placed = await client.ok(
                "place_call", {"target": company_uri, "call_flow": "bank-disputes", "transfer_to": phone_uri}
            )
            call_id = placed["call_id"]

            events = client.events

            def on_hold_with_words() -> bool:
                names = [e["event"] for e in events]
                return "hold_started" in names and names.count("transcript") >= 2

            await client.until(on_hold_with_words, 90)
            await asyncio.sleep(6)  # some hold music and an announcement into the recording
            heard = [e["data"]["text"] for e in client.events if e["event"] == "transcript"]
        killed_at = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # Before any restart: the database already holds the live call and every line published before the kill.
    db = sqlite3.connect(data / "hold_slayer.sqlite3")
    status, started = db.execute("SELECT status, started_at FROM calls WHERE call_id = ?", (call_id,)).fetchone()
    assert status == "live"
    kept = [
        row[0] for row in db.execute("SELECT text FROM transcript_lines WHERE call_id = ? ORDER BY seq", (call_id,))
    ]
    assert kept[: len(heard)] == heard
    paths = [Path(row[0]) for row in db.execute("SELECT path FROM recordings WHERE call_id = ?", (call_id,))]
    db.close()
    company_wav = next(path for path in paths if path.name.endswith("-company.wav"))
    # The header was kept current every second, so the file plays as it is, without the restart's repair.
    with wave.open(str(company_wav)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    answered_for = killed_at - started
    assert answered_for - 6 < seconds <= answered_for, (seconds, answered_for)

    process, ready = await asyncio.to_thread(start_sidecar, tmp_path, data)
    try:
        async with connect(ready["ws_url"]) as client:
            page = await client.ok("get_history", {"limit": 5})
            row = next(call for call in page["calls"] if call["call_id"] == call_id)
            assert row["status"] == "interrupted" and row["outcome"] == "interrupted"
            detail = await client.ok("get_call", {"call_id": call_id})
            assert [line["text"] for line in detail["transcript"]][: len(heard)] == heard
            assert {line["speaker"] for line in detail["transcript"]} == {"company"}
            name = next(r["name"] for r in detail["recordings"] if r["leg"] == "company")
            chunk = await client.ok("fetch_recording", {"call_id": call_id, "name": name})
            assert base64.b64decode(chunk["data"])[:4] == b"RIFF" and chunk["size"] == company_wav.stat().st_size
    finally:
        process.terminate()
        process.wait(20)
    if shutil.which("sox"):
        out = await asyncio.to_thread(
            subprocess.run, ["soxi", "-D", str(company_wav)], capture_output=True, text=True, check=True
        )
        assert abs(float(out.stdout) - seconds) < 1.5


@pytest.fixture
def telecom(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from company_and_phone(tmp_path, FIXTURES / "companies" / "northwind_telecom.yaml")


async def test_the_agents_promise_is_transcribed_summarised_and_kept(tmp_path: Path, telecom: tuple[str, str]) -> None:
    company_uri, phone_uri = telecom
    process, ready = start_sidecar(tmp_path, tmp_path / "data")
    flow = {"id": "telecom-outage", "name": "outage", "company": "Northwind Telecom", "number": company_uri,
            "steps": [{"kind": "wait", "seconds": 1.0}, {"kind": "dtmf", "digits": "2"}, {"kind": "hold"}]}  # fmt: skip
    try:
        async with connect(ready["ws_url"]) as client:
            await client.ok("save_call_flow", {"flow": flow})
            placed = await client.ok(
                "place_call", {"target": company_uri, "call_flow": "telecom-outage", "transfer_to": phone_uri}
            )
            call_id = placed["call_id"]
            events = client.events
            await client.until(lambda: any(e["event"] == "call_summary" for e in events), 150)
            summary = next(e["data"] for e in client.events if e["event"] == "call_summary")
            detail = await client.ok("get_call", {"call_id": call_id})
    finally:
        process.terminate()
        process.wait(20)
    speakers = [line["speaker"] for line in detail["transcript"]]
    assert "company" in speakers and "agent" in speakers and "you" in speakers, detail["transcript"]
    # The recogniser may mishear a name or a digit ("Dan" for "Dana"); what this test proves is the pipeline: the
    # summary announced and kept is the extractor's reading of the transcript that was kept, whatever it heard.
    said = [Said(line["speaker"], line["text"], line.get("offset_s", 0.0)) for line in detail["transcript"]]
    started = detail["call"]["started_at"]
    when = datetime.fromtimestamp(started) if isinstance(started, int | float) else datetime.fromisoformat(started)
    day = when.astimezone().date()  # the recorder resolves "Tuesday" in the host's zone
    expected = extract(said, day, detail["call"].get("company")).as_dict()
    assert summary["call_id"] == call_id, summary
    for key in ("agent_name", "references", "dates", "commitments"):
        assert summary[key] == expected[key] == detail["summary"][key], (key, summary, expected)
    # The agent states a name, a ticket number and a dated promise; a single misheard word loses at most one.
    dated = any(c["due"] for c in summary["commitments"])
    heard = [summary["agent_name"] is not None, bool(summary["references"]), dated]
    assert sum(heard) >= 2, (summary, detail["transcript"])
    assert detail["call"]["status"] == "ended" and detail["call"]["outcome"] == "connected"
    assert {r["leg"] for r in detail["recordings"]} >= {"company", "user", "mix"}

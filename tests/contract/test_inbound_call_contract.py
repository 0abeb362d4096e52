"""Contract: a real inbound call over loopback SIP reaches Home Assistant as events, sensors and a playable voicemail.

The real sidecar (one PJSUA2 media worker), SIPp as the caller (it plays a message spoken by the sidecar's own
embedded voice) and as the one phone, which rings and is never picked up, and the real HA harness. Nobody answers:
the sidecar takes a message, records and transcribes it; HA must fire ``hold_slayer_incoming_call`` and
``hold_slayer_voicemail`` with the caller, the transcript and the recording, count it on the unheard-voicemail
sensor, note the ring on the phone's last-call sensor, and play the recording through its media source.

What the recogniser heard is not asserted word for word (whisper may mishear a TTS voice); that it heard
something, and that the pipeline carried it, is.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import socket
import subprocess
import time
import wave
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.hold_slayer.const import DOMAIN

from .conftest import REPO, SIDECAR_PYTHON, RunningSidecar, loaded_entry, start_sidecar, stop

SCENARIOS = REPO / "sidecar" / "tests" / "inbound" / "scenarios"
SPEECH = REPO / "sidecar" / "tests" / "inbound" / "speech_pcap.py"
MESSAGE = "Hi, this is the dentist about tomorrow's appointment. Please call me back."
CALLER, DIALLED = "+15557654321", "+15551230000"
RING_S = 5  # the shortest ring a device may have: the whole test waits for it
GREETING_MS = 4000  # after the answer: the short greeting below and its tone (about 2 s), with room to spare
VOICEMAIL_WAIT_S = 120  # ring, greeting, message, then whisper on a loaded 2-core machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed"),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sipp(tmp_path: Path, name: str, *args: str, port: int = 0) -> subprocess.Popen[bytes]:
    """Start one SIPp call on loopback (it gives up after 90 s; exit code 0 means the scenario ran as written)."""
    log = (tmp_path / f"{name}.log").open("wb")
    ports = ("-p", str(port or _free_port()), "-mp", str(_free_port()))
    common = ("-i", "127.0.0.1", "-nostdin", "-m", "1", "-timeout", "90", "-timeout_error", "-trace_err")
    process = subprocess.Popen(["sipp", *args, *ports, *common], stdout=log, stderr=log, cwd=tmp_path)
    time.sleep(0.3)  # let it bind before anything is sent to it
    return process


def _finished(process: subprocess.Popen[bytes], tmp_path: Path, name: str) -> None:
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    errors = "".join(p.read_text(errors="replace")[-1500:] for p in tmp_path.glob("*_errors.log"))
    assert code == 0, (tmp_path / f"{name}.log").read_text(errors="replace")[-2000:] + errors


@pytest.fixture
def world(tmp_path: Path) -> Generator[tuple[RunningSidecar, subprocess.Popen[bytes], int]]:
    """The sidecar (a short greeting; a quiet caller is cut after 8 s) and a phone that rings out."""
    config = tmp_path / "config.json"
    inbound = {
        "voicemail_greeting": "Please leave a message.",
        "voicemail_silence_s": 8,
        "voicemail_limit_s": 30,
        "time_zone": "UTC",
    }
    config.write_text(json.dumps({"inbound": inbound}))
    sidecar_process, sidecar = start_sidecar(tmp_path / "sidecar", "--config", str(config), "--sip-workers", "1")
    phone_port = _free_port()
    phone = _sipp(tmp_path, "phone", "-sf", str(SCENARIOS / "uas_ring_no_answer.xml"), port=phone_port)
    try:
        yield sidecar, phone, phone_port
    finally:
        if phone.poll() is None:
            phone.kill()
            phone.wait()
        stop(sidecar_process)


@pytest.fixture
async def entry(
    hass: HomeAssistant, world: tuple[RunningSidecar, subprocess.Popen[bytes], int]
) -> AsyncGenerator[MockConfigEntry]:
    """The integration (and the media source) set up against the sidecar."""
    assert await async_setup_component(hass, "media_source", {})
    async with loaded_entry(hass, world[0]) as config_entry:
        yield config_entry


def _message_pcap(tmp_path: Path) -> tuple[Path, int]:
    """Say MESSAGE with the sidecar's embedded voice into an RTP capture; return it and its length (ms)."""
    pcap = tmp_path / "message.pcap"
    done = subprocess.run(
        [str(SIDECAR_PYTHON), str(SPEECH), MESSAGE, str(pcap)], capture_output=True, check=True, timeout=120
    )
    return pcap, int(done.stdout.split()[-1])


def _caller_scenario(tmp_path: Path, pcap: Path, speak_ms: int) -> Path:
    text = (SCENARIOS / "uac_leaves_message.xml").read_text()
    for key, value in (
        ("__CALLER__", CALLER),
        ("__WAIT_MS__", str(GREETING_MS)),
        ("__PCAP__", str(pcap)),
        ("__SPEAK_MS__", str(speak_ms + 1000)),
    ):
        text = text.replace(key, value)
    scenario = tmp_path / "caller.xml"
    scenario.write_text(text)
    return scenario


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=response)


async def test_nobody_answers_and_the_voicemail_reaches_home_assistant(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    world: tuple[RunningSidecar, subprocess.Popen[bytes], int],
    entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    sidecar, phone, phone_port = world
    pcap, speak_ms = await hass.async_add_executor_job(_message_pcap, tmp_path)
    den = await _call(
        hass,
        "add_device",
        {
            "name": "Den phone",
            "kind": "sip_uri",
            "address": f"sip:den@127.0.0.1:{phone_port}",
            "ring_timeout_s": RING_S,
        },
        response=True,
    )
    await _call(hass, "add_rule", {"name": "Ring everyone", "action": "ring_chain", "priority": 1})
    await hass.async_block_till_done()  # each new subentry reloads the entry
    incoming = async_capture_events(hass, f"{DOMAIN}_incoming_call")
    voicemails = async_capture_events(hass, f"{DOMAIN}_voicemail")
    arrived = asyncio.Event()
    hass.bus.async_listen_once(f"{DOMAIN}_voicemail", lambda _event: arrived.set())
    assert hass.states.get("sensor.hold_slayer_unheard_voicemails").state == "0"

    scenario = await hass.async_add_executor_job(_caller_scenario, tmp_path, pcap, speak_ms)
    caller = await hass.async_add_executor_job(
        _sipp, tmp_path, "caller", "-sf", str(scenario), "-s", DIALLED, f"127.0.0.1:{sidecar.sip_port}"
    )
    try:
        async with asyncio.timeout(VOICEMAIL_WAIT_S):
            await arrived.wait()
    finally:
        await hass.async_add_executor_job(_finished, caller, tmp_path, "caller")
    await hass.async_add_executor_job(_finished, phone, tmp_path, "phone")  # it rang and was cancelled
    await hass.async_block_till_done()

    # The incoming call: who, what they dialled, and what was decided by which rule.
    (ring,) = incoming
    assert ring.data["caller"] == CALLER and ring.data["dialled"] == DIALLED
    assert ring.data["action"] == "ring_chain" and ring.data["rule"] == "Ring everyone"
    assert ring.data["config_entry_id"] == entry.entry_id

    # The voicemail: the caller, what was heard, and the recording as a playable media id.
    (event,) = voicemails
    message = event.data
    assert message["caller"] == CALLER and message["dialled"] == DIALLED and message["call_id"] == ring.data["call_id"]
    assert isinstance(message["transcript"], str) and message["transcript"].strip(), message
    assert message["recording"].endswith(".wav") and message["duration_s"] > 1.0
    assert (
        message["media_content_id"] == f"media-source://{DOMAIN}/{entry.entry_id}/voicemail/{message['voicemail_id']}"
    )

    # The sensors: one unheard message (listed with its transcript), the phone's ring on its last-call sensor.
    unheard = hass.states.get("sensor.hold_slayer_unheard_voicemails")
    assert unheard.state == "1"
    [listed] = [v for v in unheard.attributes["voicemails"] if v["voicemail_id"] == message["voicemail_id"]]
    assert listed["transcript"] == message["transcript"] and listed["heard"] is False
    last_call = hass.states.get("sensor.den_phone_last_call")
    assert last_call.state not in ("unknown", "unavailable") and last_call.attributes["last_caller"] == CALLER
    assert den["device_id"]

    # The recording plays through HA: the media source resolves it, the authenticated view serves the WAV.
    played = await media_source.async_resolve_media(hass, message["media_content_id"], None)
    assert played.mime_type == "audio/wav"
    response = await (await hass_client()).get(played.url)
    assert response.status == 200
    with wave.open(io.BytesIO(await response.read())) as wav:
        rate, seconds = wav.getframerate(), wav.getnframes() / wav.getframerate()
    assert rate == 8000 and seconds == pytest.approx(message["duration_s"], abs=0.05)
    assert seconds >= speak_ms / 1000 - 0.5  # the whole message was kept

    # Heard: the sensor counts down.
    await _call(hass, "mark_voicemail_heard", {"voicemail_id": message["voicemail_id"]})
    counted_down = asyncio.Event()
    unsubscribe = async_track_state_change_event(
        hass, "sensor.hold_slayer_unheard_voicemails", lambda event: counted_down.set()
    )
    try:
        if hass.states.get("sensor.hold_slayer_unheard_voicemails").state != "0":
            async with asyncio.timeout(10):
                await counted_down.wait()
    finally:
        unsubscribe()
    assert hass.states.get("sensor.hold_slayer_unheard_voicemails").state == "0"

"""Real peers the settings are checked against: SIPp as a digest registrar, a Wyoming service (the wyoming package)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from sidecar_harness import free_port
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncTcpServer

SCENARIOS = Path(__file__).parents[1] / "sip" / "scenarios"
_ATTRIBUTION = Attribution(name="test", url="http://127.0.0.1/")


def wyoming_info(kind: str) -> Info:
    """What a speech-to-text ('asr') or text-to-speech ('tts') service says about itself."""
    if kind == "asr":
        model = AsrModel(
            name="tiny", description="tiny", attribution=_ATTRIBUTION, installed=True, languages=["en"], version="1"
        )
        program = AsrProgram(
            name="whisper", description="w", attribution=_ATTRIBUTION, installed=True, version="1", models=[model]
        )
        return Info(asr=[program])
    voice = TtsVoice(
        name="amy", description="amy", attribution=_ATTRIBUTION, installed=True, languages=["en"], version="1"
    )
    return Info(
        tts=[
            TtsProgram(
                name="piper", description="p", attribution=_ATTRIBUTION, installed=True, version="1", voices=[voice]
            )
        ]
    )


class _Describer(AsyncEventHandler):
    """Answers describe with the service's info, as wyoming-faster-whisper and wyoming-piper do."""

    info: Info

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.info.event())
        return True


@contextlib.asynccontextmanager
async def wyoming_service(kind: str) -> AsyncIterator[str]:
    """Run a Wyoming service of ``kind`` on 127.0.0.1; yield its host:port."""
    port = free_port(socket.SOCK_STREAM)
    server = AsyncTcpServer("127.0.0.1", port)
    info = wyoming_info(kind)

    def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Describer:
        describer = _Describer(reader, writer)
        describer.info = info
        return describer

    task = asyncio.create_task(server.run(handler))
    for _ in range(100):
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        await asyncio.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await server.stop()


@contextlib.asynccontextmanager
async def sipp_registrar(
    tmp_path: Path, *, user: str, password: str
) -> AsyncIterator[tuple[int, asyncio.subprocess.Process]]:
    """SIPp answering one REGISTER with a 401 digest challenge, then 200 (right password) or 403 (wrong)."""
    scenario = tmp_path / "registrar.xml"
    template = (SCENARIOS / "registrar.xml").read_text()
    scenario.write_text(template.replace("__USER__", user).replace("__PASSWORD__", password))
    port, media = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    log = tmp_path / "sipp.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-mp", str(media),
            "-nostdin", "-m", "1", "-timeout", "30", "-timeout_error",
            stdout=out, stderr=out, cwd=tmp_path,
        )  # fmt: skip
    await asyncio.sleep(0.3)  # let SIPp bind
    try:
        yield port, proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()

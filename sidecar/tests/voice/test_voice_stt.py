"""Speech-to-text: the embedded model hears a TTS prompt; remote backends fail as VoiceEngineError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import numpy as np
import pytest
from aiohttp import web
from hold_slayer_sidecar.nav.keyslot import KEYS, find_slots, plan_texts
from hold_slayer_sidecar.nav.parser import parse_options
from hold_slayer_sidecar.voice.api import QuickTranscriber, TextScorer, VoiceEngineError
from hold_slayer_sidecar.voice.stt import (
    FIT_MAX_S,
    IVR_PROMPT,
    QUICK_MAX_S,
    EmbeddedWhisperStt,
    OpenAiStt,
    WyomingStt,
    fold_repeats,
)
from hold_slayer_sidecar.voice.tts import EspeakTts, PiperTts, WyomingTts
from hold_slayer_sidecar.voice.wyoming import WyomingEvent, read_event, write_event

PROMPT = "For billing, press 1. For claims, press 2."


@pytest.fixture(scope="module")
def whisper() -> EmbeddedWhisperStt:
    return EmbeddedWhisperStt()


@pytest.mark.slow
async def test_embedded_whisper_transcribes_a_piper_prompt(whisper: EmbeddedWhisperStt) -> None:
    audio = await PiperTts().synthesize(PROMPT, 8000)
    transcript = await whisper.transcribe(audio.pcm, 8000)
    assert {o.digit: o.label for o in parse_options(transcript.text)} == {"1": "billing", "2": "claims"}
    assert 0 < transcript.confidence <= 1
    assert await whisper.health() == "ok"


@pytest.mark.slow
async def test_embedded_whisper_transcribes_an_espeak_prompt(whisper: EmbeddedWhisperStt) -> None:
    audio = await EspeakTts("en-us").synthesize(PROMPT, 8000)
    transcript = await whisper.transcribe(audio.pcm, 8000)
    assert "press 1" in transcript.text.lower()


@pytest.mark.slow
async def test_embedded_whisper_gives_the_same_words_for_the_same_audio(whisper: EmbeddedWhisperStt) -> None:
    # The decoder may fall back to sampling; the fixed seed keeps a benchmark run repeatable.
    audio = await EspeakTts("en-gb+f2").synthesize("Press 4 for water service.", 8000)
    first = await whisper.transcribe(audio.pcm, 8000)
    assert (await whisper.transcribe(audio.pcm, 8000)).text == first.text
    unseeded = EmbeddedWhisperStt(seed=None)
    assert "press 4" in (await unseeded.transcribe(audio.pcm, 8000)).text.lower()


@pytest.mark.slow
async def test_embedded_whisper_scores_the_true_label_above_a_wrong_one(whisper: EmbeddedWhisperStt) -> None:
    audio = await EspeakTts("en-us").synthesize("Press 1 for credit and debit cards.", 8000)
    assert isinstance(whisper, TextScorer)
    true, garbled, other = await whisper.score_texts(
        audio.pcm,
        8000,
        [
            "Press 1 for credit and debit cards.",
            "Press 1 for tremendous and mammoth cars.",
            "Press 1 for report fraud.",
        ],
        budget_s=60.0,  # a loaded test machine must not leave candidates unscored
    )
    assert true is not None and garbled is not None and other is not None
    assert true > garbled and true > other


@pytest.mark.slow
@pytest.mark.parametrize("key", ["4", "star"])
async def test_the_said_key_is_the_likeliest_of_the_twelve_on_either_window(
    whisper: EmbeddedWhisperStt, key: str
) -> None:
    said = f"For water service, press {key}."
    audio = await EspeakTts("en-gb+f2").synthesize(said, 8000)
    (slot,) = find_slots(said)
    texts = plan_texts(said, slot)[1:]  # the twelve keys in the slot
    for fit in (False, True):  # the 10 s window the menu decode uses, and whisper's own 30 s
        scores = whisper.score_texts_blocking(audio.pcm, 8000, texts, budget_s=60.0, fit=fit)
        best = max(range(len(KEYS)), key=lambda i: scores[i] if scores[i] is not None else -1e9)
        assert KEYS[best] == key, (fit, scores)


@pytest.mark.slow
async def test_the_quick_decode_hears_a_short_answer_and_leaves_long_clips_to_the_careful_one(
    whisper: EmbeddedWhisperStt,
) -> None:
    assert isinstance(whisper, QuickTranscriber)
    for said, heard in (("Yes?", "yes"), ("Please continue to hold.", "continue to hold")):
        clip = await EspeakTts("en-us").synthesize(said, 8000)
        assert clip.pcm.size <= QUICK_MAX_S * 8000
        quick = await whisper.transcribe_quick(clip.pcm, 8000)
        assert heard in quick.text.lower() and 0 < quick.confidence <= 1
    menu = await EspeakTts("en-us").synthesize(PROMPT, 8000)  # longer than QUICK_MAX_S: the careful decode
    assert menu.pcm.size > QUICK_MAX_S * 8000
    plain = EmbeddedWhisperStt(initial_prompt=None)  # queue speech is decoded without the IVR prompt
    plain._model = whisper._load()
    assert (await whisper.transcribe_quick(menu.pcm, 8000)).text == (await plain.transcribe(menu.pcm, 8000)).text
    assert (await whisper.transcribe_quick(np.zeros(100, np.int16), 8000)).text == ""


def test_a_looping_decode_is_folded() -> None:
    assert fold_repeats("Yes? Yes? Yes? Yes?") == "Yes?"
    assert fold_repeats("Yes. Yes") == "Yes."
    assert fold_repeats("Please hold. Please hold. Thank you.") == "Please hold. Thank you."
    assert fold_repeats("Press 1 for billing, press 2 for claims.") == "Press 1 for billing, press 2 for claims."


def test_remote_engines_offer_no_text_scoring() -> None:
    assert not isinstance(WyomingStt("tcp://127.0.0.1:1"), TextScorer)
    assert not isinstance(OpenAiStt("http://127.0.0.1:1"), TextScorer)
    assert not isinstance(WyomingStt("tcp://127.0.0.1:1"), QuickTranscriber)


async def test_silence_and_tiny_segments(whisper: EmbeddedWhisperStt) -> None:
    assert (await whisper.transcribe(np.zeros(100, np.int16), 8000)).text == ""
    with pytest.raises(VoiceEngineError):
        await whisper.transcribe(np.zeros(8000, np.int16), 0)


async def test_dead_wyoming_stt_is_a_voice_error(unused_tcp_port: int) -> None:
    stt = WyomingStt(f"tcp://127.0.0.1:{unused_tcp_port}", timeout_s=2)
    with pytest.raises(VoiceEngineError):
        await stt.transcribe(np.zeros(8000, np.int16), 8000)
    assert "cannot reach" in await stt.health()


async def test_dead_openai_stt_is_a_voice_error(unused_tcp_port: int) -> None:
    stt = OpenAiStt(f"http://127.0.0.1:{unused_tcp_port}", timeout_s=2)
    with pytest.raises(VoiceEngineError):
        await stt.transcribe(np.zeros(8000, np.int16), 8000)
    assert await stt.health() != "ok"


@pytest.mark.parametrize("url", ["http://example:10300", "tcp://nohost", "example"])
def test_bad_wyoming_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="tcp://host:port"):
        WyomingStt(url)
    with pytest.raises(ValueError, match="tcp://host:port"):
        WyomingTts(url)


@pytest.fixture
async def wyoming_server(unused_tcp_port: int) -> AsyncIterator[tuple[str, list[WyomingEvent]]]:
    """A Wyoming service that answers describe, transcribe (echoing the audio length) and synthesize."""
    seen: list[WyomingEvent] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        audio = b""
        try:
            while True:
                event = await read_event(reader)
                seen.append(event)
                if event.type == "describe":
                    await write_event(writer, WyomingEvent("info", {"asr": [{"name": "fake"}], "tts": [{"name": "f"}]}))
                elif event.type == "audio-chunk":
                    audio += event.payload
                elif event.type == "audio-stop":
                    text = f"heard {len(audio) // 2} samples"
                    await write_event(writer, WyomingEvent("transcript", {"text": text}))
                elif event.type == "synthesize":
                    fmt = {"rate": 22050, "width": 2, "channels": 1}
                    tone = (np.sin(np.arange(22050) * 0.1) * 8000).astype("<i2").tobytes()
                    await write_event(writer, WyomingEvent("audio-start", fmt))
                    await write_event(writer, WyomingEvent("audio-chunk", fmt, tone))
                    await write_event(writer, WyomingEvent("audio-stop", {}))
        except VoiceEngineError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", unused_tcp_port)
    yield f"tcp://127.0.0.1:{unused_tcp_port}", seen
    server.close()
    await server.wait_closed()


async def test_wyoming_stt_streams_16khz_audio(wyoming_server: tuple[str, list[WyomingEvent]]) -> None:
    url, seen = wyoming_server
    stt = WyomingStt(url)
    assert await stt.health() == "ok"
    transcript = await stt.transcribe(np.zeros(8000, np.int16), 8000)
    assert transcript.text == "heard 16000 samples"  # one second resampled to 16 kHz
    kinds = [e.type for e in seen]
    assert kinds[1:3] == ["transcribe", "audio-start"] and kinds[-1] == "audio-stop"
    assert seen[2].data["rate"] == 16000


async def test_wyoming_tts_resamples_to_the_call_rate(wyoming_server: tuple[str, list[WyomingEvent]]) -> None:
    url, seen = wyoming_server
    tts = WyomingTts(url, voice="en_US-joe")
    assert await tts.health() == "ok"
    audio = await tts.synthesize("hello", 8000)
    assert audio.sample_rate == 8000
    assert audio.pcm.size == 8000  # one second at 22.05 kHz became one second at 8 kHz
    synth = next(e for e in seen if e.type == "synthesize")
    assert synth.data == {"text": "hello", "voice": {"name": "en_US-joe"}}


async def test_wyoming_frame_with_inline_data_is_read() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(json.dumps({"type": "transcript", "data": {"text": "hi"}}).encode() + b"\n")
    reader.feed_eof()
    event = await read_event(reader)
    assert (event.type, event.data) == ("transcript", {"text": "hi"})
    with pytest.raises(VoiceEngineError):
        await read_event(reader)


@pytest.fixture
async def openai_stt_server(unused_tcp_port: int) -> AsyncIterator[str]:
    async def transcriptions(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        wav = upload.file.read()
        assert wav[:4] == b"RIFF"
        model = form["model"]
        assert isinstance(model, str)
        return web.json_response({"text": f" {model} got {len(wav)} bytes "})

    app = web.Application()
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield f"http://127.0.0.1:{unused_tcp_port}"
    await runner.cleanup()


async def test_openai_stt_uploads_multipart_wav(openai_stt_server: str) -> None:
    stt = OpenAiStt(openai_stt_server, model="whisper-1")
    transcript = await stt.transcribe(np.zeros(8000, np.int16), 8000)
    assert transcript.text == f"whisper-1 got {44 + 32000} bytes"


@pytest.mark.parametrize(
    ("text", "echo"),
    [
        ("To speak to a representative, press 0.", True),
        ("For billing and insurance. To speak to a representative press 0", True),
        ("To speak to a representative, press 1.", True),  # copied, with the key the audio had
        ("To speak to a representative, press four.", True),
        ("To speak to a representative about billing, press 4.", False),
        ("Thank you for calling.", False),  # only the prompt's last sentence: the others are common menu lines
        ("For billing, press 1.", False),
    ],
)
def test_echoes_prompt_spots_a_copied_menu_sentence(text: str, echo: bool) -> None:
    from hold_slayer_sidecar.voice.stt import IVR_PROMPT, echoes_prompt

    assert echoes_prompt(text, IVR_PROMPT) is echo


class _Segment:
    def __init__(self, text: str) -> None:
        self.text, self.avg_logprob = text, -0.2


class _EchoingModel:
    """Stands in for faster-whisper: copies its prompt's last sentence when it has one."""

    def __init__(self) -> None:
        self.prompts: list[str | None] = []

    def transcribe(self, _audio: object, **kwargs: object) -> tuple[list[_Segment], None]:
        prompt = kwargs.get("initial_prompt")
        self.prompts.append(prompt if isinstance(prompt, str) else None)
        return [_Segment("To speak to a representative, press 0." if prompt else "For prescription refills.")], None


def test_a_decode_that_copies_the_prompt_is_redone_from_the_audio_alone() -> None:
    stt = EmbeddedWhisperStt(seed=None, fit_window=False)  # the 30 s decode's policy
    model = _EchoingModel()
    stt._model = model  # one layer under test: the decode policy, not the model
    result = stt.transcribe_blocking(np.ones(8000, np.int16), 8000)
    assert result.text == "For prescription refills."
    assert model.prompts == [stt._initial_prompt, None]


class _RepresentativeModel(_EchoingModel):
    """A company that really offers a representative: heard so with and without the prompt."""

    def transcribe(self, _audio: object, **kwargs: object) -> tuple[list[_Segment], None]:
        prompt = kwargs.get("initial_prompt")
        self.prompts.append(prompt if isinstance(prompt, str) else None)
        text = "To speak to a representative, press 0." if prompt else "To speak to a representative press zero"
        return [_Segment(text)], None


def test_a_real_representative_option_heard_again_without_the_prompt_keeps_its_first_decode() -> None:
    stt = EmbeddedWhisperStt(seed=None, fit_window=False)  # the 30 s decode's policy
    model = _RepresentativeModel()
    stt._model = model
    assert stt.transcribe_blocking(np.ones(8000, np.int16), 8000).text == "To speak to a representative, press 0."
    assert model.prompts == [stt._initial_prompt, None]


def test_queue_speech_is_decoded_without_the_menu_prompt() -> None:
    """The IVR prompt's menu words make whisper hear a menu in a person's words; queue speech goes without it."""
    stt = EmbeddedWhisperStt(seed=None, fit_window=False)  # the 30 s decode's policy
    model = _EchoingModel()
    stt._model = model
    longer_than_quick = np.ones(int((QUICK_MAX_S + 0.5) * 8000), np.int16)  # the careful decode, still no prompt
    assert stt.transcribe_quick_blocking(longer_than_quick, 8000).text == "For prescription refills."
    assert model.prompts == [None]
    stt.transcribe_blocking(longer_than_quick, 8000)  # the IVR's own speech keeps it
    assert model.prompts[1] == IVR_PROMPT


def test_a_short_menu_segment_is_decoded_on_a_fitted_window_unless_it_copies_the_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stt = EmbeddedWhisperStt(seed=None)
    model = _EchoingModel()
    stt._model = model
    heard = {"text": "For prescription refills, press 2."}
    monkeypatch.setattr(stt, "_decode_quick", lambda *_a: (heard["text"], -0.2))
    assert stt.transcribe_blocking(np.ones(8000, np.int16), 8000).text == "For prescription refills, press 2."
    assert model.prompts == []  # the 30 s decode never ran
    heard["text"] = "To speak to a representative, press 0."  # a copy of the prompt: the full decode undoes it
    assert stt.transcribe_blocking(np.ones(8000, np.int16), 8000).text == "For prescription refills."
    too_long = np.ones(int((FIT_MAX_S + 1) * 8000), np.int16)
    heard["text"] = "never used"
    assert stt.transcribe_blocking(too_long, 8000).text == "For prescription refills."

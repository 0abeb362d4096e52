"""IVR navigation benchmark: every simulated company x test intent.

    scripts/run bench ivr [--mode auto|real|offline|text] [--json] [--heldout] [--set NAME] [--company ID]
                           [--llm-url URL]

``real``: a REAL call per run over loopback SIP: the simulator (``python -m hold_slayer_sim.company``) answers,
the sidecar (``python -m hold_slayer_sidecar``) dials it through its websocket API, and the simulator's report
says which department the call reached (see ``bench/ivr_real`` section below).
``offline``: no SIP. The company's prompts are rendered with the company's TTS voice, cut into segments at
0.3 s pauses (as the VAD does), transcribed by the embedded STT and fed, growing, to the navigator exactly as the
call machine does; digits and speech drive a model of the company's menu tree (invalid/no-input retries,
keyword routing of spoken reasons via TTS -> STT). Measures parser + matcher + STT together, plus STT WER/RTF.
As in a call, the navigator is asked once more when the company goes quiet after a prompt (``--no-settle``
turns that off); ``--whole-prompt`` re-transcribes all audio since the last move per segment (the call's
``whole_prompt_stt`` option); ``--beam N`` sets whisper's beam size, ``--stt-prompt TEXT`` its initial prompt.
Menu labels are rescored against each segment's audio as the call does (nav/relabel.py; ``--no-relabel`` turns
that off); ``--ablate-lexicon`` first drops every label-lexicon phrase found in a simulated company's file, to
show how navigation fares with a company whose labels the lexicon does not hold.
Decoding is seeded, so the same audio gives the same words; piper-voiced prompts (and the caller's spoken
reasons) differ from run to run, so two offline runs can still differ by a run or two out of 41.
``text``: like offline but with the prompt texts themselves (no TTS/STT): parser + matcher only.
``auto`` (default) runs ``real`` when the sidecar and simulator entry points exist, else ``offline``.

Prints a table; with ``--json`` the last line is ``{"runs", "success_rate", "median_time_to_queue_s", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sidecar.calls.greeting import TURN_GAP_S
from hold_slayer_sidecar.calls.menu_segments import HeardSegment, MenuSegments, joined_audio
from hold_slayer_sidecar.calls.prompt_audio import GAP_S
from hold_slayer_sidecar.nav.api import NavAction, NavDecision
from hold_slayer_sidecar.nav.keyslot import correct_keys
from hold_slayer_sidecar.nav.keywords import DIGIT_WORDS, SOUNDALIKES
from hold_slayer_sidecar.nav.navigator import MenuNavigator
from hold_slayer_sidecar.nav.relabel import Relabeler, load_lexicon
from hold_slayer_sidecar.voice.api import ChatModel
from hold_slayer_sidecar.voice.stt import IVR_PROMPT, EmbeddedWhisperStt
from hold_slayer_sidecar.voice.tts import PiperTts

from .ivr_score import expert_seconds, judge_keys, presses_from_report

RATE = 8000
_FRAME = RATE // 50  # 20 ms
_PAUSE_S = 0.3  # the detector's VAD hangover: a longer pause ends a speech segment
_SILENCE_DBFS = -40.0
_MAX_ACTIONS = 12
_DIGIT_S = 0.15  # one RFC 4733 digit plus the gap before the next
_SETTLE_S = _PAUSE_S + 1.0  # the detector reports SILENCE after 1 s of quiet (audio/detector.py)

# Intents written for this benchmark (not in the company files) to check that the matcher generalises.
HELDOUT: tuple[tuple[str, str, str], ...] = (
    ("brightwater_utilities", "My lights went out an hour ago", "outages"),
    ("brightwater_utilities", "I got charged a late fee", "billing"),
    ("brightwater_utilities", "I need to set up service at my new apartment", "service_orders"),
    ("brightwater_utilities", "My tap water looks brown", "water"),
    ("first_city_bank", "Someone stole my wallet with my Visa card", "lost_cards"),
    ("first_city_bank", "What's the balance on my savings account", "customer_service"),
    ("first_city_bank", "I need a car loan", "lending"),
    ("first_city_bank", "I forgot my online banking password", "online_banking"),
    ("metro_mobile", "My calls keep dropping", "tech_support"),
    ("metro_mobile", "I'd like to switch to a cheaper plan", "sales"),
    ("metro_mobile", "I'm switching to another carrier and want to end my service", "retention"),
    ("northside_clinic", "I need to reschedule my appointment", "scheduling"),
    ("northside_clinic", "My prescription ran out", "pharmacy"),
    ("northside_clinic", "Does my insurance cover this visit", "billing"),
    ("northside_clinic", "I have a bad cough and want medical advice", "nurse"),
    ("skyways_airlines", "I want to buy tickets to Chicago", "reservations"),
    ("skyways_airlines", "We are a school group of 30 students traveling together", "groups"),
    ("skyways_airlines", "My bag arrived with a broken handle", "baggage_claims"),
    ("skyways_airlines", "I want to pick my seat for my flight next week", "special_assistance"),
    ("skyways_airlines", "I'm owed a travel credit", "refunds"),
    ("skyways_airlines", "I want to use my miles", "loyalty"),
)


@dataclass(slots=True)
class RunResult:
    """One company x intent run."""

    company: str
    intent: str
    expected: str
    reached: str = ""
    digits: str = ""
    time_to_queue_s: float | None = None
    wer: float | None = None
    error: str = ""
    decisions: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)  # the prompts the navigator answered
    presses: list[tuple[str, str]] = field(default_factory=list)  # (menu id, key) as the company received them
    away_keys: int = 0  # keys after which the intent's department was out of reach (ivr_score.judge_keys)
    person_keys: int = 0  # keys into a person (operator, agent): a detour, not a dead end
    expert_s: float | None = None  # a person who knows the menu (ivr_score.expert_seconds)

    @property
    def ok(self) -> bool:
        """Reached the department the test intent names."""
        return self.reached == self.expected


# ------------------------------------------------------------------ word error rate


_NUMBER_WORDS = {**DIGIT_WORDS, "oh": SOUNDALIKES["oh"]}  # the menus' key words; "won" stays a word here


def wer_words(text: str) -> list[str]:
    """Normalised words for WER: lower case, no punctuation, digits as digits."""
    words = re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
    return [_NUMBER_WORDS.get(w, w) for w in words]


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance over words (substitutions + insertions + deletions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


# ------------------------------------------------------------------ hearing prompts (TTS -> segments -> STT)


def split_segments(pcm: Pcm) -> list[tuple[Pcm, float]]:
    """Cut speech at pauses longer than the VAD hangover; each piece with its end time in the clip."""
    n = pcm.size // _FRAME
    if n == 0:
        return []
    frames = pcm[: n * _FRAME].astype(np.float64).reshape(n, _FRAME)
    loud = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) / 32768.0 + 1e-9) > _SILENCE_DBFS
    gap = round(_PAUSE_S * 50)
    out: list[tuple[Pcm, float]] = []
    start, quiet = -1, 0
    for i, is_loud in enumerate(loud):
        if is_loud:
            start = i if start < 0 else start
            quiet = 0
        elif start >= 0:
            quiet += 1
            if quiet >= gap:
                end = i - quiet + 1
                out.append((pcm[start * _FRAME : end * _FRAME], (end * _FRAME) / RATE))
                start, quiet = -1, 0
    if start >= 0:
        out.append((pcm[start * _FRAME :], pcm.size / RATE))
    return out


class PromptEar:
    """Turns a company clip into (segment transcript, seconds into the clip) pairs, as a call would hear it."""

    def __init__(
        self,
        *,
        use_audio: bool,
        whole: bool = False,
        settle: bool = True,
        beam_size: int = 1,
        stt_prompt: str = "",
        relabeler: Relabeler | None = None,
    ) -> None:
        self.use_audio = use_audio
        self.settle = settle  # ask again once the company goes quiet after a prompt, as the call does
        self.whole = whole and use_audio  # re-transcribe all audio since the last move, as the call does
        prompt = stt_prompt or IVR_PROMPT
        # A large encoder cache: the same segment is rescored for every intent of its company.
        self._stt = (
            EmbeddedWhisperStt(beam_size=beam_size, initial_prompt=prompt, encoder_cache=256) if use_audio else None
        )
        # Menu segments' labels corrected against their audio, as the call does (calls/effects.py).
        self.relabeler = relabeler if use_audio and not self.whole else None
        self._relabeled: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
        self.relabel_seconds = 0.0
        self.relabel_segments = 0
        self.relabel_changes: dict[tuple[str, str], str] = {}
        self._cache: dict[tuple[str, str], tuple[list[tuple[str, float]], float]] = {}
        self._audio: dict[tuple[str, str], list[Pcm]] = {}
        self._confidence: dict[tuple[str, str], list[float]] = {}
        self._whole_cache: dict[tuple[tuple[str, str, int], ...], str] = {}
        self.stt_seconds = 0.0
        self.audio_seconds = 0.0
        self.ref_words = 0
        self.word_errors = 0

    def hear(self, text: str, voice: Any, intent: str = "") -> tuple[list[tuple[str, float]], float]:
        """Segments of ``text`` spoken in ``voice`` and the clip length in seconds (labels corrected for ``intent``)."""
        key = (text, str(voice.key))
        if key not in self._cache:
            self._cache[key] = self._render(text, voice) if self._stt else _text_segments(text)
        heard, length = self._cache[key]
        if self.relabeler is None or not intent:
            return heard, length
        fixed_key = (*key, intent)
        if fixed_key not in self._relabeled:
            fixed: list[tuple[str, float]] = []
            recent = MenuSegments()  # labels cut in two by a pause are rescored whole, as the call does
            for segment, (decoded, end_s), conf in zip(self._audio[key], heard, self._confidence[key], strict=True):
                text = self._relabel(segment, decoded, intent, conf)
                run = recent.add(1, HeardSegment(decoded, segment, RATE, end_s))
                fixed.append((self._relabel_span(run, intent, conf) or text, end_s))
            self._relabeled[fixed_key] = fixed
        return self._relabeled[fixed_key], length

    def _relabel_span(self, run: list[HeardSegment], intent: str, confidence: float) -> str | None:
        assert self._stt is not None and self.relabeler is not None
        if len(run) < 2:
            return None
        started = time.perf_counter()
        span = self.relabeler.plan_span([s.text for s in run], intent, confidence)
        if span is None:
            return None
        scores = self._stt.score_texts_blocking(joined_audio(run[-span.parts :]), RATE, span.plan.texts, fit=True)
        fed = span.feed(self.relabeler.pick(span.plan, scores, replace=True))
        self.relabel_seconds += time.perf_counter() - started
        self.relabel_segments += 1
        if fed is not None:
            self.relabel_changes[(span.plan.texts[0], fed)] = "span"
        return fed

    def _relabel(self, segment: Pcm, decoded: str, intent: str, confidence: float) -> str:
        assert self._stt is not None and self.relabeler is not None
        stt = self._stt
        started = time.perf_counter()
        result = self.relabeler.correct_blocking(
            decoded,
            intent,
            lambda texts: stt.score_texts_blocking(segment, RATE, texts, fit=True),
            confidence,
            audio_s=segment.size / RATE,
        )
        self.relabel_seconds += time.perf_counter() - started
        self.relabel_segments += 1
        if result.changed:
            self.relabel_changes[(decoded, result.text)] = f"{result.margin:+.2f}{' hint' if result.hint else ''}"
        return result.text

    def _render(self, text: str, voice: Any) -> tuple[list[tuple[str, float]], float]:
        assert self._stt is not None
        from hold_slayer_sim.speech import synthesize

        pcm = synthesize(text, voice)  # the simulator's voices: the product's engines plus flite and festival
        heard: list[tuple[str, float]] = []
        pieces = split_segments(pcm)
        self._audio[(text, str(voice.key))] = [segment for segment, _end in pieces]
        confidences = self._confidence.setdefault((text, str(voice.key)), [])
        for segment, end_s in pieces:
            started = time.perf_counter()
            # Whole mode transcribes prefixes in ``prompt_audio``; per segment only as WER reference there.
            said = self._stt.transcribe_blocking(segment, RATE) if not self.whole else None
            words = said.text if said else ""
            if said and self.relabeler is not None:  # keys checked against the audio, as the call does (effects.py)
                score = functools.partial(self._stt.score_texts_blocking, segment, RATE, fit=True)
                words = correct_keys(words, score, confidence=said.confidence)[0]
            heard.append((words, end_s))
            confidences.append(said.confidence if said else 0.0)
            self.stt_seconds += 0.0 if self.whole else time.perf_counter() - started
            self.audio_seconds += segment.size / RATE
        hyp = " ".join(t for t, _ in heard)
        if self.whole:
            gap = np.zeros(int(GAP_S * RATE), np.int16)
            joined = np.concatenate([x for segment, _e in pieces for x in (segment, gap)] or [gap])
            hyp = self._stt.transcribe_blocking(joined, RATE).text
        ref = wer_words(text)
        self.ref_words += len(ref)
        self.word_errors += edit_distance(ref, wer_words(hyp))
        return heard, pcm.size / RATE

    def prompt_audio(self, keys: list[tuple[str, str, int]]) -> str:
        """Transcript of the listed segments (clip text, voice, index) transcribed together, as the call does."""
        assert self._stt is not None
        key = tuple(keys)
        if key not in self._whole_cache:
            gap = np.zeros(int(GAP_S * RATE), np.int16)
            parts = [x for text, voice, i in keys for x in (gap, self._audio[(text, voice)][i])][1:]
            started = time.perf_counter()
            self._whole_cache[key] = self._stt.transcribe_blocking(np.concatenate(parts), RATE).text
            self.stt_seconds += time.perf_counter() - started
        return self._whole_cache[key]

    def transcribe_caller(self, text: str) -> str:
        """Return what the company's transcriber hears when the call says ``text`` (piper voice, whisper)."""
        if self._stt is None:
            return text
        pcm = PiperTts().synthesize_blocking(text, RATE).pcm
        return EmbeddedWhisperStt(initial_prompt=None).transcribe_blocking(pcm, RATE).text

    @property
    def wer(self) -> float | None:
        """Corpus word error rate over every distinct prompt heard."""
        return self.word_errors / self.ref_words if self.ref_words else None

    @property
    def rtf(self) -> float | None:
        """STT compute time per second of audio."""
        return self.stt_seconds / self.audio_seconds if self.audio_seconds else None


def _text_segments(text: str) -> tuple[list[tuple[str, float]], float]:
    """Sentences as segments, timed at ~2.6 words per second (espeak at its default rate)."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    out, words = [], 0
    for sentence in sentences:
        words += len(sentence.split())
        out.append((sentence, words / 2.6))
    return out, words / 2.6


# ------------------------------------------------------------------ the company's menu tree, offline


@dataclass(slots=True)
class _Outcome:
    menu: str | None = None  # next menu id
    department: str | None = None
    ended: str | None = None  # why the company ended the call


class OfflineCompany:
    """The simulator's menu semantics without audio transport: options, retries, keyword routing."""

    def __init__(self, company: Any) -> None:
        self.company = company
        self.invalid = 0
        self.no_input = 0

    def goto(self, goto: Any) -> _Outcome:
        """Where a Goto leads."""
        if goto.menu is not None:
            self.invalid = self.no_input = 0
            return _Outcome(menu=goto.menu)
        if goto.queue is not None:
            return _Outcome(department=goto.queue)
        if goto.message is not None:
            return _Outcome(ended="message: " + goto.message.label[:40])
        return _Outcome()  # repeat

    def retry(self, menu_id: str, kind: str) -> tuple[_Outcome | None, list[Any]]:
        """Clips to play after an invalid key or no input, or where the menu gives up to."""
        menu = self.company.menus[menu_id]
        spec = menu.invalid if kind == "invalid" else menu.no_input
        if kind == "invalid":
            self.invalid += 1
            count = self.invalid
        else:
            self.no_input += 1
            count = self.no_input
        if count > spec.repeats:
            return self.goto(spec.then), []
        return None, ([spec.prompt] if spec.prompt is not None else []) + [menu.prompt]

    def speech(self, menu_id: str, heard: str) -> _Outcome | None:
        """Route the caller's transcribed words like the simulator; None means "invalid"."""
        from hold_slayer_sim.script import keyword_in

        menu = self.company.menus[menu_id]
        if menu.reason is not None:
            for route in menu.reason.routes:
                if any(keyword_in(heard, k) for k in route.keywords):
                    return self.goto(route.goto)
            return self.goto(menu.reason.default)
        for option in menu.options.values():
            if any(keyword_in(heard, k) for k in option.keywords):
                return self.goto(option)
        return None


async def run_offline(company: Any, intent: str, expected: str, ear: PromptEar, navigator: MenuNavigator) -> RunResult:
    """One call through the offline company model."""
    result = RunResult(company.id, intent, expected)
    model = OfflineCompany(company)
    menu_id = company.start
    clips = ([company.greeting] if company.greeting is not None else []) + [company.menus[menu_id].prompt]
    history: list[str] = []
    t = 0.0
    prompt = ""
    listened: list[tuple[str, str, int]] = []  # segments heard since the last move (whole-prompt mode)
    earlier: list[str] = []  # the company's turns since the last move, each ended by its no-input pause
    for _ in range(_MAX_ACTIONS):
        decision, t, prompt = await _listen(
            clips,
            prompt,
            intent=intent,
            history=history,
            earlier=earlier,
            ear=ear,
            navigator=navigator,
            voice=company.voice,
            t=t,
            listened=listened,
        )
        if decision is None:  # the menu finished and the navigator still waits: the company times out
            t += company.menus[menu_id].timeout_s
            outcome, clips = model.retry(menu_id, "no_input")
            result.decisions.append("timeout")
            # The call ends the company's turn after its pause (calls/greeting.py turn_gap_lasted): what follows is
            # a turn of its own, read with this one when it replays it.
            if prompt and company.menus[menu_id].timeout_s >= TURN_GAP_S:
                earlier.append(prompt)
                prompt = ""
                listened.clear()
            if outcome is None:
                continue
        else:
            history.append(prompt)
            result.heard.append(prompt)
            prompt = ""  # the call listens afresh after each move
            listened.clear()
            earlier.clear()
            what = decision.digits or decision.text[:20]
            result.decisions.append(f"{decision.action.value}:{what} ({decision.confidence:.2f} {decision.reason})")
            outcome, clips, t = _act(decision, model, menu_id, ear=ear, t=t, result=result)
            if outcome is None:
                continue
        if outcome.department:
            result.reached, result.time_to_queue_s = outcome.department, round(t, 2)
            return result
        if outcome.ended:
            result.error = outcome.ended
            return result
        menu_id = outcome.menu or menu_id
        clips = [company.menus[menu_id].prompt]
    result.error = "gave up after too many moves"
    return result


async def _listen(
    clips: list[Any],
    prompt: str,
    *,
    intent: str,
    history: list[str],
    earlier: list[str],
    ear: PromptEar,
    navigator: MenuNavigator,
    voice: Any,
    t: float,
    listened: list[tuple[str, str, int]],
) -> tuple[NavDecision | None, float, str]:
    """Play clips segment by segment, asking the navigator after each with the prompt so far, until it acts."""
    for clip in clips:
        segments, length = ear.hear(clip.label, voice, intent)
        for index, (text, end_s) in enumerate(segments):
            if ear.whole:
                listened.append((clip.label, str(voice.key), index))
                prompt = ear.prompt_audio(listened).strip()
            else:
                prompt = f"{prompt} {text}".strip()
            decision = await navigator.decide(prompt, intent, history=list(history), earlier=tuple(earlier))
            if decision.action is not NavAction.WAIT:
                return decision, t + end_s, prompt
        t += length
    if ear.settle and prompt:
        # The call asks once more when the detector reports silence after the prompt (VAD hangover + 1 s).
        decision = await navigator.decide(prompt, intent, history=list(history), earlier=tuple(earlier))
        if decision.action is not NavAction.WAIT:
            return decision, t + _SETTLE_S, prompt
    return None, t, prompt


def _act(
    decision: NavDecision, model: OfflineCompany, menu_id: str, *, ear: PromptEar, t: float, result: RunResult
) -> tuple[_Outcome | None, list[Any], float]:
    """Apply a DTMF or SPEAK decision to the company model."""
    menu = model.company.menus[menu_id]
    if decision.action is NavAction.DTMF:
        digit = decision.digits[0]
        result.digits += digit
        result.presses.append((menu_id, digit))
        t += _DIGIT_S * len(decision.digits)
        option = menu.options.get(digit)
        if option is None:
            outcome, clips = model.retry(menu_id, "invalid")
            return outcome, clips, t
        outcome = model.goto(option)
        if outcome.menu is None and outcome.department is None and outcome.ended is None:
            return None, [menu.prompt], t  # "repeat" option
        return outcome, [], t
    result.digits += "say;"
    t += max(1.0, len(decision.text.split()) / 2.5)  # speaking the reason takes time too
    if not menu.listens_for_speech:
        return None, [], t  # the company ignores speech: it will time out and replay
    routed = model.speech(menu_id, ear.transcribe_caller(decision.text))
    if routed is None:
        outcome, clips = model.retry(menu_id, "invalid")
        return outcome, clips, t
    return routed, [], t


# ------------------------------------------------------------------ real calls over loopback SIP


def real_calls_available() -> str:
    """Return '' when the sidecar and the simulator can place real calls, else why not."""
    for module in ("hold_slayer_sim.company", "hold_slayer_sim.phone", "hold_slayer_sidecar.__main__"):
        if importlib.util.find_spec(module) is None:
            return f"{module} not available"
    return ""


_REAL_TIMEOUT_S = 150.0  # one call: ringback, greeting, menus and retries
_REAL_PARALLEL = 2  # calls at once: the sidecar's own maximum (settings.max_calls: one PJSUA2 process, 4 legs)


async def run_real(
    cases: list[tuple[Any, str, str]], workdir: Path, paths: dict[str, Path], parallel: int = _REAL_PARALLEL
) -> list[RunResult]:
    """Place one real call per case through a real sidecar to the real simulator; read the ground truth."""
    from hold_slayer_tools import demo

    token = secrets.token_urlsafe(24)
    children = demo.Children(workdir)
    company_report = workdir / "company.jsonl"
    try:
        files = sorted({str(paths[c.id]) for c, _i, _d in cases})
        company_args = [arg for path in files for arg in ("--company", path)]
        company = await children.spawn(
            "company", "-m", "hold_slayer_sim.company", *company_args, "--port", "0", "--report", str(company_report)
        )
        phone = await children.spawn("phone", "-m", "hold_slayer_sim.phone", "--port", "0")
        sidecar, ready_path = await demo.spawn_sidecar(children, workdir, token)
        uris = (await demo.ready_line(company))["companies"]
        phone_uri = await demo.phone_ready_uri(phone)
        ready = await demo.ready_file(sidecar, ready_path)
        await demo.quiet_cpu(sidecar)
        async with demo.connect(ready["ws_url"], token) as (client, _welcome):
            router = _EventRouter(client)
            pump = asyncio.get_running_loop().create_task(router.run())
            try:
                ctx = _RealContext(client, router, uris, phone_uri, company_report, parallel=parallel)
                return await _place_all(cases, ctx)
            finally:
                pump.cancel()
    finally:
        await children.stop_all()


class _EventRouter:
    """Hands each call's websocket events to the task following that call."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}

    async def run(self) -> None:
        """Forward events until cancelled."""
        while True:
            frame = await self._client.events.get()
            queue = self.queues.get(str(frame.get("data", {}).get("call_id")))
            if queue is not None:
                queue.put_nowait(frame)


@dataclass(slots=True)
class _RealContext:
    """What every real call of one benchmark run shares."""

    client: Any
    router: _EventRouter
    uris: dict[str, str]
    phone_uri: str
    report: Path
    parallel: int = _REAL_PARALLEL
    claimed: set[str] = field(default_factory=set)


async def _place_all(cases: list[tuple[Any, str, str]], ctx: _RealContext) -> list[RunResult]:
    """Run calls to different companies side by side and calls to one company one after the other."""
    by_company: dict[str, list[int]] = {}
    for index, (company, _i, _d) in enumerate(cases):
        by_company.setdefault(company.id, []).append(index)
    results: list[RunResult | None] = [None] * len(cases)
    gate = asyncio.Semaphore(ctx.parallel)

    async def company_worker(indexes: list[int]) -> None:
        for index in indexes:
            company, intent, dept = cases[index]
            async with gate:
                results[index] = await _one_real_call(ctx, RunResult(company.id, intent, dept))

    await asyncio.gather(*(company_worker(ix) for ix in by_company.values()))
    return [r for r in results if r is not None]


async def _one_real_call(ctx: _RealContext, result: RunResult) -> RunResult:
    """One explored call: place it, wait for the simulator to report a department (or the call to end)."""
    from hold_slayer_tools import demo

    started_wall = time.time()
    call = {
        "target": ctx.uris[result.company],
        "company": result.company,
        "transfer_to": ctx.phone_uri,
        "intent": result.intent,
    }
    try:
        placed = await ctx.client.request("place_call", call)
    except (demo.DemoError, TimeoutError) as err:
        result.error = str(err)[:60] or "place_call timed out"
        return result
    call_id = str(placed["call_id"])
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    ctx.router.queues[call_id] = queue
    deadline = time.monotonic() + _REAL_TIMEOUT_S
    ended = False
    sim_call: str | None = None
    while time.monotonic() < deadline and not ended:
        with contextlib.suppress(TimeoutError):
            ended = _note_event(await asyncio.wait_for(queue.get(), 0.5), result)
        lines = _read_report(ctx.report)
        sim_call = sim_call or _claim_sim_call(lines, result.company, started_wall, ctx.claimed)
        reached = next((x for x in lines if x.get("call") == sim_call and x.get("event") == "department_reached"), None)
        if reached is not None:
            result.reached = str(reached.get("department", ""))
            result.time_to_queue_s = reached.get("t_s")
            # The simulator's own record of the keys it received is the ground truth for the digits.
            result.digits = "".join(
                str(x.get("digit", "")) for x in lines if x.get("call") == sim_call and x.get("event") == "dtmf"
            )
            break
    if not result.reached:
        result.error = "call ended" if ended else "timeout"
    if sim_call:
        result.presses = presses_from_report(_read_report(ctx.report), sim_call)
    # What the company made of the call's spoken answers, and why it hung up: the simulator's side of a failure.
    for line in _read_report(ctx.report) if sim_call else []:
        if line.get("call") == sim_call and line.get("event") in ("caller_said", "hangup"):
            said = line.get("text") if line["event"] == "caller_said" else line.get("why")
            result.decisions.append(f"company_{line['event']}:{said}")
    if not ended:
        with contextlib.suppress(demo.DemoError, TimeoutError):
            await ctx.client.request("hang_up", {"call_id": call_id})
    ctx.router.queues.pop(call_id, None)
    return result


def _note_event(frame: dict[str, Any], result: RunResult) -> bool:
    """Record digits and transcripts of one event; return True when the call is over."""
    data = frame["data"]
    if frame["event"] == "call_state":
        result.digits = str(data.get("digits_sent") or result.digits)
        return data.get("state") in ("ended", "failed")
    if frame["event"] == "transcript":
        result.decisions.append(f"heard:{str(data.get('text'))[:40]}")
    return False


def _read_report(path: Path) -> list[dict[str, Any]]:
    """Every JSON line the simulator wrote so far (a half-written last line is skipped)."""
    if not path.exists():
        return []
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(text))
    return lines


def _claim_sim_call(lines: list[dict[str, Any]], company_id: str, since: float, claimed: set[str]) -> str | None:
    """Find the simulator's id for our call: the first unclaimed answer by this company since we dialled."""
    for line in lines:
        call = str(line.get("call"))
        if (
            line.get("event") == "answered"
            and line.get("company") == company_id
            and float(line.get("wall", 0)) >= since - 1
            and call not in claimed
        ):
            claimed.add(call)
            return call
    return None


# ------------------------------------------------------------------ reporting


def print_table(results: list[RunResult]) -> None:
    """Print one line per run."""
    header = f"{'company':<22} {'intent':<48} {'expected':<18} {'reached':<18} {'digits':<8} {'queue_s':>7} ok"
    print(header)
    print("-" * len(header))
    for r in results:
        secs = f"{r.time_to_queue_s:7.1f}" if r.time_to_queue_s is not None else "      -"
        reached = r.reached or (r.error[:18] if r.error else "-")
        mark = "OK" if r.ok else "XX"
        print(f"{r.company:<22} {r.intent[:48]:<48} {r.expected:<18} {reached:<18} {r.digits:<8} {secs} {mark}")


def score(results: list[RunResult], companies: list[Any], clip_seconds: Any) -> None:
    """Fill each run's keys-led-away counts and the time a person who knows the menu takes (in place)."""
    by_id = {c.id: c for c in companies}
    paths = {(c.id, ti.intent): ti.steps for c in companies for ti in c.test_intents}
    for r in results:
        company = by_id[r.company]
        verdicts = judge_keys(company, r.presses, r.expected)
        r.away_keys = sum(v.away and not v.to_person for v in verdicts)
        r.person_keys = sum(v.to_person for v in verdicts)
        steps = paths.get((r.company, r.intent))
        length = functools.partial(_voiced, clip_seconds, company.voice)
        r.expert_s = expert_seconds(company, steps, r.intent, length) if steps else None


def _voiced(clip_seconds: Any, voice: Any, clip: Any) -> float:
    return float(clip_seconds(clip, voice))


def _totals(results: list[RunResult]) -> dict[str, Any]:
    times = [r.time_to_queue_s for r in results if r.ok and r.time_to_queue_s is not None]
    experts = [r.expert_s for r in results if r.ok and r.time_to_queue_s is not None and r.expert_s is not None]
    ratios = [
        r.time_to_queue_s / r.expert_s
        for r in results
        if r.ok and r.time_to_queue_s is not None and r.expert_s is not None and r.expert_s > 0
    ]
    return {
        "runs": len(results),
        "right": sum(r.ok for r in results),
        "success_rate": round(sum(r.ok for r in results) / len(results), 4) if results else 0.0,
        "away_keys": sum(r.away_keys for r in results),
        "person_keys": sum(r.person_keys for r in results),
        "median_time_to_queue_s": round(statistics.median(times), 2) if times else None,
        "median_expert_s": round(statistics.median(experts), 2) if experts else None,
        "median_time_ratio": round(statistics.median(ratios), 2) if ratios else None,
    }


def print_companies(results: list[RunResult]) -> None:
    """Print one line per company and the total."""
    header = (
        f"{'company':<24} {'runs':>4} {'right':>5} {'rate':>6} {'away':>4} {'person':>6} "
        f"{'queue_s':>7} {'expert_s':>8} {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    names = list(dict.fromkeys(r.company for r in results))
    for name, rows in [*((n, [r for r in results if r.company == n]) for n in names), ("TOTAL", results)]:
        t = _totals(rows)
        q = f"{t['median_time_to_queue_s']:7.1f}" if t["median_time_to_queue_s"] is not None else "      -"
        e = f"{t['median_expert_s']:8.1f}" if t["median_expert_s"] is not None else "       -"
        x = f"{t['median_time_ratio']:5.2f}" if t["median_time_ratio"] is not None else "    -"
        print(
            f"{name:<24} {t['runs']:>4} {t['right']:>5} {t['success_rate']:>6.1%} {t['away_keys']:>4} "
            f"{t['person_keys']:>6} {q} {e} {x}"
        )


def summary(results: list[RunResult], **extra: Any) -> dict[str, Any]:
    """Build the JSON summary line: totals, then per company."""
    names = list(dict.fromkeys(r.company for r in results))
    per_company = {n: _totals([r for r in results if r.company == n]) for n in names}
    return {**_totals(results), **extra, "companies": per_company}


_EVAL_DIR = Path(__file__).resolve().parents[2] / "hold_slayer_sim" / "companies_eval"


def _company_paths(dirs: Sequence[str] | None = None) -> dict[str, Path]:
    """Company files by id: the simulator's shipped companies, or every ``*.yaml`` in ``dirs``."""
    from hold_slayer_sim.model import load_company, shipped_company_files

    files = sorted(p for d in dirs for p in Path(d).glob("*.yaml")) if dirs else shipped_company_files()
    return {load_company(p).id: p for p in files}


def _load_companies(only: list[str] | None, dirs: Sequence[str] | None = None) -> list[Any]:
    from hold_slayer_sim.model import load_company

    companies = [load_company(p) for p in _company_paths(dirs).values()]
    return [c for c in companies if not only or c.id in only]


def _sim_labels(dirs: Sequence[str] | None = None) -> list[str]:
    """Lexicon labels found word for word anywhere in a simulated company's file (for the lexicon ablation)."""
    paths = _company_paths(dirs).values()
    text = " ".join(" ".join(path.read_text(encoding="utf-8").lower().split()) for path in paths)
    labels = {phrase.split(maxsplit=1)[1] for phrase in load_lexicon()}
    return sorted(label for label in labels if re.search(rf"(?<![a-z]){re.escape(label)}(?![a-z])", text))


def _clip_seconds(*, text_only: bool) -> Any:
    """Length of a company clip in seconds: as the simulator plays it (its speech cache), or by word count."""
    if text_only:
        return lambda clip, _voice: len((clip.text or "").split()) / 2.6
    from hold_slayer_sim.clips import DEFAULT_ASSET_DIR
    from hold_slayer_sim.speech import SpeechCache

    cache = SpeechCache(DEFAULT_ASSET_DIR / "tts")

    def seconds(clip: Any, voice: Any) -> float:
        return 0.0 if clip.text is None else cache.render(clip.text, voice).size / RATE

    return seconds


def _cases(companies: list[Any], heldout: bool) -> list[tuple[Any, str, str]]:
    by_id = {c.id: c for c in companies}
    if heldout:
        return [(by_id[cid], intent, dept) for cid, intent, dept in HELDOUT if cid in by_id]
    return [(c, ti.intent, ti.department) for c in companies for ti in c.test_intents]


async def offline_main(args: argparse.Namespace, llm: ChatModel | None) -> list[RunResult]:
    """Run every case through the offline company model."""
    relabeler = None
    if not args.no_relabel:
        # The ablation drops every lexicon label a simulated company uses: a company whose labels we never saw.
        exclude = _sim_labels(args.companies) if args.ablate_lexicon else ()
        relabeler = Relabeler(load_lexicon(exclude), tolerance=args.relabel_tolerance)
    ear = PromptEar(
        use_audio=args.mode != "text",
        whole=args.whole_prompt,
        settle=not args.no_settle,
        beam_size=args.beam,
        stt_prompt=args.stt_prompt,
        relabeler=relabeler,
    )
    navigator = MenuNavigator(llm=llm) if args.early is None else MenuNavigator(llm=llm, early_confidence=args.early)
    results = []
    for company, intent, dept in _cases(_load_companies(args.company, args.companies), args.heldout):
        results.append(await run_offline(company, intent, dept, ear, navigator.for_call()))
        if not args.json:
            r = results[-1]
            print(f"  {r.company}: {r.intent[:50]!r} -> {r.reached or r.error} {r.decisions}", file=sys.stderr)
    args.ear = ear
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="scripts/run bench ivr", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["auto", "real", "offline", "text"], default="auto")
    parser.add_argument("--json", action="store_true", help="print the JSON summary as the last line")
    parser.add_argument("--heldout", action="store_true", help="use the benchmark's own held-out intents")
    parser.add_argument("--company", action="append", help="only this company id (repeatable)")
    parser.add_argument(
        "--companies",
        action="append",
        metavar="DIR",
        help="company files from DIR instead of the shipped six (repeatable): hold_slayer_sim/companies_eval/heldout",
    )
    parser.add_argument(
        "--set",
        action="append",
        choices=sorted(p.name for p in _EVAL_DIR.iterdir() if p.is_dir()),
        help="a set of evaluation companies by name (repeatable): hold_slayer_sim/companies_eval/NAME",
    )
    parser.add_argument(
        "--parallel", type=int, default=_REAL_PARALLEL, help="real mode: calls at once (default: the sidecar's maximum)"
    )
    parser.add_argument("--llm-url", help="OpenAI-compatible LLM for unsure menus (default: none)")
    parser.add_argument("--llm-model", default="llama3.2")
    parser.add_argument("--out", help="also write the results as JSON to this file")
    parser.add_argument("--beam", type=int, default=1, help="offline: whisper beam size")
    parser.add_argument("--stt-prompt", default="", help="offline: whisper initial prompt instead of the default")
    parser.add_argument(
        "--no-settle", action="store_true", help="offline: never re-ask when the company goes quiet (old behaviour)"
    )
    parser.add_argument(
        "--whole-prompt", action="store_true", help="offline: re-transcribe all audio since the last move (see calls)"
    )
    parser.add_argument("--no-relabel", action="store_true", help="offline: keep decoded menu labels as they are")
    parser.add_argument(
        "--ablate-lexicon", action="store_true", help="offline: drop lexicon labels that any simulated company uses"
    )
    parser.add_argument("--relabel-tolerance", type=float, default=Relabeler().tolerance, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help="real mode: keep process logs and reports here")
    parser.add_argument("--early", type=float, help=argparse.SUPPRESS)  # offline: the navigator's early_confidence
    args = parser.parse_args(argv)
    args.companies = (args.companies or []) + [str(_EVAL_DIR / name) for name in args.set or []] or None
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    llm: ChatModel | None = None
    if args.llm_url:
        from hold_slayer_sidecar.voice.llm import OpenAiChat

        llm = OpenAiChat(args.llm_url, model=args.llm_model)
    mode = args.mode
    if mode == "auto":
        why_not = real_calls_available()
        mode = "real" if not why_not else "offline"
        if why_not:
            print(f"real calls unavailable ({why_not}); running offline", file=sys.stderr)
    args.mode = mode
    started = time.perf_counter()
    load_before = round(os.getloadavg()[0], 2)
    extra: dict[str, Any] = {"mode": mode}
    if mode == "real":
        cases = _cases(_load_companies(args.company, args.companies), args.heldout)
        with tempfile.TemporaryDirectory(prefix="hs-bench-ivr-") as tmp:
            workdir = Path(args.workdir) if args.workdir else Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            results = asyncio.run(run_real(cases, workdir, _company_paths(args.companies), args.parallel))
    else:
        results = asyncio.run(offline_main(args, llm))
        ear: PromptEar = args.ear
        if ear.use_audio:
            extra["stt_wer"] = round(ear.wer, 4) if ear.wer is not None else None
            extra["stt_rtf"] = round(ear.rtf, 4) if ear.rtf is not None else None
            if ear.relabeler is not None and ear.relabel_segments:
                extra["relabel_s_per_segment"] = round(ear.relabel_seconds / ear.relabel_segments, 3)
                extra["relabel_changed"] = len(ear.relabel_changes)
    extra["wall_s"] = round(time.perf_counter() - started, 1)
    extra["load_avg_1m"] = [load_before, round(os.getloadavg()[0], 2)]
    extra["cpus"] = os.cpu_count()
    extra["llm"] = args.llm_url or None
    _report(args, results, extra)


def _report(args: argparse.Namespace, results: list[RunResult], extra: dict[str, Any]) -> None:
    """Score the runs, print the tables, write --out and the JSON line."""
    score(results, _load_companies(args.company, args.companies), _clip_seconds(text_only=args.mode == "text"))
    print_table(results)
    print()
    print_companies(results)
    line = summary(results, **extra)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            report: dict[str, Any] = {"summary": line, "runs": [asdict(r) | {"ok": r.ok} for r in results]}
            ear_used: PromptEar | None = getattr(args, "ear", None)
            if ear_used is not None and ear_used.relabel_changes:
                report["relabel_changes"] = [[a, b, m] for (a, b), m in ear_used.relabel_changes.items()]
            json.dump(report, out, indent=1)
    if args.json:
        print(json.dumps(line))
    else:
        print(f"\n{line}")


if __name__ == "__main__":
    main()

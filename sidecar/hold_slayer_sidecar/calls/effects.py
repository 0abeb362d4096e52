"""Runs the state machine's effects through the injected engines and feeds their outcomes back.

Quick effects (timers, events, detector notes) run inline; slow ones (SIP, speech, navigation) run as
tasks owned by the call. A failing helper is logged and answered with a "failed" input, so the call goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..nav.keyslot import correct_keys_async, slots_to_check
from ..nav.relabel import Relabeled, Relabeler, SpanPlan
from ..protocol import EventType, Speaker
from ..sip.api import SipError
from ..voice.api import QuickTranscriber, SpeechAudio, TextScorer, Transcript, VoiceEngineError
from .events import (
    Bridge,
    BridgeDone,
    CancelTimer,
    Decide,
    Decided,
    DetectorNote,
    Dial,
    Dialed,
    DialFailed,
    DialUser,
    DtmfDone,
    Effect,
    Emit,
    EmitCallState,
    HangUp,
    Leg,
    NoteTranscript,
    NotifyDetector,
    RecordingStarted,
    SendDtmf,
    Speak,
    SpeakDone,
    StartRecording,
    StartTimer,
    StopSpeaking,
    Transcribe,
    Transcribed,
    UserDialed,
    UserDialFailed,
)
from .menu_segments import HeardSegment, joined_audio
from .ports import Clock, Engines, ManagerConfig
from .prompt_audio import PromptAudio
from .runtime import CallRuntime
from .session import call_info
from .speech_work import LANES, SpeechWork, StaleWork, Urgency
from .transitions import LISTENING

if TYPE_CHECKING:
    from ..audio.types import Pcm
    from .manager import CallManager

_LOGGER = logging.getLogger(__name__)
_RELABEL_BUDGET_S = 1.5  # scoring time per menu segment: the next segment is usually 1-3 s away
# Labels are rescored on the 10 s encoder window the segment was decoded on (fit=True), not whisper's 30 s: in real
# calls to heldout4 (two at a time, load ~9) a rescoring took 4.5 s median, 9.5 s p90, most of it the 30 s encoder,
# and held a speech-to-text lane while the menu's next words waited. On the segments of the tuned six and heldout
# (228 segment x intent pairs) the outcome was the same in 223, a hint beside a garbled label lost in 4, for 3.9x less
# CPU (18.5 s -> 4.8 s, load 9).
# Scoring the twelve keys of one slot takes 0.2-0.4 s on a loaded two-core machine (10 s encoder window); past this
# the remaining keys go unscored and the heard key stands (nav/keyslot.py keeps it when its own score is missing).
_KEYS_BUDGET_S = 0.8
# A rescoring starts only while the company is at most this far past the segment: the pause before the next option
# (0.3-1 s) plus the segment's own decode. Later, the next segment is already waiting for its words.
_RESCORE_MAX_LAG_S = 2.0
# A partial greeting decode reads at most the first seconds of the speech: a person's name or request to the caller
# comes within a long opening's first two breath groups (audio/detector.py, MENU_PARTIAL_*); the decoder's cost grows
# with the words, and later words no longer make the ring early.
PARTIAL_GREETING_S = 8.0


async def _guarded[T](runtime: CallRuntime, work: Awaitable[T | None]) -> T | None:
    """Run a label rescoring; on any failure log it and return None (the call keeps what it decoded)."""
    try:
        return await work
    except StaleWork as err:
        _LOGGER.debug("call %s: %s", runtime.call_id, err)
    except VoiceEngineError as err:
        _LOGGER.warning("call %s: label rescoring failed: %s", runtime.call_id, err)
    except Exception:  # a helper's bug must not cost the call its transcript
        _LOGGER.exception("call %s: label rescoring failed", runtime.call_id)
    return None


class EffectRunner:
    """Executes effects for the manager's calls."""

    def __init__(self, manager: CallManager, engines: Engines, config: ManagerConfig, clock: Clock) -> None:
        self._manager = manager
        self._engines = engines
        self._config = config
        self._clock = clock
        # The probe and the goodbye are said again and again: synthesise each once.
        policy = config.policy
        self._cached_texts = {
            policy.probe_text,
            policy.user_missed_text,
            policy.courtesy_text,
            policy.still_connecting_text,
        }
        self._speech_cache: dict[str, SpeechAudio] = {}
        # Every call's speech-to-text, most urgent first, in as many lanes as the engine decodes at once.
        self.speech_work = SpeechWork(lanes=LANES)

    def reconfigure(self, config: ManagerConfig, engines: Engines) -> None:
        """Take new settings and engines; speech made by another text-to-speech engine is made again."""
        if engines.tts is not self._engines.tts:
            self._speech_cache.clear()
        self._engines, self._config = engines, config
        policy = config.policy
        self._cached_texts = {
            policy.probe_text,
            policy.user_missed_text,
            policy.courtesy_text,
            policy.still_connecting_text,
        }

    async def close(self) -> None:
        """Drop the speech-to-text work still waiting."""
        await self.speech_work.close()

    async def speech(self, text: str) -> SpeechAudio | None:
        """Synthesise ``text`` (cached for the fixed lines); None without a TTS engine."""
        tts = self._engines.tts
        if tts is None:
            return None
        cached = self._speech_cache.get(text)
        if cached is not None:
            return cached
        audio = await tts.synthesize(text, self._config.sample_rate)
        if text in self._cached_texts:
            self._speech_cache[text] = audio
        return audio

    def run(self, runtime: CallRuntime, effect: Effect) -> None:
        """Execute one effect (never raises for a helper's failure)."""
        match effect:
            case StartTimer():
                runtime.start_timer(effect.name, effect.seconds)
            case CancelTimer():
                runtime.cancel_timer(effect.name)
            case Emit():
                self._manager.publish(effect.event, {"call_id": runtime.call_id, **effect.data})
            case EmitCallState():
                self._manager.publish(EventType.CALL_STATE, dict(call_info(runtime.session, self._clock())))
            case NotifyDetector():
                self._notify_detector(runtime, effect.note)
            case NoteTranscript():
                self._note_transcript(runtime, effect)
            case HangUp():
                self._hang_up(runtime, effect.leg)
            case StopSpeaking():
                runtime.stop_speaking()
            case Speak():
                runtime.speak(self._speak(runtime, effect))
            case _:
                runtime.spawn(self._slow(runtime, effect), type(effect).__name__)

    async def _slow(self, runtime: CallRuntime, effect: Effect) -> None:
        """Effects that wait on SIP or a voice engine."""
        match effect:
            case Dial():
                await self._dial(runtime, effect)
            case DialUser():
                await self._dial_user(runtime, effect)
            case SendDtmf():
                await self._send_dtmf(runtime, effect)
            case Transcribe():
                await self._transcribe(runtime, effect)
            case Decide():
                await self._decide(runtime, effect)
            case Bridge():
                await self._bridge(runtime)
            case StartRecording():
                await self._record(runtime, effect.leg)

    # ------------------------------------------------------------ inline

    def _notify_detector(self, runtime: CallRuntime, note: DetectorNote) -> None:
        try:
            if note is DetectorNote.IVR_DONE:
                runtime.detector.note_ivr_done(runtime.last_t_s)
            elif note is DetectorNote.MENU_AGAIN:
                runtime.detector.note_menu_again(runtime.last_t_s)
            elif note is DetectorNote.KEY_SENT:
                runtime.detector.note_key_sent(runtime.last_t_s)
            else:
                runtime.detector.note_probe_sent(runtime.last_t_s)
        except Exception:
            _LOGGER.exception("call %s: detector note %s failed", runtime.call_id, note)

    def _note_transcript(self, runtime: CallRuntime, effect: NoteTranscript) -> None:
        try:
            observations = runtime.listening.ears.words(effect.text, effect.t_s, partial=effect.partial)
        except Exception:
            _LOGGER.exception("call %s: detector transcript cue failed", runtime.call_id)
            return
        self._manager.feed_observations(runtime, observations)

    def _hang_up(self, runtime: CallRuntime, leg: Leg) -> None:
        leg_id = runtime.legs.get(leg)
        if leg_id is None:
            return
        sip = self._engines.sip

        async def hang_up() -> None:
            try:
                await sip.hang_up(leg_id)
            except SipError as err:
                _LOGGER.warning("call %s: hang-up of the %s leg failed: %s", runtime.call_id, leg, err)

        runtime.spawn(hang_up(), f"hang_up_{leg}")

    # ------------------------------------------------------------ SIP

    async def _dial(self, runtime: CallRuntime, effect: Dial) -> None:
        try:
            leg_id = await self._engines.sip.dial(effect.target)
        except SipError as err:
            if not runtime.dialed.done():
                runtime.dialed.set_exception(err)
                runtime.dialed.exception()  # retrieved: place_call may already have stopped waiting
            runtime.feed(DialFailed(self._clock(), str(err)))
            return
        if not runtime.dialed.done():
            runtime.dialed.set_result(leg_id)
        runtime.feed(Dialed(self._clock(), leg_id))
        self._manager.register_leg(runtime, Leg.COMPANY, leg_id)

    async def _dial_user(self, runtime: CallRuntime, effect: DialUser) -> None:
        try:
            # Beside the company leg: the two are bridged, and a bridge lives in one media process.
            leg_id = await self._engines.sip.dial(effect.target, near=runtime.legs.get(Leg.COMPANY))
        except SipError as err:
            runtime.feed(UserDialFailed(self._clock(), str(err)))
            return
        runtime.feed(UserDialed(self._clock(), leg_id))
        self._manager.register_leg(runtime, Leg.USER, leg_id)

    async def _send_dtmf(self, runtime: CallRuntime, effect: SendDtmf) -> None:
        leg_id = runtime.legs.get(Leg.COMPANY)
        try:
            if leg_id is None:
                raise SipError("the company leg is gone")
            await self._engines.sip.send_dtmf(leg_id, effect.digits, self._config.dtmf_method)
        except SipError as err:
            _LOGGER.warning("call %s: sending %r failed: %s", runtime.call_id, effect.digits, err)
            runtime.feed(DtmfDone(self._clock(), effect.ticket, effect.digits, ok=False, error=str(err)))
            return
        runtime.feed(DtmfDone(self._clock(), effect.ticket, effect.digits))

    async def _bridge(self, runtime: CallRuntime) -> None:
        company, user = runtime.legs.get(Leg.COMPANY), runtime.legs.get(Leg.USER)
        try:
            if company is None or user is None:
                raise SipError("a leg ended before the bridge")
            await runtime.speech_stopped()  # the bridge must not carry the end of our courtesy line
            await self._engines.sip.bridge(company, user)
        except SipError as err:
            runtime.feed(BridgeDone(self._clock(), ok=False, error=str(err)))
            return
        runtime.feed(BridgeDone(self._clock()))

    async def _record(self, runtime: CallRuntime, leg: Leg) -> None:
        if not self._config.record:
            return
        sip = self._engines.sip
        path = self._manager.recording_path(runtime.session, leg)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if leg is Leg.MIX:
                legs = [runtime.legs[key] for key in (Leg.COMPANY, Leg.USER) if key in runtime.legs]
                mix = getattr(sip, "start_mix_recording", None)  # optional engine capability
                if mix is None or len(legs) < 2:
                    return
                await mix(legs, path)
            else:
                leg_id = runtime.legs.get(leg)
                if leg_id is None:
                    return
                await sip.start_recording(leg_id, path)
        except (SipError, OSError) as err:
            _LOGGER.warning("call %s: cannot record the %s leg: %s", runtime.call_id, leg, err)
            return
        runtime.feed(RecordingStarted(self._clock(), str(path)))

    # ------------------------------------------------------------ voice helpers

    async def _speak(self, runtime: CallRuntime, effect: Speak) -> None:
        leg_id = runtime.legs.get(Leg.COMPANY)
        ok = False
        try:
            speech = await self.speech(effect.text) if leg_id is not None else None
            if speech is not None and leg_id is not None:
                _LOGGER.info("call %s: saying %r", runtime.call_id, effect.text)
                started = self._clock()
                await self._engines.sip.play(leg_id, speech.pcm, speech.sample_rate)
                ok = True
                self._said(runtime, effect.text, started)
        except (VoiceEngineError, SipError) as err:
            _LOGGER.warning("call %s: could not say %r: %s", runtime.call_id, effect.text, err)
        except Exception:  # a helper's bug must not end the call
            _LOGGER.exception("call %s: text-to-speech failed", runtime.call_id)
        runtime.feed(SpeakDone(self._clock(), effect.ticket, ok))

    def _said(self, runtime: CallRuntime, text: str, started: float) -> None:
        """Put what Hold Slayer itself said in the transcript (the history keeps it like any line)."""
        offset = round(started - runtime.session.started_at, 2)
        data = {"call_id": runtime.call_id, "speaker": Speaker.HOLD_SLAYER.value, "text": text, "offset_s": offset}
        self._manager.publish(EventType.TRANSCRIPT, data)

    async def _transcribe(self, runtime: CallRuntime, effect: Transcribe) -> None:
        stt = self._engines.stt
        if stt is None:
            return
        listening = runtime.listening
        if effect.greeting and effect.partial:
            await self._transcribe_greeting_partial(runtime, effect)
            return
        if effect.greeting:  # decoded at once, not behind the menu's own work (calls/greeting.py)
            await self._transcribe_greeting(runtime, effect)
            return
        whole = effect.epoch != 0 and self._config.whole_prompt_stt
        buffer = listening.prompt_audio if whole else None
        if buffer is not None and buffer.add(effect.epoch, effect.audio, effect.sample_rate, effect.t_s):
            await self._transcribe_prompt(runtime, effect, buffer)
            return
        if effect.partial:
            work = self.speech_work
            if listening.ears.partial_now(bool(work.running or work.pending)):  # never delay a segment's words
                await self._transcribe_segment(runtime, effect, listening.stale_partial())
            return
        if not effect.epoch:
            # Words for the detector are tied to their turn by time, so they need not wait for this call's menu
            # segments: behind the order lock, an answer to our "Hello?" waited for a menu decode that was queued
            # (and stale) while the call probed, and the person hung up unheard.
            await self._transcribe_segment(runtime, effect, listening.stale_detection())
            return
        async with listening.order:
            await self._transcribe_segment(runtime, effect, listening.stale_menu(effect.epoch))

    async def _transcribe_greeting_partial(self, runtime: CallRuntime, effect: Transcribe) -> None:
        """Decode a menu segment still going on, unbiased, at detection priority; never ahead of a segment's words."""
        listening = runtime.listening
        if not self.speech_work.lane_free:
            # Only into an idle lane: queued, a partial would be stale by its turn (the next one is a second away)
            # and would hold back the segment's own words behind it.
            return
        audio = effect.audio[: int(PARTIAL_GREETING_S * effect.sample_rate)]
        stale = listening.stale_greeting_partial(effect.epoch)
        text = await self._decode_greeting(
            runtime, audio, effect.sample_rate, stale, f"{runtime.call_id} greeting partial at {effect.t_s:.2f} s"
        )
        if text is None:
            return
        _LOGGER.info("call %s: greeting partial to %.2f s: %r", runtime.call_id, effect.t_s, text)
        if text:
            runtime.feed(Transcribed(self._clock(), text, effect.t_s, effect.epoch, greeting=True, partial=True))

    async def _decode_greeting(
        self, runtime: CallRuntime, audio: Pcm, rate: int, stale: Callable[[], bool], label: str
    ) -> str | None:
        """Decode speech unbiased (no menu prompt) at detection priority; None when stale or the engine failed.

        A failing speech-to-text engine costs this decode only: the call goes on (its menu decode, the detector).
        """
        stt = self._engines.stt
        assert stt is not None
        decode = stt.transcribe_quick if isinstance(stt, QuickTranscriber) else stt.transcribe
        try:
            transcript = await self.speech_work.submit(
                Urgency.DETECTION, lambda: decode(audio, rate), stale=stale, label=label
            )
        except StaleWork as err:
            _LOGGER.debug("call %s: %s", runtime.call_id, err)
            return None
        except VoiceEngineError as err:
            _LOGGER.warning("call %s: speech-to-text failed: %s", runtime.call_id, err)
            return None
        except Exception:
            _LOGGER.exception("call %s: speech-to-text failed", runtime.call_id)
            return None
        return transcript.text.strip()

    async def _transcribe_greeting(self, runtime: CallRuntime, effect: Transcribe) -> None:
        """Decode every word since our last move at once, unbiased, as long as it may still be a greeting."""
        listening = runtime.listening
        buffer = listening.greeting_audio
        if not buffer.add(effect.epoch, effect.audio, effect.sample_rate, effect.t_s):
            return  # too long for a greeting: the menu decode alone goes on
        audio, t_s = buffer.take()
        stale = listening.stale_greeting(effect.epoch)
        text = await self._decode_greeting(
            runtime, audio, buffer.rate, stale, f"{runtime.call_id} greeting at {effect.t_s:.2f} s"
        )
        if text is None:
            return
        _LOGGER.info(
            "call %s: greeting decode of %.2f s to %.2f s: %r", runtime.call_id, audio.size / buffer.rate, t_s, text
        )
        if text:
            runtime.feed(Transcribed(self._clock(), text, t_s, effect.epoch, prompt=text, greeting=True))

    async def _transcribe_segment(self, runtime: CallRuntime, effect: Transcribe, stale: Callable[[], bool]) -> None:
        """Transcribe one segment (menu labels rescored) and feed the text to the call."""
        stt = self._engines.stt
        assert stt is not None
        text = ""
        urgency = Urgency.MENU if effect.epoch else Urgency.DETECTION
        if runtime.session.state not in LISTENING:
            urgency = Urgency.RECORD  # a person was found: these words decide nothing, another call's may
        label = f"{runtime.call_id} {'partial' if effect.partial else 'segment'} at {effect.t_s:.2f} s"
        try:
            if effect.quick and isinstance(stt, QuickTranscriber):
                quick = stt
                transcript = await self.speech_work.submit(
                    urgency, lambda: quick.transcribe_quick(effect.audio, effect.sample_rate), stale=stale, label=label
                )
            elif effect.epoch and not effect.partial:
                transcript = await self.speech_work.submit(
                    urgency, lambda: self._menu_words(runtime, effect), stale=stale, label=label
                )
            else:
                transcript = await self.speech_work.submit(
                    urgency, lambda: stt.transcribe(effect.audio, effect.sample_rate), stale=stale, label=label
                )
            text = transcript.text.strip()
            if text and effect.epoch != 0 and not effect.partial:
                # The decode goes to the navigator now; a rescoring (1-8 s of CPU on a loaded machine, rarely a
                # change) follows as a correction. Awaited here it held every later segment of the menu back
                # until the company's no-input timeout had replayed the menu or routed the call.
                run = runtime.listening.menu_segments.add(
                    effect.epoch, HeardSegment(text, effect.audio, effect.sample_rate, effect.t_s)
                )
                runtime.spawn(self._correct_labels(runtime, effect, text, transcript.confidence, run), "Relabel")
        except StaleWork as err:
            _LOGGER.debug("call %s: %s", runtime.call_id, err)
            if effect.partial:
                return  # a newer partial (or the segment itself) tells the detector more
        except VoiceEngineError as err:
            _LOGGER.warning("call %s: speech-to-text failed: %s", runtime.call_id, err)
        except Exception:
            _LOGGER.exception("call %s: speech-to-text failed", runtime.call_id)
        runtime.feed(Transcribed(self._clock(), text, effect.t_s, effect.epoch, partial=effect.partial))

    async def _menu_words(self, runtime: CallRuntime, effect: Transcribe) -> Transcript:
        """Decode a menu segment and check its keys against the audio (nav/keyslot.py) in the same turn of work.

        The keys go to the navigator with the words: a key misheard ("Press R.", "press 0" for "press star") is the
        option lost or the wrong one pressed, and a correction arriving later would come after the decision.
        """
        stt = self._engines.stt
        assert stt is not None
        transcript = await stt.transcribe(effect.audio, effect.sample_rate)
        text = transcript.text.strip()
        if not self._config.relabel_menus or not isinstance(stt, TextScorer):
            return transcript
        if not slots_to_check(text, transcript.confidence):
            return transcript
        scorer = stt
        started = time.perf_counter()

        async def score(texts: list[str]) -> list[float | None]:
            return await scorer.score_texts(effect.audio, effect.sample_rate, texts, budget_s=_KEYS_BUDGET_S, fit=True)

        try:
            checked, choices = await correct_keys_async(text, score, confidence=transcript.confidence)
        except VoiceEngineError as err:
            _LOGGER.warning("call %s: key check failed: %s", runtime.call_id, err)
            return transcript
        if checked != text:
            _LOGGER.info(
                "call %s: keys %r -> %r (%s, %.2f s)",
                runtime.call_id,
                text,
                checked,
                ", ".join(f"{c.slot.heard}->{c.key} {c.margin:+.1f}" for c in choices if c.changed),
                time.perf_counter() - started,
            )
        return Transcript(checked, transcript.confidence)

    def _rescore[T](self, runtime: CallRuntime, effect: Transcribe, work: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """Queue a label rescoring as the least urgent speech-to-text work, dropped once its menu is over."""
        label = f"{runtime.call_id} rescoring at {effect.t_s:.2f} s"
        over = runtime.listening.stale_menu(effect.epoch)

        def stale() -> bool:
            # A rescoring whose turn comes after the company has gone on talking would only hold the next
            # segments' words back further (speech-to-text is not keeping up): the decode stands.
            return over() or runtime.last_t_s - effect.t_s > _RESCORE_MAX_LAG_S

        return self.speech_work.submit(Urgency.RESCORE, work, stale=stale, label=label)

    async def _transcribe_relabel(self, runtime: CallRuntime, effect: Transcribe, text: str, confidence: float) -> str:
        """Correct a misheard menu label against the segment's audio (nav/relabel.py); on any failure keep ``text``."""
        stt = self._engines.stt
        intent = runtime.session.intent or ""
        if not self._config.relabel_menus or not isinstance(stt, TextScorer) or not intent:
            return text  # turned off, or the engine cannot score texts (Wyoming, OpenAI): what it decoded
        relabeler = Relabeler.shared()
        started = time.perf_counter()

        async def rescore() -> Relabeled | None:
            seconds = effect.audio.size / effect.sample_rate if effect.sample_rate > 0 else None
            plan = await asyncio.to_thread(relabeler.plan, text, intent, seconds, confidence)
            if plan is None:
                return None
            scores = await stt.score_texts(
                effect.audio, effect.sample_rate, plan.texts, budget_s=_RELABEL_BUDGET_S, fit=True
            )
            return relabeler.pick(plan, scores, confidence)

        result = await _guarded(runtime, self._rescore(runtime, effect, rescore))
        if result is None:
            return text
        _LOGGER.info(
            "call %s: relabel %r -> %r (%d scored, margin %.2f, confidence %.2f, hint %s, %.2f s)",
            runtime.call_id,
            text,
            result.text,
            result.scored,
            result.margin,
            confidence,
            result.hint,
            time.perf_counter() - started,
        )
        return result.text

    async def _correct_labels(
        self, runtime: CallRuntime, effect: Transcribe, decoded: str, confidence: float, run: list[HeardSegment]
    ) -> None:
        """Rescore a fed segment's labels; if that changes its words while the menu is heard, correct the prompt."""
        text = await self._transcribe_relabel(runtime, effect, decoded, confidence)
        text = await self._transcribe_span(runtime, effect, run, confidence) or text
        session = runtime.session
        if text == decoded or session.listen_epoch != effect.epoch or decoded not in session.prompt:
            return  # nothing changed, or the menu is over (a key was pressed): the correction is of no use
        head, _, tail = session.prompt.rpartition(decoded)
        runtime.feed(Transcribed(self._clock(), "", effect.t_s, effect.epoch, prompt=f"{head}{text}{tail}"))

    async def _transcribe_span(
        self, runtime: CallRuntime, effect: Transcribe, run: list[HeardSegment], confidence: float
    ) -> str | None:
        """Rescore a label that a pause cut across segments (calls/menu_segments.py); None keeps the segment's text."""
        stt = self._engines.stt
        intent = runtime.session.intent or ""
        if len(run) < 2 or not self._config.relabel_menus or not isinstance(stt, TextScorer) or not intent:
            return None
        relabeler = Relabeler.shared()
        started = time.perf_counter()

        async def rescore() -> tuple[SpanPlan, str | None] | None:
            span = await asyncio.to_thread(relabeler.plan_span, [s.text for s in run], intent, confidence)
            if span is None:
                return None
            audio = joined_audio(run[-span.parts :])
            scores = await stt.score_texts(
                audio, effect.sample_rate, span.plan.texts, budget_s=_RELABEL_BUDGET_S, fit=True
            )
            return span, span.feed(relabeler.pick(span.plan, scores, replace=True))

        outcome = await _guarded(runtime, self._rescore(runtime, effect, rescore))
        if outcome is None:
            return None
        span, fed = outcome
        _LOGGER.info(
            "call %s: relabel span %r -> %r (%d segments, %.2f s)",
            runtime.call_id,
            span.plan.texts[0],
            fed,
            span.parts,
            time.perf_counter() - started,
        )
        return fed

    async def _transcribe_prompt(self, runtime: CallRuntime, effect: Transcribe, buffer: PromptAudio) -> None:
        """Transcribe everything the company said since the last move (more accurate than one segment)."""
        stt = self._engines.stt
        assert stt is not None
        async with buffer.lock:
            if buffer.epoch != effect.epoch or not buffer.pending():
                return  # a newer menu began, or a later segment's transcription already covered this one
            audio, t_s = buffer.take()
            whole: str | None = None
            stale = runtime.listening.stale_menu(effect.epoch)
            try:
                prompt = await self.speech_work.submit(
                    Urgency.MENU,
                    lambda: stt.transcribe(audio, buffer.rate),
                    stale=stale,
                    label=f"{runtime.call_id} menu",
                )
                whole = prompt.text.strip()
            except StaleWork:
                return
            except VoiceEngineError as err:
                _LOGGER.warning("call %s: speech-to-text failed: %s", runtime.call_id, err)
            except Exception:
                _LOGGER.exception("call %s: speech-to-text failed", runtime.call_id)
            if buffer.epoch != effect.epoch:
                return
            if whole is None or whole == buffer.text:  # failed or nothing new: still tells the call it is up to date
                runtime.feed(Transcribed(self._clock(), "", t_s, effect.epoch))
                return
            new_words = buffer.update(whole)
            runtime.feed(Transcribed(self._clock(), new_words, t_s, effect.epoch, prompt=whole))

    async def _decide(self, runtime: CallRuntime, effect: Decide) -> None:
        navigator = runtime.navigator
        decision = None
        try:
            if navigator is not None:
                history = list(effect.history)
                decision = await navigator.decide(
                    effect.prompt, effect.intent, history=history, behind_s=effect.behind_s, earlier=effect.earlier
                )
        except Exception:  # the Navigator contract says it never raises; if it does, keep listening
            _LOGGER.exception("call %s: navigator failed", runtime.call_id)
        runtime.feed(Decided(self._clock(), effect.ticket, decision))

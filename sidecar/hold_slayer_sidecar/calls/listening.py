"""One call's listening: its ears (detector and the words it is given), menu audio, segment order, staleness.

``Ears`` is shared by the live call (calls/manager.py, calls/effects.py, and the pure rule ``words_wanted`` in
calls/machine.py) and by ``scripts/run bench detect`` (hold_slayer_tools/bench/corpus.py): the same detector, the
same choice of which speech gets words and with which decode, the same partial-skipping, so the benchmark measures
what a call does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ..audio.types import AudioFrame, CallDetector, Observation, ObservationKind
from ..protocol import CallState
from .greeting import MAX_GREETING_S
from .menu_segments import MenuSegments
from .prompt_audio import PromptAudio
from .session import CallSession, StepWait

_CHOOSING = frozenset({StepWait.LISTEN, StepWait.DECIDE})
_LISTENING = frozenset({CallState.IVR, CallState.HOLD, CallState.PROBING})


def menu_over(session: CallSession, epoch: int) -> bool:
    """Whether the menu heard in ``epoch`` is over: a key was pressed or a line said for it, or the call moved on."""
    return (
        session.final
        or session.state is not CallState.IVR
        or session.listen_epoch != epoch
        or session.step_wait not in _CHOOSING
    )


@dataclass(frozen=True, slots=True)
class WordsWanted:
    """How a stretch of speech heard for the detector's sake is transcribed."""

    quick: bool  # the short-window decode (QuickTranscriber): queue speech and partials are wanted soon
    partial: bool  # speech still going on: its words so far go to the detector only


def words_wanted(obs: Observation, *, probing: bool = False) -> WordsWanted | None:
    """Whether and how a speech segment or partial is transcribed as the detector's content cue (None: not at all).

    Speech in the queue, a partial, and an answer to our probe get the quick decode: they decide whether to ring the
    user. Menu speech heard in the IVR gets the careful, prompted decode (the navigator's; calls/machine.py).
    """
    if obs.audio is None or obs.kind not in (ObservationKind.SPEECH_SEGMENT, ObservationKind.SPEECH_PARTIAL):
        return None
    partial = obs.kind is ObservationKind.SPEECH_PARTIAL
    if partial and obs.data.get("context") == "menu":
        return None  # a menu segment so far is the call's, for a person's opening (calls/greeting.py), not the judge's
    return WordsWanted(quick=partial or probing or obs.data.get("context") == "hold", partial=partial)


class Ears:
    """One call's detector and the words it is given back; the live call and the detection benchmark use it alike."""

    def __init__(self, detector: CallDetector) -> None:
        self.detector = detector

    def hear(self, frame: AudioFrame) -> list[Observation]:
        """Feed one frame of the company's audio; return what the detector noticed."""
        return self.detector.process(frame)

    @staticmethod
    def partial_now(stt_busy: bool) -> bool:
        """Whether to transcribe a partial now: not while speech-to-text is busy (the segment's own words follow)."""
        return not stt_busy

    def wants_words(self, obs: Observation, *, stt_busy: bool = False, probing: bool = False) -> WordsWanted | None:
        """Words for the detector: for segments and partials while they can still change its mind."""
        wanted = words_wanted(obs, probing=probing)
        if wanted is None or not self.detector.transcripts_useful:
            return None
        if wanted.partial and not self.partial_now(stt_busy):
            return None
        return wanted

    def words(self, text: str, t_s: float, *, partial: bool = False) -> list[Observation]:
        """Give the detector the words of the speech that ended (or went on) at ``t_s``."""
        return self.detector.note_transcript(text, t_s, partial=partial)


class CallListening:
    """Per-call listening state owned by the call's runtime (dropped with it)."""

    def __init__(self, session: Callable[[], CallSession], detector: CallDetector) -> None:
        self._session = session
        self.ears = Ears(detector)
        self.prompt_audio = PromptAudio()  # menu audio since the last move (whole-prompt transcription)
        self.menu_segments = MenuSegments()  # menu segments of the epoch (labels cut in two by a pause)
        # Speech since the last move while it may still be a person's greeting ("Hi," and "this is Sam." decoded
        # together: alone, whisper makes "Bye." of a 0.3 s "Hi,").
        self.greeting_audio = PromptAudio(max_seconds=MAX_GREETING_S)
        self._greetings = 0
        # Finished segments are transcribed and fed one after the other: a menu label rescored against its audio
        # takes longer than the "press 2" after it, and swapped they would give the key the wrong label.
        self.order = asyncio.Lock()
        self._partials = 0

    def stale_menu(self, epoch: int) -> Callable[[], bool]:
        """Return a test for work on a menu segment of ``epoch``: true once that menu is over."""
        return lambda: menu_over(self._session(), epoch)

    def stale_detection(self) -> Callable[[], bool]:
        """Return a test for work on speech that may be a person: true once the call has ended."""
        return lambda: self._session().final

    def stale_partial(self) -> Callable[[], bool]:
        """Return a test for a partial transcript: true once a newer partial was asked for or nothing is judged."""
        self._partials += 1
        mine = self._partials
        return lambda: self._partials != mine or self._session().state not in _LISTENING

    def stale_greeting_partial(self, epoch: int) -> Callable[[], bool]:
        """Return a test for a partial greeting decode: true once a newer partial was asked for or the menu is over."""
        newer = self.stale_partial()
        return lambda: newer() or menu_over(self._session(), epoch)

    def stale_greeting(self, epoch: int) -> Callable[[], bool]:
        """Return a test for a greeting decode: true once a newer one (more words) was asked for or the menu is over."""
        self._greetings += 1
        mine = self._greetings
        return lambda: self._greetings != mine or menu_over(self._session(), epoch)

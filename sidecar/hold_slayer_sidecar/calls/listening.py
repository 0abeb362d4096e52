"""What one call keeps for listening to the company besides its detector: menu audio, segment order, staleness."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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


class CallListening:
    """Per-call listening state owned by the call's runtime (dropped with it)."""

    def __init__(self, session: Callable[[], CallSession]) -> None:
        self._session = session
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

    def stale_greeting(self, epoch: int) -> Callable[[], bool]:
        """Return a test for a greeting decode: true once a newer one (more words) was asked for or the menu is over."""
        self._greetings += 1
        mine = self._greetings
        return lambda: self._greetings != mine or menu_over(self._session(), epoch)

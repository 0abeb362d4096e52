"""Walk a company's script without audio and check that each test intent's path reaches its department.

Usage: ``python -m hold_slayer_sim.check [--speech] [FILE ...]`` (default: the shipped companies).
With ``--speech`` a ``say`` step is spoken by the product's piper voice and transcribed by the product's
whisper at 8 kHz, as on a call; without it the intent text itself is the transcript.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .model import Company, CompanyFileError, load_company, shipped_company_files
from .script import (
    Answered,
    CallerSpeechEnded,
    CallerSpeechStarted,
    CallScript,
    DigitReceived,
    Effect,
    Phase,
    Play,
    PlaybackFinished,
    TimerFired,
    Transcribe,
    TranscriptReady,
)

_MAX_PLAYBACKS = 50


def _wait_for_menu(script: CallScript, effects: list[Effect]) -> list[Effect]:
    """Let prompts play to their end until the script listens in a menu (or leaves the menus)."""
    for _ in range(_MAX_PLAYBACKS):
        plays = [e for e in effects if isinstance(e, Play)]
        if script.listening or script.phase not in (Phase.GREETING, Phase.MENU) or not plays:
            break
        effects = script.handle(PlaybackFinished(plays[-1].tag, 1.0))
    return effects


def _stay_silent(script: CallScript, effects: list[Effect]) -> list[Effect]:
    """Say and press nothing at this menu: let its no-input timeouts run until the company moves the call on."""
    menu = script.menu_id
    for _ in range(_MAX_PLAYBACKS):
        if script.phase is not Phase.MENU or script.menu_id != menu:
            break
        effects = script.handle(TimerFired("input")) if script.listening else _wait_for_menu(script, effects)
    return effects


Hear = Callable[[str], str | None]


def reach_department(company: Company, steps: list[str], intent: str, hear: Hear | None = None) -> str | None:
    """Play a caller who waits for each prompt, then presses keys or says ``intent``; return the department.

    ``hear`` turns what the caller says into the company's transcript (default: the exact words).
    """
    script = CallScript(company)
    effects = script.handle(Answered())
    for step in steps:
        effects = _wait_for_menu(script, effects)
        if script.phase is not Phase.MENU:
            break
        if step == "wait":
            effects = _stay_silent(script, effects)
            continue
        if step == "say":
            script.handle(CallerSpeechStarted())
            effects = script.handle(CallerSpeechEnded(2.0))
            if any(isinstance(e, Transcribe) for e in effects):
                effects = script.handle(TranscriptReady(hear(intent) if hear is not None else intent))
        else:
            for digit in step:
                effects = script.handle(DigitReceived(digit))
    if not steps:  # a company without menus: its greeting plays, then the queue
        _wait_for_menu(script, effects)
    return script.department or None


def speech_hearing() -> Hear:
    """Speak with piper (joe) at 8 kHz and transcribe with whisper tiny.en, like the live company does."""
    from hold_slayer_sidecar.voice.stt import EmbeddedWhisperStt
    from hold_slayer_sidecar.voice.tts import synthesize_blocking

    stt = EmbeddedWhisperStt(initial_prompt=None)

    def hear(text: str) -> str | None:
        heard = stt.transcribe_blocking(synthesize_blocking(text, 8000, engine="piper"), 8000).text
        print(f"    heard: {heard!r}")
        return heard

    return hear


def main() -> None:
    """Check every test intent of the given (or shipped) company files; exit 1 on a mismatch."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--speech", action="store_true", help="say steps go through real TTS and STT")
    args = parser.parse_args()
    hear = speech_hearing() if args.speech else None
    failures = 0
    for path in args.files or shipped_company_files():
        try:
            company = load_company(path)
        except CompanyFileError as err:
            print(err, file=sys.stderr)
            failures += 1
            continue
        for ti in company.test_intents:
            got = reach_department(company, ti.steps, ti.intent, hear)
            ok = got == ti.department
            failures += not ok
            print(f"{'ok ' if ok else 'BAD'} {company.id:24} {ti.path:8} {ti.department:20} {ti.intent}")
            if not ok:
                print(f"    reached {got!r}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

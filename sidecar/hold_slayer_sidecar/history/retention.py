"""Recovery after a crash and retention: interrupted calls closed, their WAVs made playable, old data removed.

Runs on start (before any call) and then once a day. A voicemail's recording and its row go together: the size
cap (meant for call recordings, three files a call) never touches a voicemail; age removes only voicemails that
were heard, the file first and then the row, so a run cut short leaves a row whose file is gone, which the next
run completes, and never a listed message that cannot be played.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..store.history import CallDetail, RecordingRef
from ..store.inbound import VOICEMAIL_FILE_SUFFIX
from .wavfix import WavFixError, fix_sizes

_LOGGER = logging.getLogger(__name__)
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history to keep: calls younger than ``days`` (0 = forever), recordings up to ``max_bytes``."""

    days: int = 365
    max_bytes: int = 2 * 1024**3  # 2 GiB is about 37 hours of 8 kHz 16-bit audio (three files per call)


class RetentionStore(Protocol):
    """What recovery and retention need from the store."""

    async def mark_interrupted(self) -> list[str]:
        """Close rows left live; return their ids."""
        ...

    async def get_call(self, call_id: str) -> CallDetail | None:
        """One call."""
        ...

    async def add_recording(self, ref: RecordingRef) -> None:
        """Keep where one recording of a call is."""
        ...

    async def expire(self, *, older_than: float | None) -> list[str]:
        """Delete old calls; return their recording paths."""
        ...

    async def forget_recordings(self, paths: list[str]) -> None:
        """Drop references to deleted files."""
        ...


class VoicemailRetentionStore(Protocol):
    """What retention needs to remove old voicemails with their recordings."""

    async def heard_voicemails_before(self, older_than: float) -> list[tuple[str, str]]:
        """(voicemail id, recording path) of heard voicemails received before ``older_than``."""
        ...

    async def delete_voicemails(self, voicemail_ids: list[str]) -> None:
        """Delete these voicemails' rows."""
        ...


async def recover(store: RetentionStore, recordings_dir: Path | None = None) -> list[str]:
    """Mark calls a killed sidecar left live as interrupted, keep their recordings and fix their WAV headers."""
    ids = await store.mark_interrupted()
    for call_id in ids:
        detail = await store.get_call(call_id)
        refs = list(detail.recordings) if detail else []
        for ref in await asyncio.to_thread(_unlisted_recordings, recordings_dir, call_id, refs):
            await store.add_recording(ref)
            refs.append(ref)
        for ref in refs:
            try:
                fixed = await asyncio.to_thread(fix_sizes, Path(ref.path))
            except (OSError, WavFixError) as err:
                _LOGGER.warning("call %s: cannot repair %s: %s", call_id, ref.path, err)
                continue
            _LOGGER.info("call %s: recording %s %s", call_id, ref.path, "repaired" if fixed else "was intact")
    if ids:
        _LOGGER.warning("%d call(s) were interrupted by the last shutdown: %s", len(ids), ", ".join(ids))
    return ids


def _unlisted_recordings(recordings_dir: Path | None, call_id: str, known: list[RecordingRef]) -> list[RecordingRef]:
    """Return the recordings of the call on disk that its history row never learned of.

    The history learns of a recording from the next ``call_state`` event after it started; a call that stays
    in one state (a long hold) and is then killed has its WAV on disk and no row for it. Files are named
    ``<day>/<call_id>-<leg>.wav`` (calls/manager.py); when in the call each one started is not known (0).
    """
    if recordings_dir is None:
        return []
    listed = {Path(ref.path) for ref in known}
    found = sorted(recordings_dir.glob(f"*/{glob.escape(call_id)}-*.wav"))
    legs = {path: path.stem.removeprefix(f"{call_id}-") for path in found if path not in listed}
    return [RecordingRef(call_id, str(path), leg, 0.0) for path, leg in legs.items() if leg.isalpha()]


async def apply_retention(
    store: RetentionStore,
    recordings_dir: Path,
    policy: Retention,
    now: float,
    voicemails: VoicemailRetentionStore | None = None,
) -> int:
    """Delete calls and heard voicemails older than the policy and the oldest call recordings beyond the size cap.

    Returns how many files were deleted.
    """
    older_than = now - policy.days * DAY_S if policy.days > 0 else None
    expired = await store.expire(older_than=older_than)
    deleted = await asyncio.to_thread(_delete, [Path(path) for path in expired])
    if voicemails is not None and older_than is not None:
        deleted += await _expire_voicemails(voicemails, older_than)
    over_cap = await asyncio.to_thread(_over_cap, recordings_dir, policy.max_bytes)
    deleted += await asyncio.to_thread(_delete, over_cap)
    if over_cap:
        await store.forget_recordings([str(path) for path in over_cap])
    await asyncio.to_thread(_remove_empty_days, recordings_dir)
    return deleted


async def _expire_voicemails(voicemails: VoicemailRetentionStore, older_than: float) -> int:
    """Delete old heard voicemails, each file before its row; a file that cannot be deleted keeps its row."""
    gone: list[str] = []
    files = 0
    for voicemail_id, path in await voicemails.heard_voicemails_before(older_than):
        try:
            await asyncio.to_thread(Path(path).unlink)
            files += 1
        except FileNotFoundError:
            pass  # deleted by a run cut short before its row went: the row goes now
        except OSError as err:
            _LOGGER.warning("voicemail %s: cannot delete %s, kept with its row: %s", voicemail_id, path, err)
            continue
        gone.append(voicemail_id)
    if gone:
        await voicemails.delete_voicemails(gone)
    return files


def _delete(paths: list[Path]) -> int:
    count = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            count += 1
    return count


def _over_cap(root: Path, max_bytes: int) -> list[Path]:
    """Return the oldest recordings (by modification time) whose removal brings the folder under the cap."""
    if not root.is_dir():
        return []
    wavs = (p for p in root.rglob("*.wav") if p.is_file() and not p.name.endswith(VOICEMAIL_FILE_SUFFIX))
    files = sorted(wavs, key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in files)
    doomed = []
    for path in files:
        if total <= max_bytes:
            break
        total -= path.stat().st_size
        doomed.append(path)
    return doomed


def _remove_empty_days(root: Path) -> None:
    if root.is_dir():
        for day in root.iterdir():
            if day.is_dir() and not any(day.iterdir()):
                day.rmdir()


class RetentionJob:
    """Applies retention now and then once a day (an owned task, cancelled on stop)."""

    def __init__(
        self,
        store: RetentionStore,
        recordings_dir: Path,
        policy: Retention,
        clock: Callable[[], float] = time.time,
        *,
        voicemails: VoicemailRetentionStore | None = None,
    ) -> None:
        self._store = store
        self._voicemails = voicemails
        self._dir = recordings_dir
        self._policy = policy
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Apply once now and schedule the daily runs."""
        await self._once()
        self._task = asyncio.get_running_loop().create_task(self._daily(), name="history-retention")

    async def stop(self) -> None:
        """Cancel the daily runs."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _daily(self) -> None:
        while True:
            await asyncio.sleep(DAY_S)
            await self._once()

    async def _once(self) -> None:
        try:
            deleted = await apply_retention(self._store, self._dir, self._policy, self._clock(), self._voicemails)
        except Exception:  # retention must never stop the sidecar
            _LOGGER.exception("retention failed")
            return
        if deleted:
            _LOGGER.info("retention deleted %d recording(s)", deleted)

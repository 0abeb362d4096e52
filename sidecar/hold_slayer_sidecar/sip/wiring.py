"""The conference-bridge graph of each leg: tap, player, bridges and recorders, rebuilt on demand.

A re-INVITE (hold, resume, codec change) gives a call's stream a new conference slot, so the graph is
kept as intent (which ports and legs belong to a leg) and ``wire`` re-applies it after every media
change. PJSUA2 thread only.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pjsua2 as pj

from ..audio.types import AudioFrame
from .api import SipError
from .calls import CallRegistry, Leg
from .media import PlayerPort, TapPort

_AUDIO_UP = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
# Since pjproject 2.14 the conference bridge removes a port asynchronously, on the media clock thread's next
# tick (20 ms), and only once the port's object is destroyed. Freeing a port while calls run crashed the sidecar
# ("'list_iterator' object has no attribute 'onFrameReceived'"; later a segfault inside the port's destructor
# on a loaded machine, in the navigation benchmark). So a released port is never destroyed while the endpoint
# runs: after this grace (for frames of its old call still in flight) it waits, silent, for the next leg that
# needs a port of its kind. The bridge thus holds at most as many ports as were ever in use at once.
PORT_GRACE_S = 1.0


@dataclass(eq=False)
class Recording:
    """One WAV recorder and the legs whose received audio it captures."""

    recorder: pj.AudioMediaRecorder
    path: Path
    legs: set[str] = field(default_factory=set)


class MediaGraph:
    """Creates and connects the media ports of every leg in the registry."""

    def __init__(
        self,
        registry: CallRegistry,
        loop: asyncio.AbstractEventLoop,
        clock_rate: int,
        deliver_audio: Callable[[str, AudioFrame], None],
    ) -> None:
        self._registry = registry
        self._loop = loop
        self._rate = clock_rate
        self._deliver_audio = deliver_audio
        self._recordings: list[Recording] = []
        self._retired: deque[tuple[float, TapPort | PlayerPort]] = deque()
        self._idle_taps: list[TapPort] = []
        self._idle_players: list[PlayerPort] = []
        self._ports_made = 0

    def add_tap(self, leg: Leg) -> None:
        """Give the leg an audio tap (once); its frames go to ``deliver_audio``."""
        if leg.tap is not None:
            return
        deliver = self._deliver_audio

        def to_loop(frame: AudioFrame, leg_id: str = leg.leg_id) -> None:
            deliver(leg_id, frame)

        if self._idle_taps:
            tap = self._idle_taps.pop()
            tap.rebind(to_loop)
        else:
            tap = TapPort(self._loop, self._rate, to_loop)
            self._ports_made += 1
            tap.create(f"tap-{self._ports_made}")
        leg.tap = tap
        self.wire(leg)

    def player(self, leg: Leg) -> PlayerPort:
        """Return the leg's player port, creating and connecting it on first use."""
        if leg.player is None:
            if self._idle_players:
                player = self._idle_players.pop()
            else:
                player = PlayerPort(self._loop, self._rate)
                self._ports_made += 1
                player.create(f"play-{self._ports_made}")
            leg.player = player
            self.wire(leg)
        return leg.player

    @property
    def port_count(self) -> int:
        """Media ports this graph has in the bridge (in use, retired or idle): bounded by the peak in use."""
        return self._ports_made

    def bridge(self, a: Leg, b: Leg) -> None:
        """Connect two legs both ways."""
        a.bridged.add(b.leg_id)
        b.bridged.add(a.leg_id)
        self.wire(a)
        self.wire(b)

    def record(self, legs: list[Leg], path: Path) -> None:
        """Record the mix of what ``legs`` receive into one WAV file (parent folders are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        recorder = pj.AudioMediaRecorder()
        try:
            recorder.createRecorder(str(path))
        except pj.Error as err:
            raise SipError(f"cannot record to {path}: {err.reason}") from err
        self._recordings.append(Recording(recorder, path, {leg.leg_id for leg in legs}))
        for leg in legs:
            self.wire(leg)

    def rewire(self, leg: Leg) -> None:
        """Re-apply the leg's graph and its bridge partners' after a media change."""
        self.wire(leg)
        for other_id in leg.bridged:
            other = self._registry.get(other_id)
            if other is not None:
                self.wire(other)

    def wire(self, leg: Leg) -> None:
        """Connect the leg's current stream to its tap, player, recorders and bridge partners."""
        audio = self.audio(leg)
        if audio is None:
            return  # not up yet (or on inactive hold): on_media wires it when it comes up
        if leg.tap is not None:
            audio.startTransmit(leg.tap)
        if leg.player is not None:
            leg.player.startTransmit(audio)
        for rec in self._recordings:
            if leg.leg_id in rec.legs:
                audio.startTransmit(rec.recorder)
        for other_id in leg.bridged:
            other = self._registry.get(other_id)
            other_audio = None if other is None else self.audio(other)
            if other_audio is not None:
                audio.startTransmit(other_audio)
                other_audio.startTransmit(audio)

    def audio(self, leg: Leg) -> pj.AudioMedia | None:
        """Return the leg's current audio stream in the bridge, or None when it has none."""
        # Fetched fresh every time: PJSUA2 frees the old AudioMedia when a re-INVITE renegotiates.
        if leg.ended or not leg.call.isActive():
            return None
        info = leg.call.getInfo()  # keep it referenced: info.media points into it
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status in _AUDIO_UP:
                try:
                    return leg.call.getAudioMedia(media.index)
                except pj.Error:  # e.g. a=inactive: the stream has no conference slot right now
                    return None
        return None

    def release(self, leg: Leg) -> None:
        """Drop the ended leg's ports and bridges; close recordings no live leg feeds any more."""
        if leg.player is not None:
            leg.player.stop()
        if leg.tap is not None:
            leg.tap.rebind(None)
        now = time.monotonic()
        for port in (leg.tap, leg.player):
            if port is not None:
                self._retired.append((now, port))
        leg.tap = None
        leg.player = None
        for rec in list(self._recordings):
            rec.legs.discard(leg.leg_id)
            if not rec.legs:
                self._recordings.remove(rec)  # deleting the recorder writes the WAV header
        for other_id in leg.bridged:
            other = self._registry.get(other_id)
            if other is not None:
                other.bridged.discard(leg.leg_id)

    def purge(self, *, force: bool = False) -> None:
        """Make released ports reusable once their grace has passed; with ``force`` (shutdown) drop every port."""
        if force:
            self._retired.clear()
            self._idle_taps.clear()
            self._idle_players.clear()
            return
        deadline = time.monotonic() - PORT_GRACE_S
        while self._retired and self._retired[0][0] <= deadline:
            _, port = self._retired.popleft()
            if isinstance(port, TapPort):
                self._idle_taps.append(port)
            else:
                self._idle_players.append(port)

    def close(self) -> None:
        """Finalise every recording (before libDestroy)."""
        self._recordings.clear()

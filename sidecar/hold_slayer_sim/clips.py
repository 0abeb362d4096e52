"""Turn what the script wants played (a clip or hold audio) into 8 kHz PCM, from caches on disk."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from hold_slayer_sidecar.audio.types import Pcm
from hold_slayer_sidecar.voice.resample import resample_pcm
from hold_slayer_sidecar.voice.wav import read_wav

from .hold import HoldAudio, announcement_texts
from .model import Clip, Company, Voice
from .music import render_piece, spec_for
from .speech import SAMPLE_RATE, SpeechCache, write_wav_atomic

DEFAULT_ASSET_DIR = Path(__file__).parent / "generated"
_COMFORT_NOISE_RMS = 40.0  # about -58 dBFS: the hiss of an open line


def music_path(asset_dir: Path, piece: str) -> Path:
    """Where a generated hold-music loop lives."""
    return asset_dir / "music" / f"{piece}.wav"


class ClipLibrary:
    """Speech renders, WAV files and hold-music loops, loaded once per process (thread-safe)."""

    def __init__(self, asset_dir: Path = DEFAULT_ASSET_DIR) -> None:
        self.asset_dir = asset_dir
        self.speech = SpeechCache(asset_dir / "tts")
        self._music: dict[str, Pcm] = {}
        self._wavs: dict[Path, Pcm] = {}
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(7)

    def clip(self, clip: Clip, voice: Voice) -> Pcm:
        """Return a spoken or recorded clip."""
        if clip.text is not None:
            return self.speech.render(clip.text, voice)
        assert clip.wav is not None
        with self._lock:
            pcm = self._wavs.get(clip.wav)
        if pcm is None:
            raw, rate = read_wav(clip.wav)
            pcm = resample_pcm(raw, rate, SAMPLE_RATE)
            with self._lock:
                self._wavs[clip.wav] = pcm
        return pcm

    def music(self, piece: str) -> Pcm:
        """Return the loop of a hold-music piece (generated now and saved if the asset step has not run)."""
        with self._lock:
            pcm = self._music.get(piece)
        if pcm is None:
            path = music_path(self.asset_dir, piece)
            if path.is_file():
                pcm, _rate = read_wav(path)
            else:
                pcm = render_piece(spec_for(piece))
                write_wav_atomic(path, pcm)
            with self._lock:
                self._music[piece] = pcm
        return pcm

    def hold(self, audio: HoldAudio) -> Pcm:
        """Hold audio for one stretch: the music loop from ``offset_s``, silence, or comfort noise."""
        n = max(1, round(audio.duration_s * SAMPLE_RATE))
        if audio.kind == "silence":
            return np.zeros(n, np.int16)
        if audio.kind == "comfort_noise":
            with self._lock:
                noise = self._rng.standard_normal(n) * _COMFORT_NOISE_RMS
            return noise.astype(np.int16)
        loop = self.music(audio.piece)
        start = round(audio.offset_s * SAMPLE_RATE) % loop.size
        idx = (start + np.arange(n)) % loop.size
        return loop[idx]

    def prerender(self, company: Company) -> int:
        """Render every fixed line of a company (prompts, announcements, agent lines); return how many were new."""
        jobs: list[tuple[Clip, Voice]] = []
        if company.greeting is not None:
            jobs.append((company.greeting, company.voice))
        for _where, goto in company.gotos():
            if goto.message is not None:
                jobs.append((goto.message, company.voice))
        for menu in company.menus.values():
            jobs += [
                (c, company.voice) for c in (menu.prompt, menu.no_input.prompt, menu.invalid.prompt) if c is not None
            ]
        for qid, queue in company.queues.items():
            if queue.intro is not None:
                jobs.append((queue.intro, company.voice))
            jobs += [(c, company.voice) for c in announcement_texts(queue)]
            agent = company.agent_for(qid)
            lines = [agent.greeting, agent.hello, *agent.replies, Clip(text="Thank you for calling. Goodbye.")]
            if agent.goodbye is not None:
                lines.append(agent.goodbye)
            jobs += [(c, agent.voice) for c in lines]
            if queue.hold == "music":
                self.music(queue.music)
        new = 0
        for clip, voice in dict.fromkeys(jobs):
            if clip.text is not None and not self.speech.has(clip.text, voice):
                new += 1
            self.clip(clip, voice)
        return new

"""Procedural hold music: chord progressions, bass, a phrased melody and percussion, rendered with numpy.

Every piece is seeded and loops seamlessly (note tails that run past the end are folded back to the
start). The output is 8 kHz mono int16, like a telephone line; partials above 3.8 kHz are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

SAMPLE_RATE: Final = 8000
_NYQUIST_GUARD_HZ: Final = 3800.0
Signal = npt.NDArray[np.float64]

_NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_QUALITIES = {
    "maj7": (0, 4, 7, 11),
    "m7b5": (0, 3, 6, 10),
    "m7": (0, 3, 7, 10),
    "7": (0, 4, 7, 10),
    "m": (0, 3, 7),
    "sus4": (0, 5, 7),
    "6": (0, 4, 7, 9),
    "": (0, 4, 7),
}
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


def chord(name: str, octave: int = 3) -> list[int]:
    """MIDI notes of a chord symbol such as ``Dm7``, ``F#m7b5`` or ``Bb``, rooted in ``octave``."""
    m = re.fullmatch(r"([A-G])([#b]?)(maj7|m7b5|m7|7|m|sus4|6|)", name)
    if m is None:
        raise ValueError(f"unknown chord symbol {name!r}")
    root = _NOTE_NAMES[m.group(1)] + {"#": 1, "b": -1, "": 0}[m.group(2)] + 12 * (octave + 1)
    return [root + i for i in _QUALITIES[m.group(3)]]


def midi_hz(note: float) -> float:
    """Equal-tempered frequency of a MIDI note number."""
    return float(440.0 * 2.0 ** ((note - 69.0) / 12.0))


@dataclass(frozen=True, slots=True)
class PieceSpec:
    """How one piece is built."""

    name: str
    seed: int
    bpm: float
    tonic: int  # MIDI pitch class of the key's tonic
    minor: bool
    progression: tuple[str, ...]  # one chord per bar; the form repeats it
    form: str  # section letters, each a pass of the progression ("AABA")
    comping: str  # "epiano" | "pad" | "arpeggio" | "nylon"
    bass: str  # "walking" | "root_fifth" | "pulse" | "long"
    lead: str  # "flute" | "bell" | "harpsichord" | "synth"
    drums: str  # "brush" | "bossa" | "pop" | "soft" | "none"
    melody_density: float  # chance of a note on each eighth


PIECES: Final[tuple[PieceSpec, ...]] = (
    PieceSpec(
        "lounge", 11, 96, 2, True, ("Dm7", "G7", "Cmaj7", "A7"), "AABA", "epiano", "walking", "flute", "brush", 0.55
    ),
    PieceSpec(
        "bossa",
        23,
        132,
        9,
        True,
        ("Am7", "D7", "Gmaj7", "Cmaj7", "F#m7b5", "B7", "Em", "E7"),
        "AB",
        "nylon",
        "root_fifth",
        "flute",
        "bossa",
        0.5,
    ),
    PieceSpec(
        "baroque",
        37,
        100,
        0,
        False,
        ("C", "G", "Am", "Em", "F", "C", "F", "G"),
        "AB",
        "arpeggio",
        "long",
        "harpsichord",
        "none",
        0.8,
    ),
    PieceSpec("pop", 41, 112, 7, False, ("G", "D", "Em", "C"), "ABAB", "pad", "pulse", "synth", "pop", 0.6),
    PieceSpec("ambient", 53, 72, 5, False, ("Fmaj7", "Dm7", "Bbmaj7", "C6"), "AB", "pad", "long", "bell", "soft", 0.35),
)


class _Canvas:
    """A loop buffer: notes are added at a time; what runs past the end wraps to the start."""

    def __init__(self, seconds: float) -> None:
        self.n = round(seconds * SAMPLE_RATE)
        self.buf = np.zeros(self.n, dtype=np.float64)

    def add(self, start_s: float, sound: Signal, gain: float) -> None:
        i = round(start_s * SAMPLE_RATE) % self.n
        while sound.size:
            take = min(sound.size, self.n - i)
            self.buf[i : i + take] += gain * sound[:take]
            sound = sound[take:]
            i = 0


def _t(seconds: float) -> Signal:
    return np.arange(max(1, round(seconds * SAMPLE_RATE)), dtype=np.float64) / SAMPLE_RATE


def _adsr(n: int, attack: float, decay: float, sustain: float, release: float, *, hold: float) -> Signal:
    """Attack-decay-sustain-release envelope over ``n`` samples; the note is held ``hold`` seconds."""
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    env = np.where(
        t < attack, t / max(attack, 1e-4), sustain + (1 - sustain) * np.exp(-(t - attack) / max(decay, 1e-4))
    )
    after = t > hold
    env[after] *= np.exp(-(t[after] - hold) / max(release, 1e-4))
    return env


def _additive(
    freq: float, t: Signal, partials: tuple[float, ...], decay_tilt: float = 0.0, vibrato: float = 0.0
) -> Signal:
    """Sum of harmonics (amplitudes ``partials``), higher ones decaying faster by ``decay_tilt``."""
    phase = 2 * np.pi * freq * t
    if vibrato:
        phase += (vibrato * freq / 5.0) * np.sin(2 * np.pi * 5.0 * t) * np.minimum(t / 0.3, 1.0)
    out = np.zeros_like(t)
    for k, amp in enumerate(partials, start=1):
        if amp and freq * k < _NYQUIST_GUARD_HZ:
            out += amp * np.sin(k * phase) * (np.exp(-decay_tilt * (k - 1) * t) if decay_tilt else 1.0)
    return out


def _instrument(kind: str, freq: float, dur: float, rng: np.random.Generator) -> Signal:  # noqa: PLR0911
    """One note of an instrument (``dur`` is the held length; a release tail follows)."""
    if kind == "epiano":  # two-operator FM with a decaying index: a Rhodes-like bell attack
        t = _t(dur + 0.6)
        index = 1.6 * np.exp(-t / 0.25)
        y = (
            np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * freq * t))
            if freq * 4 < _NYQUIST_GUARD_HZ
            else np.sin(2 * np.pi * freq * t)
        )
        return y * _adsr(t.size, 0.004, 0.6, 0.35, 0.25, hold=dur)
    if kind == "pad":  # detuned band-limited saws with a slow swell
        t = _t(dur + 0.8)
        saw = tuple(1.0 / k for k in range(1, 9))
        y = _additive(freq * 0.996, t, saw) + _additive(freq, t, saw) + _additive(freq * 1.004, t, saw)
        return y / 3.0 * _adsr(t.size, 0.35, 0.5, 0.8, 0.5, hold=dur)
    if kind in ("nylon", "harpsichord", "pluck"):  # plucked string: bright attack, upper partials die first
        t = _t(dur + 0.5)
        partials = (1.0, 0.6, 0.45, 0.3, 0.2, 0.12, 0.08) if kind != "nylon" else (1.0, 0.45, 0.2, 0.1, 0.05)
        tilt = 3.0 if kind == "harpsichord" else 6.0
        body = 0.7 if kind == "harpsichord" else 0.9
        return _additive(freq, t, partials, tilt) * _adsr(t.size, 0.003, body, 0.0, 0.12, hold=dur)
    if kind == "flute":  # soft odd-heavy tone with delayed vibrato and a breathy onset
        t = _t(dur + 0.2)
        y = _additive(freq, t, (1.0, 0.25, 0.12, 0.05), vibrato=0.012)
        breath = rng.standard_normal(t.size) * 0.04 * np.exp(-t / 0.05)
        return (y + breath) * _adsr(t.size, 0.04, 0.3, 0.8, 0.09, hold=dur)
    if kind == "bell":
        t = _t(dur + 1.2)
        y = _additive(freq, t, (1.0, 0.0, 0.4, 0.0, 0.25), 1.5) + 0.3 * np.sin(2 * np.pi * freq * 2.76 * t) * np.exp(
            -t / 0.4
        )
        return y * _adsr(t.size, 0.002, 1.0, 0.0, 0.6, hold=dur)
    if kind == "synth":
        t = _t(dur + 0.15)
        y = _additive(freq, t, (1.0, 0.5, 0.33, 0.25, 0.2, 0.16), vibrato=0.006)
        return y * _adsr(t.size, 0.01, 0.2, 0.6, 0.07, hold=dur)
    if kind == "bass":
        t = _t(dur + 0.15)
        return _additive(freq, t, (1.0, 0.5, 0.25, 0.12), 4.0) * _adsr(t.size, 0.006, 0.5, 0.5, 0.06, hold=dur)
    raise ValueError(f"unknown instrument {kind!r}")


def _drum(kind: str, rng: np.random.Generator) -> Signal:
    """One percussion hit."""
    if kind == "kick":  # sine with a falling pitch
        t = _t(0.35)
        f = 50 + 90 * np.exp(-t / 0.04)
        return np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE) * np.exp(-t / 0.12)
    if kind == "snare":
        t = _t(0.25)
        noise = np.diff(rng.standard_normal(t.size + 1))
        return 0.6 * noise * np.exp(-t / 0.07) + 0.5 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.05)
    if kind in ("hat", "shaker", "brush"):
        dur, tau = {"hat": (0.08, 0.02), "shaker": (0.12, 0.04), "brush": (0.3, 0.09)}[kind]
        t = _t(dur)
        noise = np.diff(np.diff(rng.standard_normal(t.size + 2)))  # high-passed: energy near 3-4 kHz
        env = np.exp(-t / tau) * (np.minimum(t / 0.02, 1.0) if kind != "hat" else 1.0)
        return 0.35 * noise * env
    if kind == "rim":
        t = _t(0.06)
        return (np.sin(2 * np.pi * 820 * t) + 0.5 * np.sin(2 * np.pi * 1650 * t)) * np.exp(-t / 0.012)
    raise ValueError(f"unknown drum {kind!r}")


_DRUM_PATTERNS: Final[dict[str, dict[str, tuple[float, ...]]]] = {
    # Positions in eighths (0..7) within a 4/4 bar.
    "brush": {"brush": (0, 2, 4, 6), "hat": (2, 6), "kick": (0, 5)},
    "bossa": {"kick": (0, 3, 4, 7), "rim": (0, 2, 3, 5, 6), "shaker": (0, 1, 2, 3, 4, 5, 6, 7)},
    "pop": {"kick": (0, 4, 5), "snare": (2, 6), "hat": (0, 1, 2, 3, 4, 5, 6, 7)},
    "soft": {"kick": (0,), "shaker": (2, 6)},
    "none": {},
}
_DRUM_GAIN = {"kick": 0.55, "snare": 0.3, "hat": 0.18, "shaker": 0.09, "brush": 0.1, "rim": 0.12}


def _scale(spec: PieceSpec) -> list[int]:
    """Scale pitches for the melody (MIDI 62-84)."""
    steps = _MINOR if spec.minor else _MAJOR
    return [n for n in range(60, 86) if (n - spec.tonic) % 12 in steps]


def _phrase(spec: PieceSpec, rng: np.random.Generator, bars: int, eighth: float) -> list[tuple[float, int, float]]:
    """Compose ``bars`` bars of melody as (start eighth, note, eighths); strong beats land on chord tones."""
    scale = _scale(spec)
    notes: list[tuple[float, int, float]] = []
    current = scale[len(scale) // 2]
    for bar in range(bars):
        tones = {n % 12 for n in chord(spec.progression[bar % len(spec.progression)])}
        pos = 0
        while pos < 8:
            strong = pos in (0, 4)
            length = int(rng.choice([1, 2, 2, 3, 4] if strong else [1, 1, 2]))
            length = min(length, 8 - pos)
            if rng.random() < spec.melody_density or pos == 0:
                step = int(rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3]))
                idx = int(np.clip(scale.index(current) + step, 2, len(scale) - 3))
                current = scale[idx]
                if strong:  # land on the nearest chord tone
                    current = min((n for n in scale if n % 12 in tones), key=lambda n: abs(n - current))
                notes.append((bar * 8 + pos, current, length))
            pos += length
    del eighth
    return notes


def _sections(spec: PieceSpec, rng: np.random.Generator, eighth: float) -> dict[str, list[tuple[float, int, float]]]:
    """One melody per section letter; a repeated letter repeats its melody (with a varied ending)."""
    bars = len(spec.progression)
    return {letter: _phrase(spec, rng, bars, eighth) for letter in dict.fromkeys(spec.form)}


def _bass_line(
    spec: PieceSpec, chord_name: str, bar_start: float, beat: float, rng: np.random.Generator
) -> list[tuple[float, int, float]]:
    """(start seconds, note, duration seconds) of the bass for one bar."""
    notes = chord(chord_name, octave=2)
    root, fifth = notes[0], notes[0] + 7
    if root > 45:
        root, fifth = root - 12, fifth - 12
    if spec.bass == "walking":
        line = [
            root,
            int(rng.choice(notes[1:])) - (12 if notes[1] > 50 else 0),
            fifth,
            fifth + int(rng.choice([-1, 1, 2])),
        ]
        return [(bar_start + i * beat, n, beat * 0.9) for i, n in enumerate(line)]
    if spec.bass == "root_fifth":
        return [
            (bar_start, root, beat * 1.4),
            (bar_start + 1.5 * beat, fifth, beat * 0.45),
            (bar_start + 2 * beat, fifth, beat * 1.4),
            (bar_start + 3.5 * beat, root, beat * 0.45),
        ]
    if spec.bass == "pulse":
        return [(bar_start + i * beat / 2, root, beat * 0.4) for i in range(8)]
    return [(bar_start, root, beat * 3.8)]


def _comp(spec: PieceSpec, chord_name: str, bar_start: float, beat: float) -> list[tuple[float, int, float]]:
    """Chord accompaniment for one bar."""
    notes = chord(chord_name, octave=4 if spec.comping == "arpeggio" else 3)
    notes = [n + 12 if n < 55 else n for n in notes]
    if spec.comping == "arpeggio":
        order = [*notes, notes[0] + 12, *reversed(notes[1:])]
        return [(bar_start + i * beat / 2, order[i % len(order)], beat * 0.6) for i in range(8)]
    hits: tuple[float, ...]
    if spec.comping == "nylon":  # bossa comping: syncopated chord stabs
        hits = (0.0, 1.5, 2.5, 3.5)
        return [(bar_start + h * beat, n, beat * 0.7) for h in hits for n in notes]
    if spec.comping == "epiano":
        hits = (0.0, 2.5)
        return [(bar_start + h * beat, n, beat * 1.4) for h in hits for n in notes]
    return [(bar_start, n, beat * 4.0) for n in notes]  # pad: whole-bar chords


def render_piece(spec: PieceSpec) -> npt.NDArray[np.int16]:
    """Render one seamless loop of the piece (30-60 s) as 8 kHz int16 PCM."""
    rng = np.random.default_rng(spec.seed)
    beat = 60.0 / spec.bpm
    bar = 4 * beat
    bars_per_pass = len(spec.progression)
    passes = len(spec.form)
    while passes * bars_per_pass * bar < 30.0:
        passes += len(spec.form)
    while passes * bars_per_pass * bar > 60.0 and passes > 1:
        passes -= 1
    length = passes * bars_per_pass * bar
    canvas = _Canvas(length)
    melodies = _sections(spec, rng, beat / 2)
    comp_kind = {"epiano": "epiano", "pad": "pad", "arpeggio": "harpsichord", "nylon": "nylon"}[spec.comping]
    comp_gain = {"pad": 0.07, "epiano": 0.11, "harpsichord": 0.12, "nylon": 0.1}[comp_kind]
    for p in range(passes):
        letter = spec.form[p % len(spec.form)]
        pass_start = p * bars_per_pass * bar
        for b, name in enumerate(spec.progression):
            start = pass_start + b * bar
            for t0, n, d in _comp(spec, name, start, beat):
                canvas.add(t0, _instrument(comp_kind, midi_hz(n), d, rng), comp_gain)
            for t0, n, d in _bass_line(spec, name, start, beat, rng):
                canvas.add(t0, _instrument("bass", midi_hz(n), d, rng), 0.35)
            for drum, positions in _DRUM_PATTERNS[spec.drums].items():
                for pos in positions:
                    accent = 1.0 if pos in (0, 4) else 0.75 + 0.2 * rng.random()
                    canvas.add(start + pos * beat / 2, _drum(drum, rng), _DRUM_GAIN[drum] * accent)
        last_pass = p == passes - 1
        for e, n, ln in melodies[letter]:
            if last_pass and e >= (bars_per_pass - 1) * 8:
                continue  # leave the last bar's melody out: a breath before the loop restarts
            canvas.add(pass_start + e * beat / 2, _instrument(spec.lead, midi_hz(n), ln * beat / 2 * 0.92, rng), 0.2)
    y = np.tanh(1.4 * canvas.buf / (np.max(np.abs(canvas.buf)) + 1e-9))  # gentle limiting like broadcast audio
    y *= 0.5 / (np.sqrt(np.mean(y**2)) + 1e-9) * 0.25  # about -18 dBFS RMS
    pcm: npt.NDArray[np.int16] = np.clip(np.round(y * 32767), -32768, 32767).astype(np.int16)
    return pcm


def piece_names() -> list[str]:
    """Names of the built-in pieces."""
    return [p.name for p in PIECES]


def spec_for(name: str) -> PieceSpec:
    """Return the spec of a built-in piece; raise KeyError naming the valid ones."""
    for p in PIECES:
        if p.name == name:
            return p
    raise KeyError(f"unknown hold music {name!r}; built-in pieces: {piece_names()}")

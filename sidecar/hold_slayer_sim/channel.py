"""Telephone channel impairments a simulated company's audio passes through before it reaches the caller.

Real calls do not arrive as clean 8 kHz PCM: they cross G.711 trunks (A-law in most of the world, mu-law in North
America and Japan), often more than once; analogue and older digital legs pass only 300-3400 Hz (ITU-T G.712's
telephone band); lines and offices add broadband noise whose spectrum falls with frequency (pink rather than white);
and VoIP legs lose packets, which the far end's packet loss concealment (PLC) hides by replaying the last good audio
at falling level, then silence (after ITU-T G.711 Appendix I, which fades a repeat to nothing over 60 ms).

Every impairment is deterministic for a clip (seeded from its samples), so a benchmark run can be repeated.
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

from .model import Channel

RATE = 8000
FRAME = 160  # 20 ms: one RTP packet of G.711 at the usual packetisation
_MU = 255.0
_A = 87.6
# A loss burst goes on with this chance per packet: on the Internet, losses come in bursts of about 1.5 packets on
# average (Gilbert-Elliott fits of VoIP traces); the chance of a new burst is set so the mean loss is ``loss``.
_BURST_STAY = 1 / 3
_PLC_FADE_FRAMES = 3  # G.711 Appendix I: a lost packet's repeat fades to silence over 60 ms
_BAND_EDGE_HZ = 100.0  # the filter's roll-off width at each band edge (a raised-cosine ramp)
# Line noise lies in the audio band: it is quoted in the telephone band (psophometrically weighted, ITU-T O.41), and
# transformers, AC coupling and the codec's filters (ITU-T G.712) strip what lies below it. 1/f noise made down to a
# long clip's lowest FFT bin put half its power under 20 Hz, a slow wander of 20 dB no telephone line carries.
_NOISE_LOW_HZ = 100.0

Pcm = npt.NDArray[np.int16]


def impair(pcm: Pcm, channel: Channel | None) -> Pcm:
    """Return ``pcm`` (8 kHz) as it sounds after ``channel``: band, noise, codec re-encoding, packet loss."""
    if channel is None or pcm.size == 0:
        return pcm
    rng = np.random.default_rng(zlib.crc32(pcm.tobytes()))
    x = pcm.astype(np.float64)
    if channel.band_hz is not None:
        x = band_pass(x, *channel.band_hz)
    if channel.noise_snr_db is not None:
        low, high = channel.band_hz or (0.0, RATE / 2)  # in the channel's band: its filters pass the line's noise
        noise = pink_noise(x.size, rng, max(low, _NOISE_LOW_HZ), high)
        x = x + noise * (active_rms(x) * 10 ** (-channel.noise_snr_db / 20))
    out = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    for codec in channel.codecs:
        out = g711(out, codec)
    if channel.loss > 0:
        out = lose_packets(out, channel.loss, rng)
    return out


def band_pass(x: npt.NDArray[np.float64], low_hz: float, high_hz: float) -> npt.NDArray[np.float64]:
    """Keep ``low_hz``-``high_hz`` with raised-cosine edges (an FFT filter over the whole clip: no phase shift)."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    gain = np.ones_like(freqs)
    for edge, rising in ((low_hz, True), (high_hz, False)):
        ramp = np.clip((freqs - (edge - _BAND_EDGE_HZ / 2)) / _BAND_EDGE_HZ, 0.0, 1.0)
        ramp = 0.5 - 0.5 * np.cos(np.pi * ramp)
        gain *= ramp if rising else 1.0 - ramp
    return np.fft.irfft(spectrum * gain, x.size)


def pink_noise(
    n: int, rng: np.random.Generator, low_hz: float = _NOISE_LOW_HZ, high_hz: float = RATE / 2
) -> npt.NDArray[np.float64]:
    """Unit-RMS pink (1/f power) noise from ``low_hz`` to ``high_hz``: white noise shaped by 1/sqrt(f)."""
    if n == 0:
        return np.zeros(0)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[(freqs < low_hz) | (freqs > high_hz)] = 0.0
    noise = np.fft.irfft(spectrum, n)
    rms = float(np.sqrt(np.mean(noise**2)))
    return noise / rms if rms > 0 else noise


def active_rms(x: npt.NDArray[np.float64]) -> float:
    """RMS of the clip's active frames (above -50 dB of its loudest): the level an SNR is quoted against."""
    frames = x[: x.size - x.size % FRAME].reshape(-1, FRAME) if x.size >= FRAME else x.reshape(1, -1)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    active = rms[rms > rms.max() * 10 ** (-50 / 20)] if rms.size and rms.max() > 0 else rms
    return float(np.sqrt(np.mean(active**2))) if active.size else 0.0


def g711(pcm: Pcm, codec: str) -> Pcm:
    """Encode to G.711 (``pcmu`` mu-law or ``pcma`` A-law, continuous companding laws) and decode back."""
    x = pcm.astype(np.float64) / 32768.0
    mag = np.abs(x)
    if codec == "pcmu":
        y = np.log1p(_MU * mag) / np.log1p(_MU)
        y = np.round(y * 127) / 127  # 8 bits: sign and 7 bits of companded magnitude
        back = (np.power(1 + _MU, y) - 1) / _MU
    else:
        small = mag < 1 / _A
        y = np.where(small, _A * mag, 1 + np.log(np.maximum(_A * mag, 1e-12))) / (1 + np.log(_A))
        y = np.round(y * 127) / 127
        scaled = y * (1 + np.log(_A))
        back = np.where(scaled < 1, scaled / _A, np.exp(scaled - 1) / _A)
    out: Pcm = np.clip(np.round(np.sign(x) * back * 32768.0), -32768, 32767).astype(np.int16)
    return out


def lose_packets(pcm: Pcm, loss: float, rng: np.random.Generator) -> Pcm:
    """Drop 20 ms packets in bursts (mean rate ``loss``) and conceal them as a PLC does: fading repeats, then quiet."""
    out = pcm.copy()
    start = (1 - _BURST_STAY) * loss / max(1e-9, 1 - loss)  # stationary loss rate of the two-state chain is ``loss``
    lost_run = 0
    last_good = np.zeros(FRAME, np.float64)
    for k in range(pcm.size // FRAME):
        frame = slice(k * FRAME, (k + 1) * FRAME)
        lost = rng.random() < (_BURST_STAY if lost_run else start)
        if not lost:
            lost_run = 0
            last_good = pcm[frame].astype(np.float64)
            continue
        lost_run += 1
        fade = max(0.0, 1 - lost_run / _PLC_FADE_FRAMES)
        out[frame] = np.round(last_good * fade).astype(np.int16)
    return out

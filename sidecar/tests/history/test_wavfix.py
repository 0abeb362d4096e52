"""WAV headers left at 0 bytes by a killed recorder are made playable (Python's wave reads them)."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from hold_slayer_sidecar.history.retention import recover
from hold_slayer_sidecar.history.wavfix import WavFixError, fix_sizes
from hold_slayer_sidecar.store.history import RecordingRef
from hold_slayer_sidecar.store.sqlite import CallRecord, Store


def killed_wav(path: Path, samples: int, *, extra_byte: bool = False) -> None:
    """A WAV as a recorder killed mid-call leaves it: sizes 0, samples after the header."""
    good = path.with_suffix(".good.wav")
    with wave.open(str(good), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(np.arange(samples, dtype=np.int16).tobytes())
    data = bytearray(good.read_bytes())
    data[4:8] = struct.pack("<I", 0)
    data[40:44] = struct.pack("<I", 0)
    path.write_bytes(bytes(data) + (b"\x01" if extra_byte else b""))


def test_a_zero_size_header_is_fixed_from_the_file_length(tmp_path: Path) -> None:
    path = tmp_path / "c-company.wav"
    killed_wav(path, 8000, extra_byte=True)  # half a sample still being written when the process died
    with pytest.raises(wave.Error):
        wave.open(str(path)).close()
    assert fix_sizes(path) is True
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == 8000
        assert wav.readframes(3) == np.arange(3, dtype=np.int16).tobytes()
    assert fix_sizes(path) is False  # already right: nothing written


def test_not_a_wav_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"hello, not a wav at all" * 4)
    with pytest.raises(WavFixError):
        fix_sizes(path)
    assert path.read_bytes() == b"hello, not a wav at all" * 4
    (tmp_path / "short.wav").write_bytes(b"RIFF\0\0\0\0WAVE")
    with pytest.raises(WavFixError):
        fix_sizes(tmp_path / "short.wav")


async def test_restart_marks_live_calls_interrupted_and_repairs_their_recordings(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    await store.open()
    wav = tmp_path / "rec" / "c1-company.wav"
    wav.parent.mkdir()
    killed_wav(wav, 1600)
    record = CallRecord("c1", "sip:co@x", "Bank", None, None, 100.0, 160.0, 30.0, "", None, [str(wav)])
    await store.upsert_call(record, status="live")
    await store.add_recording(RecordingRef("c1", str(wav), "company", 2.0))
    assert await recover(store) == ["c1"]
    detail = await store.get_call("c1")
    assert detail is not None and detail.call.status == "interrupted" and detail.call.outcome == "interrupted"
    with wave.open(str(wav)) as reader:
        assert reader.getnframes() == 1600
    assert await recover(store) == []  # a second start finds nothing left live
    await store.close()


async def test_a_recording_the_history_never_learned_of_is_kept_with_the_interrupted_call(tmp_path: Path) -> None:
    """Killed during a long hold: the WAV was on disk but no call_state event had listed it (chaos sidecar_kill)."""
    store = Store(tmp_path / "db.sqlite3")
    await store.open()
    recordings = tmp_path / "recordings"
    wav = recordings / "2026-12-07" / "c1-company.wav"
    wav.parent.mkdir(parents=True)
    killed_wav(wav, 8000)
    killed_wav(recordings / "2026-12-07" / "c10-company.wav", 80)  # another call whose id starts alike
    record = CallRecord("c1", "sip:co@x", "Bank", None, None, 100.0, 160.0, 30.0, "", None, [])
    await store.upsert_call(record, status="live")
    assert await recover(store, recordings) == ["c1"]
    detail = await store.get_call("c1")
    assert detail is not None and detail.call.outcome == "interrupted"
    assert [(ref.path, ref.leg) for ref in detail.recordings] == [(str(wav), "company")]
    with wave.open(str(wav)) as reader:
        assert reader.getnframes() == 8000  # playable up to the kill
    await store.close()

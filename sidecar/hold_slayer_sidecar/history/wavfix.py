"""Keep a WAV that is still being written playable: set its RIFF and data sizes from the file's length.

A recorder writes the header's sizes only when it closes the file, so a killed process leaves a WAV whose
header says 0 bytes (sox and Python's ``wave`` then read nothing). The samples are on disk already: writing
the sizes the file's length implies makes it play up to the last flushed block. Used every second on live
recordings and once on start for recordings of calls that were interrupted.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

_MAX_CHUNKS = 16  # a WAV from our recorders has fmt (and maybe fact/LIST) before data; more means not a WAV of ours


class WavFixError(Exception):
    """The file is not a RIFF/WAVE file this module can fix."""


def data_offset(head: bytes) -> tuple[int, int]:
    """Return (offset of the data chunk's size field, block align) by walking the RIFF chunks."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavFixError("not a RIFF/WAVE file")
    pos, align = 12, 2
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(head):
            break
        chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if chunk == b"data":
            return pos + 4, align
        if chunk == b"fmt " and pos + 8 + 14 <= len(head):
            align = max(1, struct.unpack("<H", head[pos + 8 + 12 : pos + 8 + 14])[0])
        pos += 8 + size + (size & 1)  # chunks are padded to an even length (RIFF)
    raise WavFixError("no data chunk in the header")


def fix_sizes(path: Path) -> bool:
    """Write the sizes the file's length implies; return True when the header changed."""
    fd = os.open(path, os.O_RDWR)
    try:
        head = os.pread(fd, 512, 0)
        size_at, align = data_offset(head)
        length = os.fstat(fd).st_size
        data = length - (size_at + 4)
        data -= data % align  # a block still being written is not a sample yet
        if data < 0:
            raise WavFixError("shorter than its header")
        riff = min(0xFFFFFFFF, size_at + 4 + data - 8)
        current = struct.unpack("<II", head[4:8] + head[size_at : size_at + 4])
        if current == (riff, min(0xFFFFFFFF, data)):
            return False
        # pwrite leaves the writer's own file offset alone, so a recorder appending samples is not disturbed.
        os.pwrite(fd, struct.pack("<I", riff), 4)
        os.pwrite(fd, struct.pack("<I", min(0xFFFFFFFF, data)), size_at)
        return True
    finally:
        os.close(fd)

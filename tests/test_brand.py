"""Brand images: the sizes and format Home Assistant (2026.3+) reads from the integration's brand/ folder."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "hold_slayer" / "brand"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize(("name", "size"), [("icon.png", (256, 256)), ("icon@2x.png", (512, 512))])
def test_brand_icon(name: str, size: tuple[int, int]) -> None:
    assert png_size(BRAND / name) == size

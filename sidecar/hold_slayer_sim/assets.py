"""Build the simulator's audio: procedural hold music and pre-rendered speech of the shipped companies.

``python -m hold_slayer_sim.assets --out DIR`` is idempotent: music is regenerated only when the
generator changed (a manifest records each piece's spec), and speech renders are cached by
(text, voice, speed), so a second run takes about a second. No network is used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .clips import ClipLibrary, music_path
from .model import CompanyFileError, load_company, shipped_company_files
from .music import PIECES, render_piece
from .speech import write_wav_atomic

_GENERATOR_VERSION = 2  # bump whenever music.py changes what it renders


def build_music(out: Path) -> list[str]:
    """Render every built-in piece whose spec or generator version changed; return the names rendered."""
    manifest_path = out / "music" / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    rendered = []
    for spec in PIECES:
        stamp = f"v{_GENERATOR_VERSION} {spec!r}"
        path = music_path(out, spec.name)
        if manifest.get(spec.name) == stamp and path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav_atomic(path, render_piece(spec))
        manifest[spec.name] = stamp
        rendered.append(spec.name)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return rendered


def main() -> None:
    """Generate music and speech into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="asset folder (the simulator's generated/)")
    parser.add_argument("--no-speech", action="store_true", help="only the music (speech renders lazily at call time)")
    parser.add_argument("--company", type=Path, action="append", help="company files to pre-render (default: shipped)")
    args = parser.parse_args()
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    rendered = build_music(args.out)
    print(f"hold music: {len(PIECES)} pieces ({len(rendered)} rendered) in {args.out / 'music'}")
    if args.no_speech:
        return
    library = ClipLibrary(args.out)
    new = 0
    for path in args.company or shipped_company_files():
        try:
            new += library.prerender(load_company(path))
        except CompanyFileError as err:
            sys.exit(str(err))
    print(f"speech: {new} new renders in {args.out / 'tts'} ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()

"""Build the simulator's generated audio assets (placeholder until the simulator lands)."""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    """Create the output folder; real generation is added with the simulator."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    main()

"""Start a real ``hass`` on this machine's Python 3.13.0.

HA 2026.2 declares Python >= 3.13.2 and refuses to start on 3.13.0 at its own version check, although
it runs fine here (the whole test harness does). This relaxes only that one check, then hands over to
HA's real entry point: ``python launcher.py -c CONFIG_DIR [hass options]``.
"""

from __future__ import annotations

import sys

import homeassistant.__main__ as hass_main


def main() -> int:
    """Run hass with the minimum Python version lowered to the running interpreter."""
    running = sys.version_info[:3]
    hass_main.REQUIRED_PYTHON_VER = min(hass_main.REQUIRED_PYTHON_VER, (running[0], running[1], running[2]))
    sys.argv[0] = "hass"
    return hass_main.main()


if __name__ == "__main__":
    sys.exit(main())

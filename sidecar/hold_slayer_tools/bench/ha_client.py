"""Home Assistant's own websocket client (``custom_components/hold_slayer/client.py``), loaded without Home Assistant.

The client imports only aiohttp and the protocol module (byte-identical to the sidecar's), so the bench runs the
very code Home Assistant runs to reconnect, from the sidecar's environment. The integration's ``__init__``
(which imports Home Assistant) is not executed: the package is registered by hand around its folder.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

INTEGRATION = Path(__file__).resolve().parents[3] / "custom_components" / "hold_slayer"
_PACKAGE = "hold_slayer_ha_integration"


def load_client_module() -> Any:
    """Return the integration's ``client`` module (raise ``FileNotFoundError`` outside a repository checkout)."""
    if not (INTEGRATION / "client.py").is_file():
        raise FileNotFoundError(f"Home Assistant's client is not at {INTEGRATION}")
    if _PACKAGE not in sys.modules:
        package = types.ModuleType(_PACKAGE)
        package.__path__ = [str(INTEGRATION)]
        sys.modules[_PACKAGE] = package
    return importlib.import_module(f"{_PACKAGE}.client")

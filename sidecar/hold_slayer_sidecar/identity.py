"""The sidecar's persistent identity: an id made at first start and kept in the data directory."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Final

SIDECAR_ID_FILE: Final = "sidecar_id"
# 32 random bytes: far beyond guessing, and longer than any minimum the websocket server asks of a token.
TOKEN_BYTES: Final = 32


class IdentityError(Exception):
    """The id or token file cannot be read or written."""


def load_or_create_sidecar_id(data_dir: Path) -> str:
    """Return the id kept in ``data_dir``, creating it at first start (Home Assistant's unique id)."""
    return _load_or_create(data_dir / SIDECAR_ID_FILE, lambda: uuid.uuid4().hex)


def load_or_create_token(path: Path) -> str:
    """Return the client token kept at ``path``, generating a random one the first time."""
    return _load_or_create(path, lambda: secrets.token_urlsafe(TOKEN_BYTES))


def _load_or_create(path: Path, make: Callable[[], str]) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = ""
    except OSError as err:
        raise IdentityError(f"cannot read {path}: {err}") from err
    if value:
        return value
    value = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by the owner only: the token opens the websocket, the id names this sidecar in HA.
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(value + "\n")
        partial.replace(path)
    except OSError as err:
        raise IdentityError(f"cannot write {path}: {err}") from err
    return value

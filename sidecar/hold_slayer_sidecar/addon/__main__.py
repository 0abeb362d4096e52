"""The add-on's entry point: write the sidecar's config from the add-on options, run it, announce it to HA.

    python -m hold_slayer_sidecar.addon [--options /data/options.json] [--data-dir /data]

Runs the sidecar as a child process (so its start-up can be awaited before HA is told about it), passes
SIGTERM on, and exits with the sidecar's status; s6 in the add-on image restarts or stops the container.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Final

from ..identity import IdentityError, load_or_create_sidecar_id, load_or_create_token
from .options import DATA_DIR, EXTRA_CONFIG, AddonOptionsError, read_extra, read_options, sidecar_config, write_config
from .supervisor import SUPERVISOR_URL, DiscoveryError, announce

_LOGGER = logging.getLogger("hold_slayer_sidecar.addon")
# Loading the speech models and starting PJSUA2 takes seconds; a sidecar silent for this long is stuck.
STARTUP_TIMEOUT_S: Final = 300.0
POLL_S: Final = 0.1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (the defaults are the add-on container's paths)."""
    parser = argparse.ArgumentParser(prog="python -m hold_slayer_sidecar.addon", description=__doc__)
    parser.add_argument("--options", type=Path, default=DATA_DIR / "options.json")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--extra-config", type=Path, default=EXTRA_CONFIG)
    parser.add_argument("--supervisor-url", default=SUPERVISOR_URL)
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace) -> tuple[Path, str, str]:
    """Write the sidecar's config; return its path, the token and the sidecar id."""
    options = read_options(args.options)
    token = load_or_create_token(args.data_dir / "token")
    sidecar_id = load_or_create_sidecar_id(args.data_dir)
    config = sidecar_config(options, token=token, data_dir=args.data_dir, extra=read_extra(args.extra_config))
    path = args.data_dir / "sidecar.yaml"
    write_config(config, path)
    return path, token, sidecar_id


async def wait_ready(process: asyncio.subprocess.Process, ready_file: Path) -> dict[str, object] | None:
    """Wait until the sidecar writes its ready file; None when it exited or took too long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT_S
    while loop.time() < deadline:
        if (ready := await asyncio.to_thread(_read_ready, ready_file)) is not None:
            return ready
        if process.returncode is not None:
            return None
        await asyncio.sleep(POLL_S)
    return None


def _read_ready(path: Path) -> dict[str, object] | None:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


async def run(args: argparse.Namespace) -> int:
    """Start the sidecar, announce it once it listens, and wait for it to end."""
    config, token, sidecar_id = prepare(args)
    ready_file = args.data_dir / "ready.json"
    ready_file.unlink(missing_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hold_slayer_sidecar", "--config", str(config), "--ready-file", str(ready_file)
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _forward, process, sig)
    ready = await wait_ready(process, ready_file)
    if ready is None:
        _LOGGER.error("the sidecar did not start (see its log above)")
        if process.returncode is None:
            process.terminate()
        return await process.wait() or 1
    await _announce(args.supervisor_url, int(str(ready["ws_port"])), token, sidecar_id)
    return await process.wait()


async def _announce(supervisor_url: str, port: int, token: str, sidecar_id: str) -> None:
    supervisor_token = os.environ.get("SUPERVISOR_TOKEN")
    if not supervisor_token:
        _LOGGER.warning("no SUPERVISOR_TOKEN: not running under the Supervisor, so Home Assistant is not told")
        return
    try:
        await announce(
            supervisor_url=supervisor_url,
            supervisor_token=supervisor_token,
            host="127.0.0.1",
            port=port,
            token=token,
            sidecar_id=sidecar_id,
        )
    except DiscoveryError as err:
        # The sidecar keeps running: the user can still add it by hand with the token in /data/token.
        _LOGGER.error("could not announce the sidecar to Home Assistant: %s", err)
    else:
        _LOGGER.info("announced to Home Assistant (sidecar %s, port %d)", sidecar_id, port)


def _forward(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)


def main(argv: list[str] | None = None) -> None:
    """Entry point: exit with the sidecar's status, or 2 when the options cannot be turned into settings."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        status = asyncio.run(run(args))
    except (AddonOptionsError, IdentityError) as err:
        _LOGGER.error("%s", err)
        sys.exit(2)
    sys.exit(status)


if __name__ == "__main__":
    main()

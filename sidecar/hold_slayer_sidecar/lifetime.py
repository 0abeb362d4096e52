"""Media workers die with the sidecar: Linux's PR_SET_PDEATHSIG.

A sidecar killed with SIGKILL runs no cleanup; its media workers would still hold calls. The socket's EOF
tells a worker too, but only while its loop runs; with the death signal set, the kernel sends SIGTERM the
moment the sidecar dies, and the worker hangs up in order (a BYE per leg). The signal is tied to the thread
that started the child: the sidecar starts its workers from its event loop, which lives as long as it does.
(kamailio does not get it: the workers' BYEs go out through it; the next start replaces it, edge/supervisor.)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    """Resolve prctl once (also safe as a ``preexec_fn`` then: no library is loaded between fork and exec)."""
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the children's own checks (a socket's EOF) remain
        return None
    return prctl


_PRCTL = _load_prctl()


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (no-op where prctl is missing)."""
    if _PRCTL is None:
        return
    parent = os.getppid()
    with contextlib.suppress(OSError):
        _PRCTL(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)

"""Exception handling on the PJSUA2 and media threads without leaking PJSUA2 objects to other threads.

A traceback keeps every frame's locals alive (Call objects, media ports). If such a traceback reaches
another thread (a log record kept by a handler, an exception handed to asyncio), those objects are
freed there, and a PJSUA2 destructor on an unregistered thread aborts the process. So tracebacks are
formatted to text on the thread that raised them, and exceptions crossing threads lose theirs.
"""

from __future__ import annotations

import logging
import traceback


def log_exception(logger: logging.Logger, message: str) -> None:
    """Log the exception being handled as text (no ``exc_info`` that would keep frames alive)."""
    logger.error("%s\n%s", message, traceback.format_exc().rstrip())


def detach(error: BaseException) -> BaseException:
    """Drop the tracebacks of ``error`` and of its cause/context chain; return ``error``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return error

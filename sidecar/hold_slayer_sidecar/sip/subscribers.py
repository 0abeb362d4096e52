"""Subscriber lists for leg events and audio frames, shared by the in-process engine and the worker pool."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .api import Unsubscribe

_LOGGER = logging.getLogger(__name__)


class Subscribers[T]:
    """Callbacks that each get every item; one that raises is logged and never starves the others."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._callbacks: list[Callable[[T], None]] = []

    def add(self, callback: Callable[[T], None]) -> Unsubscribe:
        """Subscribe ``callback``; return the callable that unsubscribes it."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def deliver(self, item: T) -> None:
        """Hand ``item`` to every subscriber (a copy of the list: one may unsubscribe while it runs)."""
        for callback in list(self._callbacks):
            try:
                callback(item)
            except Exception:  # subscriber boundary
                _LOGGER.exception("%s subscriber failed", self._what)


class KeyedSubscribers[T]:
    """One ``Subscribers`` list per key (a leg id), dropped with the leg."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._lists: dict[str, Subscribers[T]] = {}

    def add(self, key: str, callback: Callable[[T], None]) -> Unsubscribe:
        """Subscribe ``callback`` to ``key``'s items."""
        return self._lists.setdefault(key, Subscribers(self._what)).add(callback)

    def deliver(self, key: str, item: T) -> None:
        """Hand ``item`` to ``key``'s subscribers, if any."""
        subscribers = self._lists.get(key)
        if subscribers is not None:
            subscribers.deliver(item)

    def drop(self, key: str) -> None:
        """Forget ``key``'s subscribers (its leg ended)."""
        self._lists.pop(key, None)

    def clear(self) -> None:
        """Forget every subscriber."""
        self._lists.clear()

"""Failed hellos per remote address: after too many in a window, that address is refused for a while."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class HelloLimits:
    """How many failed hellos an address may make before it must wait."""

    # A person retyping a token fails a few times; five in a minute is more than that and far too few to
    # guess a 24-character token. The limit mostly spares the log and the CPU from a scanner.
    max_failures: int = 5
    window_s: float = 60.0
    cooldown_s: float = 60.0
    # Addresses remembered at once; the least recently seen is forgotten first, so memory stays bounded
    # however many addresses a scanner uses.
    max_addresses: int = 4096


@dataclass(slots=True)
class _Record:
    failures: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class HelloLimiter:
    """Remembers recent failed hellos per address and says whether an address must wait."""

    def __init__(self, limits: HelloLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def __len__(self) -> int:
        """Addresses remembered."""
        return len(self._records)

    def retry_after(self, address: str) -> float:
        """Seconds the address must still wait before its next hello is heard (0 when it may try now)."""
        record = self._records.get(address)
        if record is None:
            return 0.0
        return max(0.0, record.blocked_until - self._clock())

    def failed(self, address: str) -> None:
        """Count one failed hello; block the address when it has failed too often within the window."""
        now = self._clock()
        record = self._records.pop(address, None) or _Record()
        self._records[address] = record  # most recently seen last
        while len(self._records) > self.limits.max_addresses:
            self._records.popitem(last=False)
        record.failures.append(now)
        while record.failures and record.failures[0] <= now - self.limits.window_s:
            record.failures.popleft()
        if len(record.failures) >= self.limits.max_failures:
            record.blocked_until = now + self.limits.cooldown_s
            record.failures.clear()

    def succeeded(self, address: str) -> None:
        """Forget the address's failures after a good hello."""
        self._records.pop(address, None)

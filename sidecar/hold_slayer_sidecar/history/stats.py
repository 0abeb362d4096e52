"""Hold statistics and forecasts per company, by weekday and hour in the user's time zone (pure functions).

Call centres staff by weekday and hour, so queue lengths repeat on that grid; a median over the calls
made in the same weekday-hour is the forecast, widened to the same hour on any weekday, then to all of the
company's calls, when there are too few. Every figure says how many calls it rests on.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..store.history import HoldRow

# A median of fewer calls is one call's luck, not a queue's habit (three is the smallest sample whose median
# is not a single call or the mean of two).
MIN_CALLS = 3
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Bucket:
    """Hold times of the calls made in one slot."""

    calls: int
    median_s: float
    p90_s: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"calls": self.calls, "median_s": round(self.median_s, 1), "p90_s": round(self.p90_s, 1)}


def bucket(holds: list[float]) -> Bucket:
    """Summarise hold times (non-empty)."""
    return Bucket(len(holds), statistics.median(holds), percentile(holds, 0.9))


@dataclass(frozen=True, slots=True)
class CompanyStats:
    """Everything known about one company's queue."""

    company: str
    calls: int
    reached: int  # calls where a person answered
    hold: Bucket | None  # over calls that waited in the queue
    last_hold_s: float | None
    last_call_at: float | None
    by_slot: dict[tuple[int, int], Bucket]  # (weekday 0=Mon, hour) in the user's zone

    @property
    def success_rate(self) -> float:
        """Share of calls that reached a person."""
        return self.reached / self.calls if self.calls else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        grid: dict[str, dict[str, Any]] = {}
        for (day, hour), slot in sorted(self.by_slot.items()):
            grid.setdefault(WEEKDAYS[day], {})[f"{hour:02d}"] = slot.as_dict()
        return {
            "company": self.company,
            "calls": self.calls,
            "reached_person": self.reached,
            "success_rate": round(self.success_rate, 3),
            "hold_median_s": None if self.hold is None else round(self.hold.median_s, 1),
            "hold_p90_s": None if self.hold is None else round(self.hold.p90_s, 1),
            "hold_calls": 0 if self.hold is None else self.hold.calls,
            "last_hold_s": None if self.last_hold_s is None else round(self.last_hold_s, 1),
            "last_call_at": None if self.last_call_at is None else _iso(self.last_call_at),
            "by_weekday_hour": grid,
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo("UTC")).isoformat(timespec="seconds").replace("+00:00", "Z")


def _slot(ts: float, tz: ZoneInfo) -> tuple[int, int]:
    local = datetime.fromtimestamp(ts, tz)
    return local.weekday(), local.hour


def company_stats(company: str, rows: list[HoldRow], tz: ZoneInfo) -> CompanyStats:
    """Statistics of one company's calls."""
    queued = [row for row in rows if row.hold_seconds > 0]
    slots: dict[tuple[int, int], list[float]] = {}
    for row in queued:
        slots.setdefault(_slot(row.started_at, tz), []).append(row.hold_seconds)
    last = max(rows, key=lambda row: row.started_at, default=None)
    last_queued = max(queued, key=lambda row: row.started_at, default=None)
    return CompanyStats(
        company=company,
        calls=len(rows),
        reached=sum(1 for row in rows if row.reached_person),
        hold=bucket([row.hold_seconds for row in queued]) if queued else None,
        last_hold_s=last_queued.hold_seconds if last_queued else None,
        last_call_at=last.started_at if last else None,
        by_slot={slot: bucket(holds) for slot, holds in slots.items()},
    )


def all_stats(rows: Iterable[HoldRow], tz: ZoneInfo) -> list[CompanyStats]:
    """Statistics per company (names compared without case), by name."""
    by_company: dict[str, list[HoldRow]] = {}
    names: dict[str, str] = {}
    for row in rows:
        key = row.company.casefold()
        names.setdefault(key, row.company)
        by_company.setdefault(key, []).append(row)
    return [company_stats(names[key], by_company[key], tz) for key in sorted(by_company)]


@dataclass(frozen=True, slots=True)
class Estimate:
    """An expected hold time and what it rests on."""

    minutes: int
    calls: int
    basis: str  # "same weekday and hour" | "same hour" | "all calls"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"minutes": self.minutes, "calls": self.calls, "basis": self.basis}


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60)) if seconds > 0 else 0


def estimate_at(stats: CompanyStats, when: datetime) -> Estimate | None:
    """Return the expected hold when calling at ``when`` (aware, in the user's zone); None without enough calls."""
    day, hour = when.weekday(), when.hour
    same = stats.by_slot.get((day, hour))
    if same is not None and same.calls >= MIN_CALLS:
        return Estimate(_minutes(same.median_s), same.calls, "same weekday and hour")
    hour_holds = [b for (d, h), b in stats.by_slot.items() if h == hour]
    calls = sum(b.calls for b in hour_holds)
    if calls >= MIN_CALLS:
        # A median of medians weighted by calls is close enough for a forecast shown in whole minutes.
        weighted = sorted((b.median_s, b.calls) for b in hour_holds)
        half, seen = calls / 2, 0
        for median, n in weighted:
            seen += n
            if seen >= half:
                return Estimate(_minutes(median), calls, "same hour")
    if stats.hold is not None and stats.hold.calls >= MIN_CALLS:
        return Estimate(_minutes(stats.hold.median_s), stats.hold.calls, "all calls")
    return None


def best_time(stats: CompanyStats, now: datetime) -> tuple[datetime, Estimate] | None:
    """Return the weekday-hour with the shortest median hold (enough calls) at its next occurrence within a week."""
    slots = [(b.median_s, d, h, b) for (d, h), b in stats.by_slot.items() if b.calls >= MIN_CALLS]
    if not slots:
        return None
    median, day, hour, slot = min(slots, key=lambda item: (item[0], item[1], item[2]))
    start = now.replace(minute=0, second=0, microsecond=0)
    for ahead in range(0, 24 * 7 + 1):
        at = start + timedelta(hours=ahead)
        if at.weekday() == day and at.hour == hour and at >= start:
            return at, Estimate(_minutes(median), slot.calls, "same weekday and hour")
    return None


def forecast(stats: CompanyStats | None, company: str, now: datetime) -> dict[str, Any]:
    """Build the forecast a user reads: now, and the best time this week, each with its number of calls."""
    current = estimate_at(stats, now) if stats is not None else None
    best = best_time(stats, now) if stats is not None else None
    calls = stats.calls if stats is not None else 0
    parts = []
    if current is None:
        parts.append(f"not enough data yet for {company} ({calls} calls; {MIN_CALLS} needed)")
    else:
        parts.append(f"calling now: about {current.minutes} min ({current.calls} calls, {current.basis})")
    if best is not None:
        at, estimate = best
        parts.append(
            f"{WEEKDAYS[at.weekday()].title()} {at:%H}:00: about {estimate.minutes} min ({estimate.calls} calls)"
        )
    return {
        "company": company,
        "calls": calls,
        "now": None if current is None else current.as_dict(),
        "best": None if best is None else {"at": best[0].isoformat(timespec="minutes"), **best[1].as_dict()},
        "enough_data": current is not None,
        "text": "; ".join(parts),
    }

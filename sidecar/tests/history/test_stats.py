"""Statistics and forecasts by weekday and hour in the user's time zone; honest about too little data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hold_slayer_sidecar.history.stats import all_stats, forecast, percentile
from hold_slayer_sidecar.store.history import HoldRow

NY = ZoneInfo("America/New_York")


def row(day: int, hour: int, hold_min: float, reached: bool = True) -> HoldRow:
    # November 2026: the 2nd is a Monday; times given in New York.
    started = datetime(2026, 11, day, hour, 10, tzinfo=NY).timestamp()
    return HoldRow("Bank", started, hold_min * 60, "connected" if reached else "no_human", reached)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.9) == 5.0
    assert percentile([1.0], 0.9) == 1.0


def test_statistics_group_by_local_weekday_and_hour() -> None:
    rows = [row(2, 9, 30), row(9, 9, 20), row(16, 9, 25), row(3, 14, 5, reached=False), row(10, 14, 7)]
    (bank,) = all_stats(rows, NY)
    view = bank.as_dict()
    assert view["calls"] == 5 and view["reached_person"] == 4 and view["success_rate"] == 0.8
    assert view["hold_median_s"] == 20 * 60 and view["hold_p90_s"] == 30 * 60
    assert view["by_weekday_hour"]["mon"]["09"] == {"calls": 3, "median_s": 1500.0, "p90_s": 1800.0}
    assert view["by_weekday_hour"]["tue"]["14"]["calls"] == 2
    assert view["last_hold_s"] == 25 * 60  # the 16th is the latest call


def test_forecast_now_and_best_time_with_the_calls_they_rest_on() -> None:
    rows = [row(2, 9, 30), row(9, 9, 20), row(16, 9, 25), row(3, 14, 5), row(10, 14, 7), row(17, 14, 6)]
    (bank,) = all_stats(rows, NY)
    monday_9 = datetime(2026, 11, 23, 9, 30, tzinfo=NY)
    result = forecast(bank, "Bank", monday_9)
    assert result["now"] == {"minutes": 25, "calls": 3, "basis": "same weekday and hour"}
    assert result["best"] == {
        "at": "2026-11-24T14:00-05:00",
        "minutes": 6,
        "calls": 3,
        "basis": "same weekday and hour",
    }
    assert result["text"].startswith("calling now: about 25 min (3 calls")
    assert "Tue 14:00: about 6 min (3 calls)" in result["text"]
    friday_20 = datetime(2026, 11, 27, 20, 0, tzinfo=NY)
    assert forecast(bank, "Bank", friday_20)["now"]["basis"] == "all calls"


def test_not_enough_data_is_said_plainly() -> None:
    (bank,) = all_stats([row(2, 9, 30), row(9, 9, 20)], NY)
    result = forecast(bank, "Bank", datetime(2026, 11, 23, 9, tzinfo=NY))
    assert result["now"] is None and result["best"] is None and result["enough_data"] is False
    assert result["text"] == "not enough data yet for Bank (2 calls; 3 needed)"
    assert forecast(None, "Nobody", datetime(2026, 11, 23, 9, tzinfo=NY))["calls"] == 0

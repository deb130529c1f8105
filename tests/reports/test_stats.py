from datetime import UTC, datetime

from koban.reports.stats import bucket, percentile, ratio_change, summary


def ts(*a: int) -> float:
    return datetime(*a, tzinfo=UTC).timestamp()


def test_percentiles_are_nearest_rank_so_each_is_a_measured_value():
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 90) == 90.0
    assert percentile([7.0], 90) == 7.0
    assert percentile([], 50) is None
    assert summary([3.0, 1.0, 2.0]) == {"count": 3, "p50": 2.0, "p90": 3.0, "max": 3.0}


def test_days_weeks_and_months_are_cut_in_the_asked_zone():
    at = ts(2026, 3, 1, 2, 0)  # Sunday 1 March 02:00 UTC = Saturday 28 Feb 21:00 in New York
    assert bucket(at, "day", "UTC") == "2026-03-01"
    assert bucket(at, "day", "America/New_York") == "2026-02-28"
    assert bucket(at, "week", "UTC") == "2026-02-23"
    assert bucket(at, "month", "America/New_York") == "2026-02-01"
    assert bucket(at, "month", "Asia/Tokyo") == "2026-03-01"


def test_a_trend_is_the_relative_change_and_none_without_a_base():
    assert ratio_change(30.0, 60.0) == -0.5
    assert ratio_change(30.0, None) is None
    assert ratio_change(30.0, 0) is None

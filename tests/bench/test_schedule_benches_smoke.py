"""The schedule and calendar benches still run end to end at a tiny size (figures not checked)."""

from __future__ import annotations

from bench import calendar_feed, oncall_http, schedule_resolve


def test_schedule_resolve_bench_times_both_shapes(capsys):
    schedule_resolve.main(["--layers", "5", "--overrides", "10", "--days", "10", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "mixed layers" in out and "every layer restricted" in out


def test_oncall_http_bench_asks_a_real_server(capsys):
    oncall_http.main(["--schedules", "5", "--requests", "10"])
    assert "one schedule (?schedule=)" in capsys.readouterr().out


def test_calendar_feed_bench_fetches_applies_and_refetches(capsys):
    calendar_feed.main(["--events", "60"])
    out = capsys.readouterr().out
    assert "first fetch" in out and "unchanged (304)" in out and "every event moved" in out

from datetime import UTC, datetime, time, timedelta

from koban.reports.availability import availability
from koban.reports.maintenance import covered_seconds, service_maintenance, window_intervals
from koban.reports.records import (
    AvailabilityInput,
    IncidentRecord,
    Interval,
    MonitorInfo,
    Period,
    ProbeMinute,
)
from koban.routing.maintenance import MaintenanceWindow, WindowKind

H = 3600.0
PERIOD = Period(0.0, 10 * H)


def minutes(monitor, start, end, failures=0, count=2):
    return [ProbeMinute(monitor, float(t), count, failures) for t in range(int(start), int(end), 60)]


def test_uptime_counts_failed_results_per_minute_and_excludes_maintenance():
    data = AvailabilityInput(
        monitors=[MonitorInfo("m1", "Home", "web")],
        minutes=[
            *minutes("m1", 0, 5 * H),
            *minutes("m1", 5 * H, 5 * H + 600, failures=1),  # 10 min half down: 300 s
            *minutes("m1", 5 * H + 600, 6 * H, failures=2),  # 50 min down, 20 of them in maintenance
            *minutes("m1", 6 * H, 10 * H),
        ],
        maintenance={"web": [Interval(5 * H + 1800, 6 * H, "deploy")]},
    )
    r = availability(data, PERIOD, as_of=10 * H, target=0.99)
    (m,) = r["monitors"]
    assert m["maintenance_minutes"] == 30 and m["measured_minutes"] == 570
    assert m["down_seconds"] == 300 + 20 * 60
    assert m["uptime"] == round(1 - 1500 / (570 * 60), 6)
    assert m["error_budget"]["budget_seconds"] == round(0.01 * 570 * 60, 3)
    assert m["error_budget"]["remaining_seconds"] == round(0.01 * 570 * 60 - 1500, 3)
    (s,) = r["services"]
    assert s["down_seconds"] == 1500 and s["maintenance"][0]["window"] == "deploy"
    assert s["maintenance"][0]["seconds"] == 1800


def test_a_monitor_added_mid_period_is_judged_on_the_minutes_it_existed():
    data = AvailabilityInput(
        monitors=[MonitorInfo("old", "", "web"), MonitorInfo("new", "", "web")],
        minutes=[*minutes("old", 0, 10 * H), *minutes("new", 8 * H, 10 * H, failures=1, count=1)],
    )
    r = availability(data, PERIOD, as_of=10 * H)
    new = next(m for m in r["monitors"] if m["monitor"] == "new")
    assert new["coverage"] == 0.2 and new["uptime"] == 0.0
    assert new["first_measured"] == datetime.fromtimestamp(8 * H, UTC).isoformat()
    (s,) = r["services"]  # the service is as down as its worst monitor, minute by minute
    assert s["measured_minutes"] == 600 and s["down_seconds"] == 2 * H


def test_downtime_incidents_run_from_the_first_failed_probe_and_an_open_one_to_now():
    failed = {"at": 2 * H - 90, "kind": "probe.failed", "actor": None, "data": {}}
    closed = IncidentRecord(1, "web", None, "critical", 2 * H, 3 * H, timeline=[failed], key="monitor:m1")
    still = IncidentRecord(2, "web", None, "critical", 9 * H, None, key="monitor:m1")
    data = AvailabilityInput(
        monitors=[MonitorInfo("m1", "", "web")],
        minutes=[],
        maintenance={"web": [Interval(2 * H + 1800, 4 * H, "w")]},
        incidents=[closed, still],
    )
    a, b = availability(data, PERIOD, as_of=9.5 * H)["monitors"][0]["downtime_incidents"]
    assert a["duration_seconds"] == H + 90 and a["in_maintenance_seconds"] == 1800 and not a["open"]
    assert b["open"] and b["duration_seconds"] == 1800 and b["ended"] is None


def test_weekly_and_cron_windows_become_intervals_in_their_zone():
    weekly = MaintenanceWindow(
        "w", "Sunday", frozenset({"web"}), WindowKind.WEEKLY, "Europe/Paris",
        weekdays=frozenset({6}), start_time=time(2), end_time=time(4),
    )  # fmt: skip
    since = datetime(2026, 3, 28, tzinfo=UTC).timestamp()  # Europe goes to summer time on the 29th
    spans = window_intervals(weekly, since, since + 2 * 86400)
    # 02:00-03:00 does not exist that night: 03:00-04:00 CEST is 01:00-02:00 UTC
    assert [(datetime.fromtimestamp(i.start, UTC).hour, i.end - i.start) for i in spans] == [(1, 3600.0)]
    cron = MaintenanceWindow(
        "c",
        "Nightly",
        frozenset({"web"}),
        WindowKind.CRON,
        "UTC",
        cron="30 23 * * *",
        duration=timedelta(hours=1),
    )
    spans = window_intervals(cron, since, since + 86400)  # the one fired the evening before runs into it
    assert [(i.start - since, i.end - since) for i in spans] == [(0.0, 1800.0), (84600.0, 86400.0)]
    assert service_maintenance([weekly, cron], ["web", "api"], since, since + 86400).keys() == {"web"}
    assert covered_seconds([Interval(0, 100), Interval(50, 150)], 0, 1000) == 150

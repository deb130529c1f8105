"""A public status page's bars leave planned maintenance out, as the availability report does:
failures inside a window are not downtime, failures outside it still are, and a maintenance day is
drawn as one. In process, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.monitoring.store import ProbeStore
from koban.probes.result import Phases, ProbeResult
from koban.reports.maintenance import service_maintenance
from koban.reports.records import Interval
from koban.routing.maintenance import MaintenanceWindow, WindowKind
from koban.web import status_rules as rules
from koban.web.status_uptime import WindowDays
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import HTML

NOW = 1_800_000_000.0  # 08:00 UTC
TODAY = NOW - NOW % 86400
WINDOW = (TODAY + 1800, TODAY + 3600)  # 00:30 to 01:00 UTC today, over by now


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _config() -> ConfigFile:
    data = make_config().model_dump(mode="json", exclude_defaults=True)
    monitor = {"service": "web", "target": "http://127.0.0.1:9/", "enabled": False}
    data["monitors"] = [{"id": "inside", **monitor}, {"id": "both", **monitor}]
    data["maintenance"] = [
        {"id": "db-swap", "services": ["web"], "starts_at": _iso(WINDOW[0]), "ends_at": _iso(WINDOW[1])}
    ]
    items = [
        {"monitor": "inside", "name": "Inside only"},
        {"monitor": "both", "name": "Inside and out"},
        {"service": "web", "name": "Website"},
    ]
    data["status_pages"] = [{"id": "shop", "title": "Shop", "groups": [{"title": "All", "items": items}]}]
    return ConfigFile.model_validate(data)


async def _history(k: Any, monitor: str, failing: set[int]) -> None:
    """100 results, one a minute from 00:01 UTC today; those in ``failing`` failed."""
    batch = [
        ProbeResult(
            kind="http",
            target="",
            success=i not in failing,
            started_at=datetime.fromtimestamp(TODAY + 60 + i * 60, UTC),
            duration=0.05,
            phases=Phases(resolve=0.01, connect=0.01, processing=0.03),
            status_code=200,
            monitor_id=monitor,
            location="local",
            final=True,
        )
        for i in range(100)
    ]
    store = ProbeStore(k.db, "local", k.clock)
    await store.write(batch, {})
    await store.flush_rollups()


def _today(html: str, name: str) -> tuple[str, str]:
    """An item's last bar: its grade and its title."""
    item = html.split(f'<span class="status-name">{name}</span>', 1)[1].split("</li>", 1)[0]
    grade, title = re.findall(r'class="grade-(\w+)"><title>([^<]*)</title>', item)[-1]
    return grade, title


async def test_failures_inside_planned_maintenance_are_not_downtime_on_the_bars(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path, clock=FakeClock(NOW)) as k:
        # Minutes 00:31-00:40 fail (in the window: results 29..58 start inside it); "both" also 00:01-00:02.
        await _history(k, "inside", set(range(30, 40)))
        await _history(k, "both", {0, 1, *range(30, 40)})
        async with client(k, admin=False) as anyone:
            html = (await anyone.get("/status/shop", headers=HTML)).text
        grade, title = _today(html, "Inside only")
        assert grade == "maintenance" and "100.00 %" in title and "Planned maintenance" in title
        # 30 minutes in maintenance leave 70 measured, 2 of them failed: 68/70, not 88/100.
        grade, title = _today(html, "Inside and out")
        assert grade == "minor" and "97.14 %" in title and "Planned maintenance" in title
        grade, title = _today(html, "Website")  # the service: its worst monitor that day
        assert grade == "minor" and "97.14 %" in title
        assert "100.00 % uptime" in html and "97.14 % uptime" in html
        assert "88.00 %" not in html and "90.00 %" not in html


def test_a_maintenance_day_is_drawn_as_one_unless_worse_was_measured_outside_it() -> None:
    running = Interval(TODAY + 1800, TODAY + 3600, "w")
    later = Interval(NOW + 3600, NOW + 7200, "w")  # to come: marks no day yet
    assert rules.maintenance_days([running, later], NOW) == {TODAY}
    assert rules.maintenance_days([Interval(TODAY - 2 * 86400 - 60, TODAY - 86400 + 60)], NOW) == {
        TODAY - 3 * 86400,
        TODAY - 2 * 86400,
        TODAY - 86400,
    }
    assert rules.to_recount({TODAY: 0.9, TODAY - 86400: 1.0}, {TODAY, TODAY - 86400}) == [TODAY]
    assert [rules.bar_grade(u, True) for u in (1.0, None, 0.97, 0.5)] == [
        "maintenance",
        "maintenance",
        "minor",
        "major",
    ]
    assert rules.bar_grade(1.0, False) == "good"


def test_the_windows_kept_per_day_are_the_reports_intervals_joined_over_midnight() -> None:
    overnight = MaintenanceWindow(
        "nightly",
        "nightly",
        frozenset({"web"}),
        WindowKind.WEEKLY,
        "Asia/Tokyo",
        weekdays=frozenset({0, 3}),
        start_time=time(23),
        end_time=time(4),
    )
    since, until = NOW - 10 * 86400, NOW + 3 * 86400
    memo = WindowDays()
    kept = memo.service_maintenance([overnight], {"web", "db"}, since, until)
    expected = service_maintenance([overnight], {"web", "db"}, since, until)
    assert kept == expected and len(kept["web"]) == 3
    assert memo.service_maintenance([overnight], {"web"}, since, until) == {"web": expected["web"]}

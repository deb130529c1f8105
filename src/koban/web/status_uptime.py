"""A status page's daily bars with planned maintenance taken out, by the availability report's code.

A day rollup counts every result of the day, in maintenance or not. A day that a maintenance window
of an item's service touches, and that had failures (a day without one is 100 % either way, so most
maintenance days cost nothing), is counted again from its minute rollups (its hours where minutes
are no longer kept: ``reports.load.minutes``) by ``reports.availability``, the function the
availability report uses: the minutes in maintenance are left out, the rest judged as the report
judges them. A service's day stays its worst monitor's; only its monitors that failed that day are
read again. When no finer rows remain (past the hour rollups' retention, 31 days by default)
nothing outside the window is left to measure: the day shows as maintenance without a figure, as the
report would count it.

The windows' intervals come from ``reports.maintenance.window_intervals`` once per window and UTC day
and are kept for the process (``WindowDays``): a weekly window is walked minute by minute, and the
page shows 90 days back and a week ahead. A recounted past day is kept too, keyed by its day
figure, so a render reads again only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.monitoring import queries as probe_queries
from koban.reports import load
from koban.reports.availability import availability
from koban.reports.maintenance import window_intervals
from koban.reports.records import AvailabilityInput, Interval, MonitorInfo, Period
from koban.routing.maintenance import MaintenanceWindow
from koban.web import status_rules as rules

DAY = rules.DAY
MAX_KEPT = 50_000  # entries of each memo; past it the memo starts again (a few MB at most)


class WindowDays:
    """Per process: each window's intervals per UTC day, and the recounted past days."""

    def __init__(self) -> None:
        self._days: dict[tuple[MaintenanceWindow, float], list[Interval]] = {}
        self.recounted: dict[tuple[str, float, float, tuple[Interval, ...]], float | None] = {}

    def service_maintenance(
        self, windows: Iterable[MaintenanceWindow], services: Iterable[str], since: float, until: float
    ) -> dict[str, list[Interval]]:
        """As ``reports.maintenance.service_maintenance`` over whole UTC days from ``since``'s to
        ``until``'s, an interval that runs over midnight joined again."""
        if len(self._days) > MAX_KEPT:
            self._days.clear()
        if len(self.recounted) > MAX_KEPT:
            self.recounted.clear()
        wanted = set(services)
        first = since - since % DAY
        out: dict[str, list[Interval]] = {}
        for w in windows:
            mine = sorted(wanted & w.service_ids)
            if not mine:
                continue
            spans: list[Interval] = []
            day = first
            while day < until:
                key = (w, day)
                if key not in self._days:
                    self._days[key] = window_intervals(w, day, day + DAY)
                for i in self._days[key]:
                    if spans and spans[-1].end >= i.start:
                        spans[-1] = Interval(spans[-1].start, max(spans[-1].end, i.end), w.id)
                    else:
                        spans.append(i)
                day += DAY
            for s in mine:
                out.setdefault(s, []).extend(spans)
        return {
            s: sorted(
                (
                    Interval(max(i.start, since), min(i.end, until), i.label)
                    for i in found
                    if i.end > since and i.start < until
                ),
                key=lambda i: (i.start, i.label),
            )
            for s, found in out.items()
        }


async def recount(
    conn: AsyncConnection,
    memo: WindowDays,
    items: Mapping[str, tuple[str, Sequence[str]]],
    daily: dict[str, dict[float, float]],
    maintenance: Mapping[str, Sequence[Interval]],
    now: float,
) -> None:
    """Count again, in ``daily``, each item's maintenance days that had failures.

    ``items``: item key -> (its service, its monitors): one monitor for a monitor item, every
    monitor of the service for a service item."""
    for key, (service, monitors) in items.items():
        maint = tuple(maintenance.get(service, ()))
        days = rules.to_recount(daily.get(key, {}), rules.maintenance_days(maint, now))
        for day in days:
            figure = daily[key][day]
            memo_key = (key, day, figure, tuple(i for i in maint if i.start < day + DAY and i.end > day))
            if day + DAY <= now and memo_key in memo.recounted:
                found = memo.recounted[memo_key]
            else:
                found = await _one_day(conn, service, monitors, key.startswith("service:"), maint, day, now)
                if day + DAY <= now:  # a finished day: its minutes no longer change
                    memo.recounted[memo_key] = found
            if found is None:
                del daily[key][day]
            else:
                daily[key][day] = found


async def _one_day(
    conn: AsyncConnection,
    service: str,
    monitors: Sequence[str],
    worst_of: bool,
    maint: Sequence[Interval],
    day: float,
    now: float,
) -> float | None:
    """One day's figure without its maintenance minutes: a monitor's uptime, or a service's worst
    monitor's (those that had no failure that day stay at 100 %)."""
    failing, perfect = list(monitors), False
    if worst_of:
        figures = await probe_queries.daily_uptime(conn, monitors, day, day + DAY)
        failing = sorted(m for m, days in figures.items() if days.get(day, 1.0) < 1.0)
        perfect = any(days.get(day) == 1.0 for days in figures.values())
    minutes = await load.minutes(conn, failing, day, min(day + DAY, now))
    data = AvailabilityInput(
        monitors=[MonitorInfo(m, "", service) for m in failing],
        minutes=minutes,
        maintenance={service: list(maint)},
    )
    report = availability(data, Period(day, day + DAY), as_of=now)
    ups = [m["uptime"] for m in report["monitors"] if m["uptime"] is not None]
    if perfect:
        ups.append(1.0)
    return min(ups) if ups else None

"""One report, made: load its records for the period, run its pure function, add the header.

The REST routes (``api/reports.py``), ``koban report``, scheduled reports and the web UI's report
page all come here, so all answer the same: ``build`` by name, or one function per report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from koban.catalog.snapshot import Catalog
from koban.db.engine import Database
from koban.reports import load, oncall_load, response_load, wake_load
from koban.reports.availability import availability
from koban.reports.availability_load import availability_input
from koban.reports.interruptions import interruptions_of
from koban.reports.interruptions_load import page_counts
from koban.reports.maintenance import service_maintenance
from koban.reports.oncall import oncall
from koban.reports.pauses import no_gc_pauses
from koban.reports.records import MonitorInfo, Period, PersonInfo
from koban.reports.response import DIMENSIONS, response_of
from koban.reports.stats import iso
from koban.reports.wake import rows_of, total_of

REPORTS = ("response", "wake", "interruptions", "on-call", "availability")
WAKE_ROWS = 100


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    period: Period
    by: str | None = None
    target: float = 0.999
    # The wake report's rows: this many incidents from ``offset`` on, in creation order (None: all;
    # a year holds 100,000, and the totals never need them).
    limit: int | None = WAKE_ROWS
    offset: int = 0

    def check(self) -> None:
        """Raises ValueError with a message a person can act on."""
        if self.name not in REPORTS:
            raise ValueError(f"unknown report {self.name!r}: use one of {', '.join(REPORTS)}")
        if self.period.until <= self.period.since:
            raise ValueError("until must be after since")
        if self.by is not None and (self.name != "response" or self.by not in DIMENSIONS):
            raise ValueError(f"by= groups the response report by one of {', '.join(DIMENSIONS)}")
        if (self.limit is not None and self.limit < 0) or self.offset < 0:
            raise ValueError("limit and offset count incidents: 0 or more")
        if not 0 < self.target < 1:
            raise ValueError("target must be between 0 and 1, e.g. 0.999")
        try:
            ZoneInfo(self.period.tz)
        except (KeyError, ValueError, OSError):
            raise ValueError(f"unknown time zone {self.period.tz!r}") from None


def people_of(catalog: Catalog) -> dict[str, PersonInfo]:
    return {p.id: PersonInfo(p.id, p.name or p.id, p.timezone) for p in catalog.people.values()}


async def build(
    db: Database, catalog: Catalog, query: Query, as_of: float, services: Sequence[str] | None
) -> dict[str, Any]:
    """One report by name (the REST routes, ``koban report``, scheduled reports)."""
    query.check()
    p = query.period
    if query.name == "response":
        return await response_report(db, catalog, p, as_of, services, query.by)
    if query.name == "wake":
        return await wake_report(db, catalog, p, as_of, services, query.limit, query.offset)
    if query.name == "interruptions":
        return await interruptions_report(db, catalog, p, as_of, services)
    if query.name == "on-call":
        return await oncall_report(db, catalog, p, as_of, services)
    return await availability_report(db, catalog, p, as_of, services, query.target)


# One function per report, each returning plain data (dicts, lists, numbers, ISO strings): what a
# page (the web UI's print-friendly report), the REST routes and the CSV tables draw. ``services``
# limits a report to the services the viewer may see (None: all).


def header(name: str, p: Period, as_of: float) -> dict[str, Any]:
    return {"report": name, "since": iso(p.since), "until": iso(p.until), "tz": p.tz, "as_of": iso(as_of)}


def _teams(catalog: Catalog) -> dict[str, str | None]:
    return {s.id: s.team for s in catalog.services.values()}


async def response_report(
    db: Database,
    catalog: Catalog,
    p: Period,
    as_of: float,
    services: Sequence[str] | None,
    by: str | None = None,
) -> dict[str, Any]:
    async with db.read() as conn:  # the previous period too: it makes the trend
        found = await response_load.clocks(conn, p.previous.since, p.until, services, _teams(catalog), as_of)
    with no_gc_pauses():
        body = response_of(found, p, by, people_of(catalog))
    return {**header("response", p, as_of), "by": by, **body}


async def wake_report(
    db: Database,
    catalog: Catalog,
    p: Period,
    as_of: float,
    services: Sequence[str] | None,
    limit: int | None = WAKE_ROWS,
    offset: int = 0,
) -> dict[str, Any]:
    """The totals over every incident of the period; rows for ``limit`` of them from ``offset``."""
    teams = _teams(catalog)
    async with db.read() as conn:
        totals = total_of(await wake_load.values(conn, p.since, p.until, services, teams, as_of))
        page = (
            []
            if limit == 0
            else await load.wake_moments(conn, p.since, p.until, services, teams, as_of, limit, offset)
        )
    return {
        **header("wake", p, as_of),
        "total": totals,
        "incidents": rows_of(page),
        "rows": {"offset": offset, "limit": limit},
    }


async def _interrupted(
    db: Database, catalog: Catalog, p: Period, services: Sequence[str] | None
) -> dict[str, Any]:
    people = people_of(catalog)
    async with db.read() as conn:
        counts = await page_counts(conn, p, services, people)
    return interruptions_of(counts, people)


async def interruptions_report(
    db: Database, catalog: Catalog, p: Period, as_of: float, services: Sequence[str] | None
) -> dict[str, Any]:
    return {**header("interruptions", p, as_of), **await _interrupted(db, catalog, p, services)}


async def oncall_report(
    db: Database, catalog: Catalog, p: Period, as_of: float, services: Sequence[str] | None
) -> dict[str, Any]:
    load_of = await _interrupted(db, catalog, p, services)
    teams = _teams(catalog)
    mine = None if services is None else {None, *(teams.get(s) for s in services)}
    rotations = {r.id: r for r in catalog.rotations.values() if mine is None or r.team in mine}
    schedules = {s.id: s for s in catalog.schedules.values() if mine is None or s.team in mine}
    async with db.read() as conn:
        calendars = await oncall_load.calendar_shifts(conn, catalog, schedules, p)
    with no_gc_pauses():
        loads = oncall_load.schedule_loads(catalog, schedules, p, calendars)
    by_person = {row["person"]: row for row in load_of["people"]}
    body = oncall(rotations, p, people_of(catalog), by_person, loads)
    return {**header("on-call", p, as_of), **body}


async def availability_report(
    db: Database,
    catalog: Catalog,
    p: Period,
    as_of: float,
    services: Sequence[str] | None,
    target: float = 0.999,
) -> dict[str, Any]:
    shown = None if services is None else set(services)
    monitors = [
        MonitorInfo(m.id, m.name or m.id, m.service)
        for m in catalog.monitors.briefs.values()  # no model per monitor
        if shown is None or m.service in shown
    ]
    maintenance = service_maintenance(
        catalog.routing.windows, {m.service for m in monitors}, p.since, p.until
    )
    async with db.read() as conn:
        data = await availability_input(conn, monitors, maintenance, p, every=shown is None)
        ids = [m.id for m in monitors]
        found = await load.monitor_incidents(conn, ids, p.since, p.until, _teams(catalog), as_of)
    with no_gc_pauses():
        body = availability(replace(data, incidents=found), p, as_of, target)
    return {**header("availability", p, as_of), **body}

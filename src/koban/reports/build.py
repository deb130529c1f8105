"""One report, made: load its records for the period, run its pure function, add the header.

The REST routes (``api/reports.py``) and ``koban report`` both come here, so both answer the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from koban.catalog.snapshot import Catalog
from koban.db.engine import Database
from koban.reports import load
from koban.reports.availability import availability
from koban.reports.interruptions import interruptions
from koban.reports.maintenance import service_maintenance
from koban.reports.oncall import oncall
from koban.reports.records import AvailabilityInput, MonitorInfo, Period, PersonInfo
from koban.reports.response import DIMENSIONS, response
from koban.reports.stats import iso
from koban.reports.wake import wake

REPORTS = ("response", "wake", "interruptions", "on-call", "availability")


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    period: Period
    by: str | None = None
    target: float = 0.999

    def check(self) -> None:
        """Raises ValueError with a message a person can act on."""
        if self.name not in REPORTS:
            raise ValueError(f"unknown report {self.name!r}: use one of {', '.join(REPORTS)}")
        if self.period.until <= self.period.since:
            raise ValueError("until must be after since")
        if self.by is not None and (self.name != "response" or self.by not in DIMENSIONS):
            raise ValueError(f"by= groups the response report by one of {', '.join(DIMENSIONS)}")
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
    query.check()
    p = query.period
    teams = {s.id: s.team for s in catalog.services.values()}
    header = {
        "report": query.name,
        "since": iso(p.since),
        "until": iso(p.until),
        "tz": p.tz,
        "as_of": iso(as_of),
    }
    async with db.read() as conn:
        if query.name == "response":
            found = await load.incidents(conn, p.previous.since, p.until, services, teams)
            body = response(found, p, as_of, query.by, people_of(catalog))
            return {**header, "by": query.by, **body}
        if query.name == "wake":
            return {**header, **wake(await load.incidents(conn, p.since, p.until, services, teams), p, as_of)}
        if query.name in ("interruptions", "on-call"):
            pages = await load.pages(conn, p.since, p.until, services)
            load_of = interruptions(pages, people_of(catalog), p)
            if query.name == "interruptions":
                return {**header, **load_of}
            mine = None if services is None else {None, *(teams.get(s) for s in services)}
            rotations = {r.id: r for r in catalog.rotations.values() if mine is None or r.team in mine}
            by_person = {row["person"]: row for row in load_of["people"]}
            return {**header, **oncall(rotations, p, people_of(catalog), by_person)}
        shown = None if services is None else set(services)
        monitors = [
            MonitorInfo(m.id, m.name or m.id, m.service)
            for m in catalog.monitors.briefs.values()  # no model per monitor
            if shown is None or m.service in shown
        ]
        ids = [m.id for m in monitors]
        data = AvailabilityInput(
            monitors=monitors,
            minutes=await load.minutes(conn, ids, p.since, p.until),
            maintenance=service_maintenance(
                catalog.routing.windows, {m.service for m in monitors}, p.since, p.until
            ),
            incidents=await load.monitor_incidents(conn, ids, p.since, p.until, teams),
        )
    return {**header, **availability(data, p, as_of, query.target)}

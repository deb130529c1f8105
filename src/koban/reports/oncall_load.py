"""What the on-call load report reads of the schedules: the imported calendars' shifts over the
period (one query, ``paging/on_call.calendar_shifts_of``); the overrides and temporary schedules
made through the API are in the catalog. Each schedule is then resolved over the period by the
pure function paging and ``/api/v1/oncall`` use (``schedules/build.resolved_runs``, the same
slots as plain tuples) and added up
(``oncall_schedules.load_of``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.snapshot import Catalog
from koban.config.model_schedules import Schedule
from koban.paging.on_call import calendar_shifts_of
from koban.reports.oncall_schedules import ScheduleLoad, load_of, members_of, named_by
from koban.reports.records import Period
from koban.schedules import build
from koban.schedules.model import Override


async def calendar_shifts(
    conn: AsyncConnection, catalog: Catalog, schedules: Mapping[str, Schedule], p: Period
) -> dict[str, list[Override]]:
    return await calendar_shifts_of(conn, catalog, schedules, p.since, p.until)


def schedule_loads(
    catalog: Catalog,
    schedules: Mapping[str, Schedule],
    p: Period,
    calendars: Mapping[str, Sequence[Override]],
) -> dict[str, ScheduleLoad]:
    """Each schedule's final slots over ``p``, calendars first and overrides on top (as paging)."""
    out = {}
    for ident, s in schedules.items():
        before = calendars.get(ident, ())
        slots = build.resolved_runs(s, p.since, p.until, catalog, before)
        named = named_by(build.overrides(s, catalog, before))
        out[ident] = load_of(slots, named, members_of(build.schedule(s), p.since, p.until))
    return out

"""The availability report's input: minute rollups where it must, daily summaries where it may.

A UTC day wholly inside the period, summed (``report_summarized_days``), is read from the summaries
unless, for a service, a maintenance window touches that day or the service's monitors are no longer
those it was summed over: then that service's day comes from the minutes, like the period's ragged
ends and any day not summed yet. Either way the figures are the ones the minutes give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.schema_reports import report_monitor_days as md
from koban.db.schema_reports import report_monitor_running as mr
from koban.db.schema_reports import report_service_days as sd
from koban.db.schema_reports import report_summarized_days as done
from koban.reports import load
from koban.reports.pauses import no_gc_pauses
from koban.reports.records import AvailabilityInput, DayTotals, Interval, MonitorInfo, Period, ProbeMinute
from koban.reports.summaries import DAY, members_hash

CHUNK = load.CHUNK


async def summed_days(conn: AsyncConnection, period: Period) -> list[float]:
    lo, hi = math.ceil(period.since / DAY) * DAY, math.floor(period.until / DAY) * DAY
    q = sa.select(done.c.day).where(done.c.day >= lo, done.c.day + DAY <= hi).order_by(done.c.day)
    return [float(r[0]) for r in await conn.execute(q)]


def minute_spans(period: Period, days: Sequence[float]) -> list[tuple[float, float]]:
    """The parts of the period no summed day covers."""
    out: list[tuple[float, float]] = []
    at = period.since
    for d in days:
        if d > at:
            out.append((at, d))
        at = d + DAY
    if at < period.until:
        out.append((at, period.until))
    return out


def _touches(maint: Sequence[Interval], day: float) -> bool:
    return any(i.start < day + DAY and i.end > day for i in maint)


async def _unusable(
    conn: AsyncConnection,
    members: Mapping[str, list[str]],
    maintenance: Mapping[str, Sequence[Interval]],
    days: Sequence[float],
) -> set[tuple[str, float]]:
    """(service, day) pairs whose summaries may not be used."""
    out = {(s, d) for s in members for d in days if _touches(maintenance.get(s, ()), d)}
    if not days:
        return out
    stored: dict[tuple[str, float], str] = {}
    services = list(members)
    for i in range(0, len(services), CHUNK):
        q = sa.select(sd.c.service_id, sd.c.day, sd.c.members).where(
            sd.c.service_id.in_(services[i : i + CHUNK]), sd.c.day >= days[0], sd.c.day <= days[-1]
        )
        stored.update({(r[0], float(r[1])): r[2] for r in await conn.execute(q)})
    wanted = {s: members_hash(ms) for s, ms in members.items()}
    for (s, d), h in stored.items():
        if d in days and h != wanted[s]:
            out.add((s, d))
    # No service row: right only if none of its monitors has a summed day there either.
    lacking = [m for s, ms in members.items() if any((s, d) not in stored for d in days) for m in ms]
    service_of = {m: s for s, ms in members.items() for m in ms}
    for i in range(0, len(lacking), CHUNK):
        q = sa.select(md.c.monitor_id, md.c.day).where(
            md.c.monitor_id.in_(lacking[i : i + CHUNK]), md.c.day >= days[0], md.c.day <= days[-1]
        )
        for r in await conn.execute(q):
            pair = (service_of[r.monitor_id], float(r.day))
            if pair not in stored:
                out.add(pair)
    return out


async def _totals(
    conn: AsyncConnection, table: sa.Table, key: Any, ids: Sequence[str], days: Sequence[float], every: bool
) -> dict[str, list[Any]]:
    """Per id: [minutes, down, first, last] summed over ``days``; ``every``: no id filter needed."""
    c = table.c
    first = sa.func.min(c.first_minute) if "first_minute" in c else sa.null()
    last = sa.func.max(c.last_minute) if "last_minute" in c else sa.null()
    base = sa.select(key, sa.func.sum(c.measured_minutes), sa.func.sum(c.down_seconds), first, last)
    base = base.where(c.day >= days[0], c.day <= days[-1]).group_by(key)
    chunks = [base] if every else [base.where(key.in_(ids[i : i + CHUNK])) for i in range(0, len(ids), CHUNK)]
    out: dict[str, list[Any]] = {}
    wanted = set(ids)
    for q in chunks:
        for r in await conn.execute(q):
            if r[0] in wanted:
                out[r[0]] = [int(r[1]), float(r[2]), r[3], r[4]]
    return out


async def running_totals(
    conn: AsyncConnection, ids: Sequence[str], days: Sequence[float]
) -> dict[str, list[Any]] | None:
    """Per monitor [minutes, down, first, last] over the summed ``days`` (contiguous among summed
    days) as the difference of two days' running totals, as ``_totals`` would sum them; None when
    a day they rest on was summed without running totals."""
    d0, d1 = days[0], days[-1]
    before = (await conn.execute(sa.select(sa.func.max(done.c.day)).where(done.c.day < d0))).scalar()
    lo = d0 if before is None else before
    old = sa.select(sa.func.count()).where(done.c.day >= lo, done.c.day <= d1, ~done.c.running)
    if (await conn.execute(old)).scalar():
        return None
    # One row per monitor: its running totals on d1 less those on the summed day before d0, and its
    # first minute on d0, joined by the database (100,000 rows, not three reads of 100,000 each).
    e, b, f = mr.alias("e"), mr.alias("b"), mr.alias("f")
    if before is None:  # no summed day before d0: d1's totals are the days' own
        q: Any = sa.select(
            e.c.monitor_id, e.c.measured_minutes, e.c.down_seconds, e.c.first_seen, e.c.last_seen
        )
    else:
        q = sa.select(
            e.c.monitor_id,
            e.c.measured_minutes - sa.func.coalesce(b.c.measured_minutes, 0),
            sa.case((b.c.monitor_id.is_(None), e.c.down_seconds), else_=e.c.down_seconds - b.c.down_seconds),
            sa.case((b.c.monitor_id.is_(None), e.c.first_seen), else_=f.c.day_first),
            e.c.last_seen,
        ).select_from(
            e.outerjoin(b, sa.and_(b.c.monitor_id == e.c.monitor_id, b.c.day == before)).outerjoin(
                f, sa.and_(f.c.monitor_id == e.c.monitor_id, f.c.day == d0)
            )
        )
    q = q.where(e.c.day == d1)
    wanted = set(ids)
    out: dict[str, list[Any]] = {}
    found = await conn.execute(q)
    with no_gc_pauses():  # a row per monitor, all kept
        for r in found:
            # results on some day: it started within the days, or its first is the days' first
            if r[1] and r[0] in wanted:
                out[r[0]] = [r[1], r[2], r[3], r[4]]
    unknown = [m for m, v in out.items() if v[2] is None]  # no results on d0 itself: rare
    for i in range(0, len(unknown), CHUNK):
        q = sa.select(md.c.monitor_id, sa.func.min(md.c.first_minute)).where(
            md.c.monitor_id.in_(unknown[i : i + CHUNK]), md.c.day >= d0, md.c.day <= d1
        )
        for r in await conn.execute(q.group_by(md.c.monitor_id)):
            out[r[0]][2] = r[1]
    return out


async def availability_input(
    conn: AsyncConnection,
    monitors: Sequence[MonitorInfo],
    maintenance: Mapping[str, Sequence[Interval]],
    period: Period,
    every: bool,
) -> AvailabilityInput:
    """``every``: ``monitors`` are all there are (no visibility filter), so sums need no id list."""
    members: dict[str, list[str]] = {}
    for m in monitors:
        members.setdefault(m.service, []).append(m.id)
    ids = [m.id for m in monitors]
    days = await summed_days(conn, period)
    minutes: list[ProbeMinute] = []
    for lo, hi in minute_spans(period, days):
        minutes += await load.minutes(conn, ids, lo, hi)
    monitor_days: dict[str, DayTotals] = {}
    service_days: dict[str, DayTotals] = {}
    if days and ids:
        # Days are contiguous between their ends only if none is missing; a gap's minutes are read above,
        # and a summed day outside ``days`` never falls between its first and last (see summed_days).
        mon = await running_totals(conn, ids, days)
        if mon is None:  # a day summed before running totals existed: sum the days
            mon = await _totals(conn, md, md.c.monitor_id, ids, days, every)
        svc = await _totals(conn, sd, sd.c.service_id, list(members), days, every)
        for service, day in sorted(await _unusable(conn, members, maintenance, days)):
            minutes += await load.minutes(conn, members[service], day, day + DAY)
            q = sa.select(sd.c.measured_minutes, sd.c.down_seconds).where(
                sd.c.service_id == service, sd.c.day == day
            )
            for n, down in await conn.execute(q):
                svc[service][0] -= n
                svc[service][1] -= down
            q = sa.select(md.c.monitor_id, md.c.measured_minutes, md.c.down_seconds).where(
                md.c.monitor_id.in_(members[service]), md.c.day == day
            )
            for r in await conn.execute(q):
                mon[r.monitor_id][0] -= r.measured_minutes
                mon[r.monitor_id][1] -= r.down_seconds
        with no_gc_pauses():
            monitor_days = {k: DayTotals(v[0], v[1], v[2], v[3]) for k, v in mon.items()}
        service_days = {k: DayTotals(v[0], v[1]) for k, v in svc.items()}
    return AvailabilityInput(
        monitors=monitors,
        minutes=minutes,
        maintenance=maintenance,
        monitor_days=monitor_days,
        service_days=service_days,
    )

"""Daily availability summaries: one UTC day of minute rollups summed per monitor and per service.

Rollups are compact (``probe_rollups`` names a series by id, ``probe_series`` maps it to monitor
and location; a window by its ``width``); where a day's minute rows were already pruned, its hour
rows stand for their minutes, exactly as ``load.minutes`` reads them.

Derived data, kept exact: a day is summed once its last minute is ``SETTLE`` old (``settle``, run
by the worker), from the same minute rollups availability reads, by the same rules (a minute is
down for the fraction of its results that failed; a service's minute is as down as its most-down
monitor). ``rebuild`` (``koban report rebuild-summaries``) sums every day again, e.g. after rollups
were rewritten. A day in ``report_summarized_days`` is read from the summaries, any other day from
the minutes, so a missing or dropped summary costs time, never a wrong figure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.bulk import BulkInsert
from koban.db.engine import Database
from koban.db.schema_probes import monitors as monitors_table
from koban.db.schema_probes import probe_rollups as pr
from koban.db.schema_probes import probe_series as ps
from koban.db.schema_reports import report_monitor_days as md
from koban.db.schema_reports import report_monitor_running as mr
from koban.db.schema_reports import report_service_days as sd
from koban.db.schema_reports import report_summarized_days as done
from koban.probes.rollup import RESOLUTIONS

DAY = 86400.0
SETTLE = 3600.0  # late flushes from other locations land well within this
_MONITOR_DAYS, _SERVICE_DAYS, _RUNNING = BulkInsert(md), BulkInsert(sd), BulkInsert(mr)


def members_hash(monitor_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(monitor_ids)).encode()).hexdigest()


def day_of(at: float) -> float:
    return at - at % DAY


async def _members(conn: AsyncConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for mid, service in await conn.execute(sa.select(monitors_table.c.id, monitors_table.c.service_id)):
        out.setdefault(service, []).append(mid)
    return out


MINUTE, HOUR = RESOLUTIONS["minute"], RESOLUTIONS["hour"]


def _down(c: Any) -> Any:
    return (60.0 * sa.func.sum(c.failures) / sa.func.sum(c.count)).label("down")


def _per_minute(day: float) -> sa.Subquery:
    """(monitor_id, start, down) of each measured minute of the day, as ``load.minutes`` reads them:
    minute rollups summed over locations, and, for an hour whose minute rows were pruned (kept for
    days only, issue 18), the hour's rollup standing for each of its 60 minutes."""
    c, s = pr.c, ps.c
    minutes = (
        sa.select(s.monitor_id, c.start, _down(c))
        .join_from(pr, ps, c.series_id == s.id)
        .where(c.width == MINUTE, c.start >= day, c.start < day + DAY)
        .group_by(s.monitor_id, c.start)
        .having(sa.func.sum(c.count) > 0)
    )
    pr2, ps2 = pr.alias("minute_rows"), ps.alias("minute_series")
    has_minutes = sa.exists(
        sa.select(1)
        .select_from(pr2.join(ps2, pr2.c.series_id == ps2.c.id))
        .where(
            ps2.c.monitor_id == s.monitor_id,
            pr2.c.width == MINUTE,
            pr2.c.start >= c.start,
            pr2.c.start < c.start + HOUR,
        )
    )
    offsets = sa.union_all(*(sa.select(sa.literal(k * MINUTE).label("k")) for k in range(HOUR // MINUTE)))
    o = offsets.subquery("offsets")
    hours = (
        sa.select(s.monitor_id, (c.start + o.c.k).label("start"), _down(c))
        .join_from(pr, ps, c.series_id == s.id)
        .join(o, sa.true())
        .where(c.width == HOUR, c.start >= day, c.start < day + DAY, ~has_minutes)
        .group_by(s.monitor_id, c.start, o.c.k)
        .having(sa.func.sum(c.count) > 0)
    )
    return sa.union_all(minutes, hours).subquery("per_minute")


async def sum_day(conn: AsyncConnection, day: float, members: Mapping[str, list[str]], now: float) -> None:
    """(Re)writes one day's summaries in the caller's transaction."""
    for table in (md, sd, done, mr):
        await conn.execute(sa.delete(table).where(table.c.day == day))
    m = _per_minute(day)
    q = sa.select(
        m.c.monitor_id, sa.func.count(), sa.func.sum(m.c.down), sa.func.min(m.c.start), sa.func.max(m.c.start)
    ).group_by(m.c.monitor_id)
    rows = [
        {"monitor_id": r[0], "day": day, "measured_minutes": int(r[1]), "down_seconds": float(r[2]),
         "first_minute": float(r[3]), "last_minute": float(r[4])}
        for r in await conn.execute(q)
    ]  # fmt: skip
    if rows:
        await _MONITOR_DAYS.run(conn, rows)
    await _running(conn, day, rows)
    mo = monitors_table.c
    worst = (
        sa.select(mo.service_id, m.c.start, sa.func.max(m.c.down).label("down"))
        .join_from(m, monitors_table, mo.id == m.c.monitor_id)
        .group_by(mo.service_id, m.c.start)
        .subquery()
    )
    q = sa.select(worst.c.service_id, sa.func.count(), sa.func.sum(worst.c.down)).group_by(worst.c.service_id)
    rows = [
        {"service_id": r[0], "day": day, "members": members_hash(members.get(r[0], ())),
         "measured_minutes": int(r[1]), "down_seconds": float(r[2])}
        for r in await conn.execute(q)
    ]  # fmt: skip
    if rows:
        await _SERVICE_DAYS.run(conn, rows)
    await conn.execute(sa.insert(done).values(day=day, built_at=now, running=True))


async def _running(conn: AsyncConnection, day: float, own: list[dict[str, Any]]) -> None:
    """The day's running totals: the previous summed day's (if it has them) plus the day's own, for
    every monitor with results that day or running totals before it (a deleted monitor's too, so a
    monitor re-added under the same id never starts a second chain a period could straddle)."""
    before = (
        await conn.execute(sa.select(sa.func.max(done.c.day)).where(done.c.day < day, done.c.running))
    ).scalar()
    base: dict[str, tuple[Any, ...]] = {}
    if (
        before is not None
        and not (
            await conn.execute(sa.select(sa.func.count()).where(done.c.day > before, done.c.day < day))
        ).scalar()
    ):  # no summed day in between without running totals: the chain goes on
        q = sa.select(
            mr.c.monitor_id, mr.c.measured_minutes, mr.c.down_seconds, mr.c.first_seen, mr.c.last_seen
        )
        base = {r[0]: tuple(r[1:]) for r in await conn.execute(q.where(mr.c.day == before))}
    out = []
    today = {r["monitor_id"]: r for r in own}
    for mid in sorted(today.keys() | base.keys()):
        n, down, first, last = base.get(mid, (0, 0.0, None, None))
        r = today.get(mid)
        if r is not None:
            n, down = n + r["measured_minutes"], down + r["down_seconds"]
            first = r["first_minute"] if first is None else first
            last = r["last_minute"]
        out.append({"monitor_id": mid, "day": day, "measured_minutes": n, "down_seconds": down,
                    "first_seen": first, "last_seen": last,
                    "day_first": None if r is None else r["first_minute"]})  # fmt: skip
    if out:
        await _RUNNING.run(conn, out)


async def _minute_span(conn: AsyncConnection) -> tuple[float | None, float | None]:
    c = pr.c
    q = sa.select(sa.func.min(c.start), sa.func.max(c.start)).where(c.width.in_((MINUTE, HOUR)))
    lo, hi = (await conn.execute(q)).one()
    return lo, hi


async def rebuild(db: Database, now: float, since: float | None = None, until: float | None = None) -> int:
    """Sum every settled day in ``[since, until)`` (default: all the minutes hold); how many days."""
    async with db.read() as conn:
        lo, hi = await _minute_span(conn)
    if lo is None or hi is None:
        return 0
    day = day_of(max(lo, since if since is not None else lo))
    end = min(now - SETTLE, until if until is not None else hi + DAY)  # the last day must end by this
    n = 0
    while day + DAY <= end:
        async with db.begin() as conn:
            await sum_day(conn, day, await _members(conn), now)
        n, day = n + 1, day + DAY
    return n


async def settle(db: Database, now: float, max_days: int = 3) -> int:
    """Sum the settled days after the newest summed one (at most ``max_days`` a call)."""
    async with db.read() as conn:
        newest = (await conn.execute(sa.select(sa.func.max(done.c.day)))).scalar()
        lo, _ = await _minute_span(conn)
    if lo is None:
        return 0
    day = day_of(lo) if newest is None else newest + DAY
    n = 0
    while n < max_days and day + DAY <= now - SETTLE:
        async with db.begin() as conn:
            await sum_day(conn, day, await _members(conn), now)
        n, day = n + 1, day + DAY
    return n


async def rebuild_all(db: Database, now: float) -> dict[str, int]:
    """``koban report rebuild-summaries``: every summary the rollups still cover made again."""
    from koban.reports import incident_facts  # beside this module; imported here to keep it light

    async with db.read() as conn:
        lo, _ = await _minute_span(conn)
    if lo is None:
        return {"days": 0, "incidents": await incident_facts.rebuild(db, now)}
    # A day the kept rollups (hour rows: a month) no longer cover whole cannot be summed again: kept.
    first = day_of(lo) if lo == day_of(lo) else day_of(lo) + DAY
    async with db.begin() as conn:
        for table in (md, sd, done, mr):
            await conn.execute(sa.delete(table).where(table.c.day >= first))
    days = await rebuild(db, now, since=first)
    return {"days": days, "incidents": await incident_facts.rebuild(db, now)}

"""Reading the raw events a report needs into plain records (``reports/records.py``).

Set-based: one query per table per chunk of incident ids, never one per incident. ``services``
limits everything to the services the caller may see (None: all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.db.schema_probes import probe_rollups, probe_series
from koban.db.schema_reports import report_incident_facts as rf
from koban.reports.facts_rows import AT as FACTS_AT
from koban.reports.facts_rows import columns as facts_columns
from koban.reports.facts_rows import facts_of, usable
from koban.reports.records import IncidentRecord, ProbeMinute
from koban.reports.wake import Moments, Stage, moments, of

CHUNK = 500
DELIVERY_FIELDS = ("incident_id", "kind", "channel_id", "channel_type", "person_id", "sent_at", "state")


def _visible(q: Any, column: Any, services: Sequence[str] | None) -> Any:
    return q if services is None else q.where(column.in_(list(services)))


async def incidents(
    conn: AsyncConnection,
    since: float,
    until: float,
    services: Sequence[str] | None,
    teams: Mapping[str, str | None],
    as_of: float | None = None,
) -> list[IncidentRecord]:
    """Incidents created in ``[since, until)``, with their timeline, trigger alerts and deliveries
    (or, given ``as_of``, their facts where those may stand for them)."""
    c = t.incidents.c
    q = _visible(
        select_incidents().where(c.created_at >= since, c.created_at < until), c.service_id, services
    )
    return await with_events(conn, (await conn.execute(q.order_by(c.id))).all(), teams, as_of)


async def monitor_incidents(
    conn: AsyncConnection,
    monitors: Sequence[str],
    since: float,
    until: float,
    teams: Mapping[str, str | None],
    as_of: float | None = None,
) -> list[IncidentRecord]:
    """Incidents a monitor opened (key ``monitor:<id>``) that overlap ``[since, until)``.

    One query for every monitor's (a list of keys would be one scan per chunk), kept by key here."""
    c = t.incidents.c
    keys = {f"monitor:{m}" for m in monitors}
    q = select_incidents().where(
        c.incident_key.startswith("monitor:", autoescape=True),
        c.created_at < until,
        sa.or_(c.resolved_at.is_(None), c.resolved_at >= since),
    )
    found = [r for r in await conn.execute(q) if r[6] in keys]
    return await with_events(conn, found, teams, as_of)


async def wake_moments(
    conn: AsyncConnection,
    since: float,
    until: float,
    services: Sequence[str] | None,
    teams: Mapping[str, str | None],
    as_of: float,
    limit: int | None = None,
    offset: int = 0,
) -> list[Moments]:
    """Each incident's time-to-wake moments: a settled incident's straight from its facts row (no
    record, no events), any other's from its raw events by ``wake.of``; given ``limit``, only that
    many from ``offset`` on in creation order (the report's page of rows: a year holds 100,000)."""
    c = t.incidents.c
    q = _visible(
        select_incidents().where(c.created_at >= since, c.created_at < until), c.service_id, services
    )
    if limit is not None or offset:
        q = q.order_by(c.created_at, c.id).limit(limit).offset(offset)
    n = len(INCIDENT_FIELDS)
    first_at, first_how = n + FACTS_AT["first_failure_at"], n + FACTS_AT["first_failure_how"]
    cols = [tuple(n + FACTS_AT[f"{stage}_{x}"] for x in ("at", "how", "who"))
            for stage in ("first_page", "first_reached", "woken_ack")]  # fmt: skip
    out: list[Moments] = []
    raw = []
    for r in await conn.execute(q):
        if not usable(r[n], r[5], r[4], as_of):
            raw.append(r)
            continue
        start = float(r[first_at])
        stages: list[Stage] = []
        for a, h, w in cols:  # as ``facts_rows.wake_of`` makes them
            when = r[a]
            stages.append(None if when is None else (float(when), max(0.0, float(when) - start), r[h], r[w]))
        out.append((r[3], r[0], r[1], r[2], start, r[first_how], stages[0], stages[1], stages[2]))
    for inc in await with_events(conn, raw, teams):
        out.append(moments(inc, of(inc, as_of)))
    return out


# In this order: ``with_events`` reads them by position.
INCIDENT_FIELDS = ("id", "service_id", "severity", "created_at", "resolved_at", "updated_at", "incident_key")


def select_incidents() -> Any:
    """The incident columns reports read, with the settled incident's facts joined on."""
    c, f = t.incidents.c, rf.c
    cols = [*(c[name] for name in INCIDENT_FIELDS), *facts_columns()]
    return sa.select(*cols).select_from(t.incidents.outerjoin(rf, f.incident_id == c.id))


async def with_events(
    conn: AsyncConnection,
    rows: Sequence[Any],  # from ``select_incidents``: INCIDENT_FIELDS, then the facts columns
    teams: Mapping[str, str | None],
    as_of: float | None = None,
) -> list[IncidentRecord]:
    """Each incident with its raw events, or, given ``as_of``, its facts where they may stand for them."""
    n = len(INCIDENT_FIELDS)
    settled = {r[0]: facts_of(r[n:]) for r in rows if as_of is not None and usable(r[n], r[5], r[4], as_of)}
    ids = [r[0] for r in rows if r[0] not in settled]
    timeline: dict[int, list[dict[str, Any]]] = {}
    alerts: dict[int, list[dict[str, Any]]] = {}
    deliveries: dict[int, list[dict[str, Any]]] = {}
    tl, al, dl = t.timeline.c, t.alerts.c, t.deliveries.c
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        q = sa.select(tl.incident_id, tl.at, tl.kind, tl.actor, tl.via, tl.data).where(
            tl.incident_id.in_(chunk)
        )
        for e in await conn.execute(q.order_by(tl.id)):
            timeline.setdefault(e.incident_id, []).append(dict(e._mapping))
        q = sa.select(al.incident_id, al.action, al.event).where(
            al.incident_id.in_(chunk), al.action == "trigger"
        )
        for a in await conn.execute(q.order_by(al.id)):
            alerts.setdefault(a.incident_id, []).append({"action": a.action, "event": a.event})
        q = sa.select(*(dl[f] for f in DELIVERY_FIELDS)).where(dl.incident_id.in_(chunk))
        for d in await conn.execute(q.order_by(dl.id)):
            deliveries.setdefault(d.incident_id, []).append(dict(d._mapping))
    return [
        IncidentRecord(
            id=r[0],
            service=r[1],
            team=teams.get(r[1]),
            severity=r[2],
            created_at=r[3],
            resolved_at=r[4],
            timeline=timeline.get(r[0], []),
            alerts=alerts.get(r[0], []),
            deliveries=deliveries.get(r[0], []),
            key=r[6],
            facts=settled.get(r[0]),
        )
        for r in rows
    ]


async def minutes(
    conn: AsyncConnection, monitors: Sequence[str], since: float, until: float
) -> list[ProbeMinute]:
    """Minute rollups of these monitors in ``[since, until)``, summed over locations.

    Minute rows are kept for days (issue 18: they are most of the database); an hour that has no
    minute rows left stands for its 60 minutes, each with the hour's count and failures, so it is
    down for the same share of its seconds."""
    c, s = probe_rollups.c, probe_series.c
    out: list[ProbeMinute] = []
    for i in range(0, len(monitors), CHUNK):
        q = (
            sa.select(s.monitor_id, c.width, c.start, sa.func.sum(c.count), sa.func.sum(c.failures))
            .join_from(probe_rollups, probe_series, c.series_id == s.id)
            .where(
                s.monitor_id.in_(list(monitors[i : i + CHUNK])),
                c.width.in_((60, 3600)),
                c.start > since - 3600,
                c.start < until,
            )
            .group_by(s.monitor_id, c.width, c.start)
        )
        rows = (await conn.execute(q)).all()
        minute_hours = {(r[0], int(r[2]) // 3600) for r in rows if r[1] == 60}
        for monitor, width, start, count, failures in rows:
            if width == 60:
                if since <= start < until:
                    out.append(ProbeMinute(monitor, float(start), int(count), int(failures)))
            elif (monitor, int(start) // 3600) not in minute_hours:
                starts = range(int(start), int(start) + 3600, 60)
                out += [
                    ProbeMinute(monitor, float(m), int(count), int(failures))
                    for m in starts
                    if since <= m < until
                ]
    return out

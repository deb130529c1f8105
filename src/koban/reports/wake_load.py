"""The time-to-wake totals made from durations the database computes, not from 100,000 rows.

A settled incident's stages are differences of its ``report_incident_facts`` columns, as
``facts_rows.wake_of`` and ``load.wake_moments`` make them: ``lead`` = creation − first failure,
each later stage = max(0, its moment − first failure), absent when the moment is. The database
computes those (double precision on both engines, the same subtraction Python does) for the
incidents whose facts stand (``facts_rows.usable`` in SQL), so four numbers per incident come back;
the others (open, recently resolved, edited since) are read from their raw events as before. The
percentiles are then taken over both by ``wake.total_of``, the code the reference uses.
``tests/reports/test_response_sql.py`` checks the totals equal ``wake.wake``'s on random incidents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.db.schema_reports import report_incident_facts as rf
from koban.reports import load
from koban.reports.facts_rows import SETTLE
from koban.reports.wake import STAGES, Values, moments, of, values_of


def _after(at: Any, start: Any) -> Any:
    """max(0, at − start), NULL without ``at`` (PostgreSQL's GREATEST would skip the NULL)."""
    zero = sa.literal(0.0, sa.Float)
    return sa.case((at.is_(None), sa.null()), (at - start > zero, at - start), else_=zero)


async def values(
    conn: AsyncConnection,
    since: float,
    until: float,
    services: Sequence[str] | None,
    teams: Mapping[str, str | None],
    as_of: float,
) -> Values:
    """Each stage's durations over the incidents created in ``[since, until)``, in no order."""
    i, f = t.incidents.c, rf.c
    usable = sa.and_(f.fence == i.updated_at, i.resolved_at.is_not(None), i.resolved_at + SETTLE <= as_of)
    start = f.first_failure_at
    q = (
        sa.select(
            i.created_at - start,
            _after(f.first_page_at, start),
            _after(f.first_reached_at, start),
            _after(f.woken_ack_at, start),
        )
        .select_from(t.incidents.join(rf, f.incident_id == i.id))
        .where(i.created_at >= since, i.created_at < until, usable)
    )
    if services is not None:
        q = q.where(i.service_id.in_(list(services)))
    found: Values = {s: [] for s in STAGES}
    lead, page, reached, ack = (
        found["lead"],
        found["first_page"],
        found["first_reached"],
        found["acknowledged"],
    )
    for a, b, c, d in await conn.execute(q):
        lead.append(a)
        if b is not None:
            page.append(b)
        if c is not None:
            reached.append(c)
        if d is not None:
            ack.append(d)
    raw = load.select_incidents().where(
        i.created_at >= since, i.created_at < until, sa.or_(f.incident_id.is_(None), ~usable)
    )
    if services is not None:
        raw = raw.where(i.service_id.in_(list(services)))
    incidents = await load.with_events(conn, (await conn.execute(raw)).all(), teams)
    for name, more in values_of([moments(inc, of(inc, as_of)) for inc in incidents]).items():
        found[name] += more
    return found

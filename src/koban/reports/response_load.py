"""Each incident's response clocks made by the database: one thin row per incident, never its events.

``response.clocks`` makes them in Python from an incident's raw timeline (or its settled facts);
this is the same rule in SQL, so the response report over a year reads 100,000 rows of eight
columns instead of 100,000 incidents with their timelines: a settled incident's clocks come from
its ``report_incident_facts`` row (while ``usable``, as ``facts_rows.usable`` says), any other's
from its timeline by correlated subqueries the database runs for those rows only. Grouping and
percentiles stay in ``response.response_of`` (pure), over these tuples.
``tests/reports/test_response_sql.py`` checks both agree on random incidents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.db.schema_reports import report_incident_facts as rf
from koban.reports.facts_rows import SETTLE
from koban.reports.pauses import no_gc_pauses
from koban.reports.response import Clocks


def clocks_query(since: float, until: float, services: Sequence[str] | None, as_of: float) -> Any:
    """(created_at, service, severity, acknowledged_at, acknowledged_by, resolved_at, reassigned)
    of the incidents created in ``[since, until)``; ``acknowledged_at`` is the first
    acknowledgement's time, not yet raised to the creation (``clocks`` does that in Python)."""
    i, f, tl = t.incidents.c, rf.c, t.timeline.c
    usable = sa.and_(f.fence == i.updated_at, i.resolved_at.is_not(None), i.resolved_at + SETTLE <= as_of)
    mine = sa.and_(tl.incident_id == i.id, tl.at <= as_of)
    first_ack = (
        sa.select(tl.at, tl.actor).where(mine, tl.kind == "acknowledged").order_by(tl.at, tl.id).limit(1)
    )
    raw_at = first_ack.with_only_columns(tl.at).scalar_subquery()
    raw_by = first_ack.with_only_columns(tl.actor).scalar_subquery()
    raw_reassigned = sa.exists().where(mine, tl.kind == "reassigned")
    q = (
        sa.select(
            i.created_at,
            i.service_id,
            i.severity,
            sa.case((usable, f.acknowledged_at), else_=raw_at),
            sa.case((usable, f.acknowledged_by), else_=raw_by),
            sa.case((i.resolved_at <= as_of, i.resolved_at), else_=sa.null()),
            sa.case((usable, f.reassigned), else_=raw_reassigned),
        )
        .select_from(t.incidents.outerjoin(rf, f.incident_id == i.id))
        .where(i.created_at >= since, i.created_at < until)
    )
    return q if services is None else q.where(i.service_id.in_(list(services)))


async def clocks(
    conn: AsyncConnection,
    since: float,
    until: float,
    services: Sequence[str] | None,
    teams: Mapping[str, str | None],
    as_of: float,
) -> list[Clocks]:
    out = []
    found = await conn.execute(clocks_query(since, until, services, as_of))
    with no_gc_pauses():  # 100,000 tuples that all live on: no garbage to look for
        for created, service, severity, ack, by, resolved, reassigned in found:
            out.append(
                Clocks(
                    created,
                    service,
                    teams.get(service),
                    severity,
                    None if ack is None else max(ack, created),
                    by,
                    resolved,
                    bool(reassigned),
                )
            )
    return out

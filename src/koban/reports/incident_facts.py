"""Settled incidents' clocks, kept so a year of reports need not replay a year of raw events.

An incident resolved ``SETTLE`` ago gets one ``report_incident_facts`` row, made from its raw events
by the very functions the reports run (``response.clocks``, ``wake.of``), with nothing held back
(``as_of`` = infinity). A report made at or after ``resolved_at + SETTLE`` reads that row instead of
the events, while ``fence`` still equals the incident's ``updated_at`` (a reopened or edited
incident is read raw until its row is made again). ``settle`` runs in the worker; ``rebuild``
(``koban report rebuild-summaries``) makes every row again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from koban.db import schema as t
from koban.db.bulk import BulkInsert
from koban.db.engine import Database
from koban.db.schema_reports import report_incident_facts as rf
from koban.domain.time_to_wake import Moment
from koban.reports import load
from koban.reports.facts_rows import SETTLE
from koban.reports.records import IncidentRecord
from koban.reports.response import clocks
from koban.reports.wake import of

BATCH = 1000
STAGES = {"first_failure": "first_failure", "first_page": "first_page",
          "first_reached": "first_reached", "woken_ack": "acknowledged"}  # fmt: skip
_INSERT = BulkInsert(rf)


def row_of(inc: IncidentRecord, fence: float) -> dict[str, Any]:
    c, w = clocks(inc, math.inf), of(inc, math.inf)
    row: dict[str, Any] = {
        "incident_id": inc.id, "fence": fence, "acknowledged_at": c.acknowledged_at,
        "acknowledged_by": c.acknowledged_by, "reassigned": c.reassigned,
    }  # fmt: skip
    for col, attr in STAGES.items():
        m: Moment | None = getattr(w, attr)
        row.update({f"{col}_at": m and m.at, f"{col}_how": m and m.how, f"{col}_who": m and m.who})
    return row


async def _write(db: Database, ids: Sequence[int]) -> int:
    async with db.read() as conn:
        rows = (await conn.execute(load.select_incidents().where(t.incidents.c.id.in_(list(ids))))).all()
        records = await load.with_events(conn, rows, {})
    fences = {r[0]: r[5] for r in rows}
    made = [row_of(inc, fences[inc.id]) for inc in records]
    async with db.begin() as conn:
        await conn.execute(sa.delete(rf).where(rf.c.incident_id.in_(list(ids))))
        if made:
            await _INSERT.run(conn, made)
    return len(made)


async def settle(db: Database, now: float, limit: int = BATCH) -> int:
    """Make the rows of up to ``limit`` settled incidents that lack a current one."""
    i = t.incidents.c
    q = (
        sa.select(i.id)
        .outerjoin(rf, rf.c.incident_id == i.id)
        .where(i.resolved_at.is_not(None), i.resolved_at <= now - SETTLE)
        .where(sa.or_(rf.c.incident_id.is_(None), rf.c.fence != i.updated_at))
        .limit(limit)
    )
    async with db.read() as conn:
        ids = [r[0] for r in await conn.execute(q)]
    return await _write(db, ids) if ids else 0


async def rebuild(db: Database, now: float) -> int:
    """Every settled incident's row, made again."""
    async with db.begin() as conn:
        await conn.execute(sa.delete(rf))
    n = 0
    while made := await settle(db, now):
        n += made
    return n

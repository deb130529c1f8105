"""Reading ``report_incident_facts`` rows back into ``Facts`` (written by ``incident_facts.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.schema_reports import report_incident_facts as rf
from koban.domain.time_to_wake import Moment, TimeToWake
from koban.reports.records import Facts

SETTLE = 3600.0  # an incident resolved this long ago has its facts made; later reports may read them
CHUNK = 2000


def facts_of(row: Mapping[str, Any] | Any) -> Facts:
    start = float(row["first_failure_at"])

    def moment(col: str) -> Moment | None:
        at = row[f"{col}_at"]
        return (
            None
            if at is None
            else Moment(float(at), max(0.0, float(at) - start), row[f"{col}_how"], row[f"{col}_who"])
        )

    first = Moment(start, 0.0, row["first_failure_how"], row["first_failure_who"])
    wake = TimeToWake(first, moment("first_page"), moment("first_reached"), moment("woken_ack"))
    return Facts(row["acknowledged_at"], row["acknowledged_by"], bool(row["reassigned"]), wake)


async def read(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, tuple[float, Facts]]:
    """The facts rows of these incidents: id -> (fence, facts)."""
    out: dict[int, tuple[float, Facts]] = {}
    for i in range(0, len(ids), CHUNK):
        q = sa.select(rf).where(rf.c.incident_id.in_(list(ids[i : i + CHUNK])))
        for r in await conn.execute(q):
            out[r.incident_id] = (r.fence, facts_of(r._mapping))
    return out


def usable(row: Any, fence: float | None, as_of: float) -> bool:
    """A facts row may stand for the raw events of incident ``row`` in a report made at ``as_of``."""
    resolved = row.resolved_at
    return fence == row.updated_at and resolved is not None and resolved + SETTLE <= as_of

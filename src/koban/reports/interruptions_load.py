"""The period's pages counted by the database: per recipient, channel type, slot and night.

A year is 200,000 pages; reading each into Python to place it in its recipient's day was most of
the interruptions and on-call reports. Here each page's local whole second is computed in SQL from
its ``sent_at`` and its recipient's zone (``local_slots``: the whole second ``fromtimestamp`` puts
it in, plus the offset of the zone's span holding it, the spans written into the query as a
``CASE``), and the slot and night from that integer, so the answer is a few rows per person: the
same counts ``interruptions.counts_of`` makes page by page (``tests/reports/test_interruptions_sql.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.reports.interruptions import INTERRUPTING, Count, slot
from koban.reports.local_slots import (
    CARRY_FROM,
    DAY,
    EPOCH_WEEKDAY,
    SLEEP_FROM,
    SLEEP_UNTIL,
    WORK_FROM,
    WORK_UNTIL,
    night_label,
    offset_spans,
)
from koban.reports.records import Period, PersonInfo

# Pages before the second day of 1970 are placed by ``slot`` in Python: there a negative offset
# would make a negative local second, which SQL's integer division rounds the other way.
EARLIEST = float(DAY)


def _float(v: float) -> Any:
    return sa.literal(v, sa.Float)


def _whole_second(at: Any, dialect: str) -> Any:
    """``local_slots.whole_second`` in SQL (``at`` >= 0)."""
    floor = sa.cast(at, sa.Integer) if dialect == "sqlite" else sa.cast(sa.func.floor(at), sa.BigInteger)
    carry = sa.case(((at - floor) * _float(1e6) >= _float(CARRY_FROM), 1), else_=0)
    return floor + carry


def _offset(second: Any, person: Any, people: Mapping[str, PersonInfo], period: Period) -> Any:
    """Each recipient's zone offset at ``second`` (UTC for anyone not in ``people``)."""
    zones: dict[str, list[str]] = {}
    for p in people.values():
        if p.timezone != "UTC":
            zones.setdefault(p.timezone, []).append(p.id)
    whens = []
    for tz, ids in sorted(zones.items()):
        spans = offset_spans(tz, period.since, period.until)
        later = [(second < start, prev) for (_, prev), (start, _) in zip(spans, spans[1:], strict=False)]
        by_span = sa.case(*later, else_=spans[-1][1]) if later else sa.literal(spans[0][1])
        whens.append((person.in_(sorted(ids)), by_span))
    return sa.case(*whens, else_=0) if whens else sa.literal(0)


async def page_counts(
    conn: AsyncConnection,
    period: Period,
    services: Sequence[str] | None,
    people: Mapping[str, PersonInfo],
) -> list[Count]:
    """Pages channels accepted in the period, counted as ``interruptions.counts_of`` counts them."""
    d, i = t.deliveries.c, t.incidents.c
    dialect = conn.dialect.name
    at = d.sent_at
    interrupts = sa.and_(d.person_id.is_not(None), d.channel_type.in_(sorted(INTERRUPTING)), at >= EARLIEST)
    second = _whole_second(at, dialect)
    local = second + _offset(second, d.person_id, people, period)
    clock = local % DAY
    day = (local - clock) / DAY  # exact: integer division of a multiple
    weekday = (day + EPOCH_WEEKDAY) % 7
    asleep = sa.or_(clock >= SLEEP_FROM, clock < SLEEP_UNTIL)
    where = sa.case(
        (~interrupts, sa.null()),
        (asleep, "sleep"),
        (sa.and_(weekday < 5, clock >= WORK_FROM, clock < WORK_UNTIL), "business"),
        else_="evening_weekend",
    ).label("slot")
    night = sa.case(
        (~interrupts, sa.null()), (clock >= SLEEP_FROM, day), (clock < SLEEP_UNTIL, day - 1), else_=sa.null()
    ).label("night")
    early = sa.case((at < EARLIEST, at), else_=sa.null()).label("early")  # placed below, in Python
    q = sa.select(d.person_id.label("person"), d.channel_type, where, night, early).where(
        d.kind == "page", at.is_not(None), at >= period.since, at < period.until
    )
    if services is not None:
        q = q.join_from(t.deliveries, t.incidents, d.incident_id == i.id).where(
            i.service_id.in_(list(services))
        )
    s = q.subquery()  # grouped by its columns: PostgreSQL would not match the bound expressions
    keys = (s.c.person, s.c.channel_type, s.c.slot, s.c.night, s.c.early)
    out: list[Count] = []
    for person, channel_type, slot_, night_day, early_at, n in await conn.execute(
        sa.select(*keys, sa.func.count()).group_by(*keys)
    ):
        label = None if night_day is None else night_label(int(night_day))
        if early_at is not None and person is not None and channel_type in INTERRUPTING:
            tz = people[person].timezone if person in people else "UTC"
            slot_, label = slot(float(early_at), tz)
        out.append((person, channel_type, slot_, label, int(n)))
    return out

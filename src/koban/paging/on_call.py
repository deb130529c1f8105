"""Schedule targets: who a step pages is resolved when the step fires, and why is kept.

A policy step ``{schedule: primary}`` is frozen as a target naming the schedule (domain/freeze.py).
When the step fires, the final schedule at that instant (layers + overrides, schedules/resolve.py)
names the people; the incident's timeline gets an ``on_call`` entry saying who, from which layer or
override, until when, so a later edit of the schedule never changes what the timeline says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.snapshot import Catalog
from koban.db.schema_calendars import calendar_events as ce
from koban.domain.escalation import Notify
from koban.schedules import build
from koban.schedules.model import Override

HORIZON = 35 * 86400.0


async def calendar_shifts(
    conn: AsyncConnection, catalog: Catalog, schedule: str, now: float
) -> list[Override]:
    """The shifts imported calendars give ``schedule`` around ``now`` (docs/calendars.md), as
    overrides applied before the schedule's own: an event naming a person puts them on call."""
    found = await calendar_shifts_of(conn, catalog, [schedule], now - HORIZON, now + HORIZON)
    return found.get(schedule, [])


async def calendar_shifts_of(
    conn: AsyncConnection, catalog: Catalog, schedules: Iterable[str], start: float, end: float
) -> dict[str, list[Override]]:
    """The calendar shifts of each of ``schedules`` within [start, end), in one query; schedules
    no calendar fills are absent (the REST ``/oncall`` asks for all of them at once)."""
    wanted = set(schedules)
    cals = {c.id: c for c in catalog.calendars.values() if c.schedule in wanted}
    if not cals:
        return {}
    rows = await conn.execute(
        sa.select(ce.c.calendar_id, ce.c.uid, ce.c.start, ce.c.end, ce.c.person)
        .where(ce.c.calendar_id.in_(cals), ce.c.person.is_not(None))
        .where(ce.c.start < end, ce.c.end > start)
        .order_by(ce.c.start)
    )
    out: dict[str, list[Override]] = {}
    for r in rows:
        if r.end > r.start:
            cal = cals[r.calendar_id]
            assert cal.schedule is not None  # selected by it
            out.setdefault(cal.schedule, []).append(
                Override(r.start, r.end, r.person, cal.kind, None, f"calendar:{cal.id}:{r.uid}")
            )
    return out


def resolve_pages(
    a: Notify, catalog: Catalog, now: float, shifts: Sequence[Override] = ()
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The (person, channel) pairs a schedule target pages now, and the timeline's account of why."""
    ident = a.target.schedule or ""
    sched = catalog.schedules.get(ident)
    if sched is None:
        return [], {"schedule": ident, "step": a.step, "people": [], "error": "no such schedule"}
    slot = build.on_call(sched, now, catalog, HORIZON, before=shifts)  # calendars first: an override wins
    pages: list[tuple[str, str]] = []
    unreachable: list[str] = []
    for person in slot.people:
        p = catalog.people.get(person)
        channels = [a.target.channel] if a.target.channel else list(p.notify if p else [])
        if not channels:
            unreachable.append(person)
        pages.extend((person, c) for c in channels)
    why: dict[str, Any] = {
        "schedule": ident,
        "step": a.step,
        "people": list(slot.people),
        "source": slot.source,
        "layer": slot.layer,
        "overrides": list(slot.overrides),
        "until": slot.end,
    }
    if unreachable:
        why["unreachable"] = unreachable  # on call but with no channel to page them through
    return pages, why

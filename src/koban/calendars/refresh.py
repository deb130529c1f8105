"""Fetch one calendar, keep its last good copy, store its events and follow them with tasks.

A round is claimed by moving ``next_fetch_at`` forward with a conditional UPDATE, so two instances
never fetch the same calendar in the same round. The fetch runs outside any transaction; a failure
(the server down, an HTML login page, a broken body) is written on the calendar's status and the
last good copy stays in use: the events already stored and the tasks pending are left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from koban.calendars.rules import people_finder
from koban.calendars.tasks import sync_tasks
from koban.catalog.deps import StoreDeps
from koban.config.model_calendars import Calendar
from koban.db.schema_calendars import calendar_events as ce
from koban.db.schema_calendars import calendar_state as cs
from koban.db.uow import UnitOfWork
from koban.sources.calendar.fetch import Fetched, fetch_caldav, fetch_ical
from koban.sources.calendar.parse import FeedError, parse_feed

log = logging.getLogger(__name__)
PAST = 7 * 86400.0  # events kept behind now (an event in progress, a task just opened)
AHEAD = 60 * 86400.0  # and ahead: the horizon of shifts and tasks


@dataclass(frozen=True, slots=True)
class Refreshed:
    fetched: bool  # False: not due (or another instance has this round)
    error: str | None = None
    events: int = 0


async def refresh(deps: StoreDeps, cal: Calendar, now: float, *, force: bool = False) -> Refreshed:
    state = await _claim(deps, cal, now, force)
    if state is None:
        return Refreshed(False)
    body: str | None = None
    try:
        got = await _fetch(cal, state)
        body = got.body if got.body is not None else state["body"]
        if body is None:
            raise FeedError("the server answered 304 Not Modified, but koban holds no copy")
        events = parse_feed(body, cal.timezone, now - PAST, now + AHEAD)
    except Exception as e:  # whatever broke, the status says so (the logs say more)
        # A FeedError is the expected kind (down, HTML, broken body); anything else (a CalDAV
        # server's broken XML, a library's bug) must not leave the status saying all is well.
        error = str(e) if isinstance(e, FeedError) else f"unexpected error: {type(e).__name__}: {e}"
        if not isinstance(e, FeedError):
            log.exception("calendar %s: fetch failed", cal.id)
        async with deps.db.begin() as conn:
            await conn.execute(
                sa.update(cs).where(cs.c.calendar_id == cal.id).values(last_fetch_at=now, error=error)
            )
        return Refreshed(True, error)
    async with deps.db.begin() as conn:
        values: dict[str, Any] = {
            "last_fetch_at": now,
            "last_success_at": now,
            "error": None,
            "events": len(events),
        }
        if got.body is not None:
            values.update(body=got.body, etag=got.etag, last_modified=got.last_modified)
        await conn.execute(sa.update(cs).where(cs.c.calendar_id == cal.id).values(**values))
        await conn.execute(sa.delete(ce).where(ce.c.calendar_id == cal.id))
        person_of = people_finder(deps.catalog.people)
        rows = {
            (ev.uid, ev.recurrence_id): {
                "calendar_id": cal.id,
                "uid": ev.uid,
                "recurrence_id": ev.recurrence_id,
                "start": ev.start,
                "end": ev.end,
                "summary": ev.summary,
                "person": person_of(ev) if cal.schedule else None,
            }
            for ev in events
            if not ev.cancelled
        }
        if rows:
            await conn.execute(sa.insert(ce), list(rows.values()))
        uow = UnitOfWork(conn, deps.db.dialect)
        await sync_tasks(uow, deps.catalog, cal, events, now)
        await uow.flush()
    return Refreshed(True, None, len(events))


async def _claim(deps: StoreDeps, cal: Calendar, now: float, force: bool) -> dict[str, Any] | None:
    async with deps.db.begin() as conn:
        ins = (postgresql.insert if deps.db.dialect == "postgresql" else sqlite.insert)(cs)
        await conn.execute(
            ins.values(calendar_id=cal.id, events=0, next_fetch_at=0.0).on_conflict_do_nothing()
        )
        cond = sa.update(cs).where(cs.c.calendar_id == cal.id)
        if not force:
            cond = cond.where(cs.c.next_fetch_at <= now)
        if (await conn.execute(cond.values(next_fetch_at=now + cal.every))).rowcount != 1:
            return None
        row = (await conn.execute(sa.select(cs).where(cs.c.calendar_id == cal.id))).one()
        return dict(row._mapping)


async def _fetch(cal: Calendar, state: dict[str, Any]) -> Fetched:
    if cal.caldav is not None:
        d = cal.caldav
        return await fetch_caldav(d.url, d.username, d.password, d.calendar)
    assert cal.url is not None  # the config holds exactly one of url and caldav
    # Without a copy to fall back on, a 304 would leave us with nothing: ask unconditionally.
    held = state["body"] is not None
    return await fetch_ical(
        cal.url, state["etag"] if held else None, state["last_modified"] if held else None
    )

"""iCalendar feeds of on-call shifts: a schedule's final schedule, or one person's shifts in every
schedule, behind an unguessable URL (``/cal/<token>.ics``) that its creator or an administrator can
revoke. Only the token's SHA-256 is stored; the URL is shown once, at creation.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, model_validator

from koban.api.access import anonymous
from koban.api.deps import deps_of
from koban.api.schedule_common import calendar_shifts
from koban.auth.audit import Change, record
from koban.auth.feeds import create_feed as new_feed
from koban.auth.feeds import digest
from koban.auth.guard import any_login, ensure, origin_of
from koban.auth.permissions import Need, Scope, decide
from koban.db.schema_schedules import calendar_feeds as feeds
from koban.schedules.build import resolved
from koban.schedules.ical import feed

router = APIRouter(tags=["schedules"])
PAST, AHEAD = 7 * 86400.0, 90 * 86400.0  # what a feed shows around the time it is fetched


class NewFeed(BaseModel):
    schedule: str | None = None
    person: str | None = None
    alarm_minutes: int | None = Field(None, ge=1, le=10080)  # a reminder before each shift

    @model_validator(mode="after")
    def _one(self) -> NewFeed:
        if (self.schedule is None) == (self.person is None):
            raise ValueError("a feed is of one schedule or of one person's shifts")
        return self


@router.post(
    "/api/v1/feeds",
    status_code=201,
    summary="Create an iCal feed URL (shown once)",
    dependencies=[Depends(any_login())],
)
async def create_feed(request: Request, body: NewFeed) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    who = request.state.principal
    if body.schedule is not None:
        sched = deps.catalog.schedules.get(body.schedule)
        if sched is None:
            raise HTTPException(422, f"unknown schedule {body.schedule!r}")  # a reference in the body
        ensure(request, Need(Scope.READ, sched.team))
    elif body.person != who.person_id:
        ensure(request, Need(Scope.ADMIN))  # someone else's shifts: administrators only
    async with deps.db.begin() as conn:
        ident, url = await new_feed(
            conn,
            origin_of(request),
            deps.clock.now(),
            created_by=who.person_id,
            schedule=body.schedule,
            person=body.person,
            alarm_minutes=body.alarm_minutes,
        )
    return {"id": ident, "url": url, "note": "shown once: koban stores only its hash"}


@router.get(
    "/api/v1/feeds", summary="The feeds one made (administrators: all)", dependencies=[Depends(any_login())]
)
async def list_feeds(request: Request) -> dict[str, Any]:
    deps = deps_of(request)
    who = request.state.principal
    q = sa.select(feeds).order_by(feeds.c.id)
    if not decide(who, Need(Scope.ADMIN)).allowed:
        q = q.where(feeds.c.created_by == who.person_id)
    async with deps.db.read() as conn:
        rows = (await conn.execute(q)).mappings().all()
    return {"feeds": [{k: v for k, v in r.items() if k != "token_hash"} for r in rows]}


@router.delete("/api/v1/feeds/{feed_id}", summary="Revoke a feed URL", dependencies=[Depends(any_login())])
async def revoke_feed(request: Request, feed_id: int) -> dict[str, Any]:
    deps = deps_of(request)
    who = request.state.principal
    async with deps.db.begin() as conn:
        row = (await conn.execute(sa.select(feeds).where(feeds.c.id == feed_id))).mappings().first()
        if row is None:
            raise HTTPException(404, f"feed {feed_id} does not exist")
        if row["created_by"] != who.person_id:
            ensure(request, Need(Scope.ADMIN))
        now = deps.clock.now()
        if row["revoked_at"] is None:
            await conn.execute(sa.update(feeds).where(feeds.c.id == feed_id).values(revoked_at=now))
            change = Change("feeds.revoke", "feeds", str(feed_id), {"revoked_at": None}, {"revoked_at": now})
            await record(conn, origin_of(request), [change], now)
    return {"revoked": feed_id}


@router.get(
    "/cal/{token}.ics",
    summary="An iCal feed of on-call shifts",
    dependencies=[anonymous("the unguessable token in the URL is its own proof, and can be revoked")],
    response_class=Response,
)
async def calendar(request: Request, token: str) -> Response:
    deps = deps_of(request)
    async with deps.db.read() as conn:
        q = sa.select(feeds).where(feeds.c.token_hash == digest(token), feeds.c.revoked_at.is_(None))
        row = (await conn.execute(q)).mappings().first()
    if row is None:
        raise HTTPException(404, "no such feed (revoked?)")
    await deps.refresh_catalog()
    now = deps.clock.now()
    a, b = now - PAST, now + AHEAD
    schedules = deps.catalog.schedules
    if row["schedule_id"] is not None:
        sched = schedules.get(row["schedule_id"])
        cal = await calendar_shifts(request, [row["schedule_id"]], a, b)
        shifts = (
            [(sched.id, s) for s in resolved(sched, a, b, deps.catalog, cal.get(sched.id, ()))]
            if sched is not None
            else []
        )
        name, gaps = f"On call: {row['schedule_id']}", True
    else:
        person = row["person_id"]
        cal = await calendar_shifts(request, list(schedules), a, b)
        shifts = [
            (s.id, x)
            for s in schedules.values()
            for x in resolved(s, a, b, deps.catalog, cal.get(s.id, ()))
            if person in x.people
        ]
        name, gaps = f"On call: {person}", False
    body = feed(name, shifts, now, alarm_minutes=row["alarm_minutes"], show_gaps=gaps)
    return Response(
        body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "private, max-age=300"}
    )

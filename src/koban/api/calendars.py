"""REST: imported calendars' status (last fetch, last success, the error if any) and a fetch on
demand, which does not wait for the calendar's timer and is on the audit trail (docs/calendars.md)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request

from koban.api.deps import deps_of
from koban.auth.audit import Change, record
from koban.auth.guard import origin_of, requires
from koban.auth.permissions import Scope
from koban.calendars.refresh import refresh
from koban.calendars.tasks import open_due
from koban.db.schema_calendars import calendar_state as cs

router = APIRouter(tags=["calendars"])

_STATUS = (
    cs.c.calendar_id,
    cs.c.last_fetch_at,
    cs.c.last_success_at,
    cs.c.error,
    cs.c.events,
    cs.c.next_fetch_at,
)


async def _status(request: Request) -> dict[str, dict[str, Any]]:
    deps = deps_of(request)
    async with deps.db.read() as conn:
        rows = {r.calendar_id: dict(r._mapping) for r in await conn.execute(sa.select(*_STATUS))}
    out = {}
    for cal in deps.catalog.calendars.values():
        row = rows.get(cal.id, {})
        out[cal.id] = {
            "id": cal.id,
            "name": cal.name,
            "source": "caldav" if cal.caldav else "ical",
            "schedule": cal.schedule,
            "last_fetch_at": row.get("last_fetch_at"),
            "last_success_at": row.get("last_success_at"),
            "error": row.get("error"),
            "events": row.get("events", 0),
            "next_fetch_at": row.get("next_fetch_at"),
        }
    return out


@router.get(
    "/api/v1/calendars",
    summary="Imported calendars and their fetch status",
    dependencies=[Depends(requires(Scope.READ))],
)
async def list_calendars(request: Request) -> dict[str, Any]:
    return {"calendars": list((await _status(request)).values())}


@router.post(
    "/api/v1/calendars/{ident}/refresh",
    summary="Fetch an imported calendar now",
    dependencies=[Depends(requires(Scope.MANAGE))],
)
async def refresh_calendar(request: Request, ident: str) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    cal = deps.catalog.calendars.get(ident)
    if cal is None:
        raise HTTPException(404, f"calendars/{ident} does not exist")
    got = await refresh(deps, cal, deps.clock.now(), force=True)
    await open_due(deps, deps.clock.now())
    # A fetch on demand changes what koban acts on (who is paged, which tasks open): audited.
    async with deps.db.begin() as conn:
        change = Change(
            "calendars.refresh", "calendars", ident, None, {"error": got.error, "events": got.events}
        )
        await record(conn, origin_of(request), [change], deps.clock.now())
    return (await _status(request))[ident]

"""REST: who is on call, a schedule's final schedule, and overrides (docs/schedules.md).

Overrides made here live in a table of their own, not in the schedule's definition
(catalog/schedule_extras.py), so a ``koban config apply`` of the file keeps them; the file's own
overrides stay the file's. A manager of the schedule's team may add or remove any override; a
responder may hand over their own shift: an override that replaces or removes themselves while they
are on call. Each change is on the audit trail with the schedule's API overrides before and after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from koban.api.access import READ, need, object_team, visible_teams
from koban.api.deps import deps_of
from koban.api.schedule_common import _instant, _iso, _schedule, calendar_shifts, slot_json
from koban.auth.audit import Change
from koban.auth.guard import origin_of
from koban.auth.permissions import Need, Scope, decide
from koban.config.model_schedules import Override
from koban.core.local_time import local, zone
from koban.paging.on_call import HORIZON
from koban.paging.schedule_overrides import made_by, refusal, store_overrides
from koban.schedules.build import on_call, person_shifts, resolved
from koban.schedules.coverage import report

router = APIRouter(prefix="/api/v1", tags=["schedules"])
MAX_SPAN = 400 * 86400.0
_team = object_team("schedules")


@router.get("/oncall", summary="Who is on call, per schedule", dependencies=[READ])
async def who_is_on_call(
    request: Request,
    at: datetime | None = Query(None, description="ISO 8601 or epoch seconds; default now"),
    schedule: str | None = Query(None, description="only this schedule"),
    team: str | None = Query(None, description="only this team's schedules"),
) -> dict[str, Any]:
    deps = deps_of(request)
    # No catalog check here: the catalog follows the config tables every 2 s (catalog/store.py)
    # and this instance's own writes refresh it at once. The check is ~20 queries, the bulk of
    # the cost of the most frequent read there is (bench/oncall_http.py).
    when = _instant(at, deps.clock.now())
    teams = visible_teams(request)
    chosen = [
        s
        for s in deps.catalog.schedules.values()
        if (teams is None or s.team in teams)
        and not (schedule and s.id != schedule)
        and not (team and s.team != team)
    ]
    shifts = await calendar_shifts(request, [s.id for s in chosen], when - HORIZON, when + HORIZON)
    out = [
        {
            "schedule": s.id,
            "team": s.team,
            "timezone": s.timezone,
            **slot_json(on_call(s, when, deps.catalog, HORIZON, before=shifts.get(s.id, ())), s.timezone),
        }
        for s in chosen
    ]
    return {"at": _iso(when), "oncall": out}


@router.get(
    "/oncall/shifts",
    summary="One person's upcoming shifts in every schedule",
    responses={404: {"description": "No such person (or the caller is no person of the config)"}},
    dependencies=[READ],
)
async def person_upcoming_shifts(
    request: Request,
    person: str | None = Query(None, description="default: the caller"),
    days: int = Query(28, ge=1, le=90, description="from now"),
) -> dict[str, Any]:
    """Their slots in the schedules the caller may read (team-scoped as ``/oncall``), imported
    calendars' shifts included, by start: what the web page draws as "my shifts"."""
    deps = deps_of(request)
    who = person or request.state.principal.person_id
    if who not in deps.catalog.people:
        raise HTTPException(404, f"people/{who} does not exist")
    a = deps.clock.now()
    b = a + days * 86400.0
    teams = visible_teams(request)
    chosen = [s for s in deps.catalog.schedules.values() if teams is None or s.team in teams]
    cal = await calendar_shifts(request, [s.id for s in chosen], a, b)
    found = person_shifts(who, chosen, a, b, deps.catalog, cal)
    return {
        "person": who,
        "start": _iso(a),
        "end": _iso(b),
        "shifts": [
            {"schedule": s.id, "team": s.team, "timezone": s.timezone, **slot_json(x, s.timezone)}
            for s, x in found
        ],
    }


@router.get(
    "/schedules/{ident}/final",
    summary="The final schedule (layers and overrides) over an interval",
    dependencies=[need(Scope.READ, _team)],
)
async def final_schedule(
    request: Request,
    ident: str,
    start: datetime | None = Query(None, description="default now"),
    end: datetime | None = Query(None, description="default start + 7 days; at most 400 days later"),
    person: str | None = Query(None, description="only this person's shifts"),
) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    a = _instant(start, deps_of(request).clock.now())
    b = _instant(end, a + 7 * 86400.0)
    if not a < b <= a + MAX_SPAN:
        raise HTTPException(422, "end must be after start, and at most 400 days later")
    shifts = (await calendar_shifts(request, [ident], a, b)).get(ident, [])
    slots = resolved(sched, a, b, deps_of(request).catalog, shifts)
    if person:
        slots = [s for s in slots if person in s.people]
    return {
        "schedule": ident,
        "timezone": sched.timezone,
        "slots": [slot_json(s, sched.timezone) for s in slots],
    }


@router.get(
    "/schedules/{ident}/coverage",
    summary="Gaps and on-call hours per person over the next N weeks",
    dependencies=[need(Scope.READ, _team)],
)
async def coverage(
    request: Request, ident: str, weeks: int = Query(4, ge=1, le=52, description="from now")
) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    deps = deps_of(request)
    a = deps.clock.now()
    b = a + weeks * 7 * 86400.0
    shifts = (await calendar_shifts(request, [ident], a, b)).get(ident, [])
    cov = report(resolved(sched, a, b, deps.catalog, shifts))
    tz = zone(sched.timezone)
    return {
        "schedule": ident,
        "timezone": sched.timezone,
        "start": _iso(a),
        "end": _iso(b),
        "covered": round(cov.covered, 6),
        "gaps": [
            {
                "start": _iso(g0),
                "end": _iso(g1),
                "start_local": local(g0, tz).isoformat(),
                "end_local": local(g1, tz).isoformat(),
                "hours": round((g1 - g0) / 3600.0, 3),
            }
            for g0, g1 in cov.gaps
        ],
        "hours": {p: round(h, 3) for p, h in cov.hours.items()},
    }


async def save_overrides(
    request: Request, ident: str, add: list[Override], drop: list[str], action: str, extra: list[Change]
) -> None:
    """Add and remove API overrides of ``ident`` in one transaction, audited (see
    ``paging/schedule_overrides.py``)."""
    deps = deps_of(request)
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        await store_overrides(conn, origin_of(request), now, deps.catalog, ident, (add, drop), action, extra)
    await deps.refresh_catalog(force=True)


@router.get(
    "/schedules/{ident}/overrides",
    summary="A schedule's overrides: the file's and those made through the API",
    dependencies=[need(Scope.READ, _team)],
)
async def list_overrides(request: Request, ident: str) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    made = deps_of(request).catalog.schedule_overrides.get(ident, ())
    return {
        "file": [o.model_dump(mode="json") for o in sched.overrides],
        "api": [o.model_dump(mode="json") for o in made],
    }


@router.post(
    "/schedules/{ident}/overrides",
    status_code=201,
    summary="Add an override (managers: any; responders: their own shift)",
    dependencies=[need(Scope.RESPOND, _team)],
)
async def add_override(request: Request, ident: str, body: Override) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    catalog = deps_of(request).catalog
    who = request.state.principal
    a, b = body.start.timestamp(), body.end.timestamp()
    shifts = (await calendar_shifts(request, [ident], a, b)).get(ident, [])
    refused = refusal(who, sched, body, catalog, shifts)
    if refused is not None:
        status, message = refused
        if status == 422:
            raise HTTPException(422, [{"loc": ["body", "person"], "msg": message}])
        raise HTTPException(status, message)
    override = made_by(body, who.person_id)
    await save_overrides(request, ident, [override], [], "schedules.override.create", [])
    return override.model_dump(mode="json")


@router.delete(
    "/schedules/{ident}/overrides/{override}",
    summary="Remove an override made through the API (managers: any; responders: those they made)",
    dependencies=[need(Scope.RESPOND, _team)],
)
async def remove_override(request: Request, ident: str, override: str) -> dict[str, str]:
    sched = await _schedule(request, ident)
    made = deps_of(request).catalog.schedule_overrides.get(ident, ())
    found = next((o for o in made if o.id == override), None)
    if found is None:
        if any(o.id == override for o in sched.overrides):
            raise HTTPException(409, f"override {override!r} is the config file's: edit the file")
        raise HTTPException(404, f"schedules/{ident} has no override {override!r}")
    who = request.state.principal
    if found.by != who.person_id and not decide(who, Need(Scope.MANAGE, sched.team)).allowed:
        raise HTTPException(403, "a responder removes only the overrides they made")
    await save_overrides(request, ident, [], [override], "schedules.override.delete", [])
    return {"deleted": f"schedules/{ident}/overrides/{override}"}

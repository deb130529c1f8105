"""REST: shift swaps and temporary schedules (docs/schedules.md).

Swaps follow ``paging/schedule_swaps.py``, the rules the schedule page shares: asked for by the
person whose shift it is (a manager on anyone's behalf), taken by the taker or approved by a manager,
which writes the overrides, audits and tells both people.

A temporary schedule (managers) replaces the layers with fixed shifts for a period.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from koban.api.access import need, object_team
from koban.api.deps import deps_of
from koban.api.schedule_common import _schedule, unknown_people
from koban.auth.audit import Change, record
from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.catalog.schedule_extras import add_extra, remove_extra
from koban.config.base import Strict
from koban.config.model_schedules import Temporary
from koban.db.schema_schedules import schedule_temporaries
from koban.paging import schedule_swaps as swaps
from koban.paging.schedule_swaps import SwapRefused, SwapRequest, swap_json

router = APIRouter(prefix="/api/v1", tags=["schedules"])
_team = object_team("schedules")


class Approval(Strict):
    taker: str | None = None  # needed when the swap was open


def _refused(exc: SwapRefused) -> HTTPException:
    if exc.field:
        return HTTPException(exc.status, [{"loc": ["body", exc.field], "msg": exc.message}])
    return HTTPException(exc.status, exc.message)


@router.post(
    "/schedules/{ident}/swaps",
    status_code=201,
    summary="Ask for a shift swap (your own shift; managers: anyone's)",
    dependencies=[need(Scope.RESPOND, _team)],
)
async def request_swap(request: Request, ident: str, body: SwapRequest) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    try:
        row = await swaps.request_swap(
            deps_of(request), origin_of(request), request.state.principal, sched, body
        )
    except SwapRefused as exc:
        raise _refused(exc) from None
    return swap_json(row)


@router.get("/schedules/{ident}/swaps", summary="A schedule's swaps", dependencies=[need(Scope.READ, _team)])
async def list_swaps(request: Request, ident: str) -> dict[str, Any]:
    await _schedule(request, ident)
    return {"swaps": [swap_json(r) for r in await swaps.list_swaps(deps_of(request).db, ident)]}


async def _decide(
    request: Request, ident: str, swap_id: int, state: str, taker: str | None
) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    try:
        after = await swaps.decide_swap(
            deps_of(request), origin_of(request), request.state.principal, sched, swap_id, state, taker
        )
    except SwapRefused as exc:
        raise _refused(exc) from None
    return swap_json(after)


@router.post(
    "/schedules/{ident}/swaps/{swap_id}/take",
    summary="Take a swap offered to you (or open to the team)",
    dependencies=[need(Scope.RESPOND, _team)],
)
async def take_swap(request: Request, ident: str, swap_id: int) -> dict[str, Any]:
    return await _decide(request, ident, swap_id, "taken", None)


@router.post(
    "/schedules/{ident}/swaps/{swap_id}/approve",
    summary="Approve a swap (managers), naming the taker when it was open",
    dependencies=[need(Scope.MANAGE, _team)],
)
async def approve_swap(
    request: Request, ident: str, swap_id: int, body: Approval | None = None
) -> dict[str, Any]:
    return await _decide(request, ident, swap_id, "approved", body.taker if body else None)


@router.post(
    "/schedules/{ident}/swaps/{swap_id}/cancel",
    summary="Cancel an open swap (its requester, or a manager)",
    dependencies=[need(Scope.RESPOND, _team)],
)
async def cancel_swap(request: Request, ident: str, swap_id: int) -> dict[str, Any]:
    return await _decide(request, ident, swap_id, "canceled", None)


@router.get(
    "/schedules/{ident}/temporaries",
    summary="A schedule's temporary schedules",
    dependencies=[need(Scope.READ, _team)],
)
async def list_temporaries(request: Request, ident: str) -> dict[str, Any]:
    await _schedule(request, ident)
    made = deps_of(request).catalog.schedule_temporaries.get(ident, ())
    return {"temporaries": [x.model_dump(mode="json") for x in made]}


@router.post(
    "/schedules/{ident}/temporaries",
    status_code=201,
    summary="Add a temporary schedule: fixed shifts that replace the layers for a period",
    dependencies=[need(Scope.MANAGE, _team)],
)
async def add_temporary(request: Request, ident: str, body: Temporary) -> dict[str, Any]:
    await _schedule(request, ident)
    deps = deps_of(request)
    unknown = unknown_people(request, [p for s in body.shifts for p in s.people])
    if unknown:
        raise HTTPException(422, [{"loc": ["body", "shifts"], "msg": f"unknown person {unknown[0]!r}"}])
    tmp = body.model_copy(
        update={"id": body.id or f"t-{secrets.token_hex(4)}", "by": request.state.principal.person_id}
    )
    if any(x.id == tmp.id for x in deps.catalog.schedule_temporaries.get(ident, ())):
        raise HTTPException(409, f"temporary schedule {tmp.id!r} exists")
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        await add_extra(conn, schedule_temporaries, ident, tmp, now)
        change = Change("schedules.temporary.create", "schedules", ident, None, tmp.model_dump(mode="json"))
        await record(conn, origin_of(request), [change], now)
    await deps.refresh_catalog(force=True)
    return tmp.model_dump(mode="json")


@router.delete(
    "/schedules/{ident}/temporaries/{temporary}",
    summary="Remove a temporary schedule",
    dependencies=[need(Scope.MANAGE, _team)],
)
async def remove_temporary(request: Request, ident: str, temporary: str) -> dict[str, str]:
    await _schedule(request, ident)
    deps = deps_of(request)
    found = next((x for x in deps.catalog.schedule_temporaries.get(ident, ()) if x.id == temporary), None)
    if found is None:
        raise HTTPException(404, f"schedules/{ident} has no temporary schedule {temporary!r}")
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        await remove_extra(conn, schedule_temporaries, ident, temporary)
        change = Change("schedules.temporary.delete", "schedules", ident, found.model_dump(mode="json"), None)
        await record(conn, origin_of(request), [change], now)
    await deps.refresh_catalog(force=True)
    return {"deleted": f"schedules/{ident}/temporaries/{temporary}"}

"""REST: shift swaps and temporary schedules (docs/schedules.md).

A swap is asked for by the person whose shift it is (a manager may ask on anyone's behalf), for
[start, end), to a named taker or open to the team; optionally with a shift of the taker's given back
(``back_start``/``back_end``). It is then **taken** by the taker (or, when open, anyone of the team
with the responder role) or **approved** by a manager naming the taker. Taking or approving writes
the overrides it amounts to (``swap-<id>``, ``swap-<id>-back``: API overrides, kept by config apply)
in the same transaction as the swap's new state, its audit entry and a notice to both people
(paging/schedule_notices.py: through each person's ``notify`` channels, at most once per key).

A temporary schedule (managers) replaces the layers with fixed shifts for a period.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from pydantic import Field, model_validator

from koban.api.access import need, object_team
from koban.api.deps import deps_of
from koban.api.schedule_common import _iso, _schedule, unknown_people
from koban.auth.audit import Change, record
from koban.auth.guard import origin_of
from koban.auth.permissions import Need, Scope, decide
from koban.catalog.schedule_extras import add_extra, remove_extra
from koban.config.base import Strict
from koban.config.model_schedules import Override, Temporary
from koban.db.schema_schedules import schedule_overrides, schedule_swaps, schedule_temporaries
from koban.paging.schedule_notices import notice_rows, queue
from koban.schedules import wording
from koban.schedules.build import resolved

router = APIRouter(prefix="/api/v1", tags=["schedules"])
_team = object_team("schedules")


class SwapRequest(Strict):
    start: datetime
    end: datetime
    taker: str | None = None  # None: open to anyone of the team
    back_start: datetime | None = None  # a shift of the taker's the requester takes in exchange
    back_end: datetime | None = None
    note: str = Field(default="", max_length=500)
    requester: str | None = None  # managers only: on someone else's behalf; default the caller

    @model_validator(mode="after")
    def _order(self) -> SwapRequest:
        if self.end <= self.start:
            raise ValueError("a swap ends after it starts")
        if (self.back_start is None) != (self.back_end is None):
            raise ValueError("back_start and back_end go together")
        if self.back_start and self.back_end and self.back_end <= self.back_start:
            raise ValueError("the shift given back ends after it starts")
        if (self.back_start is not None) and self.taker is None:
            raise ValueError("a shift given back needs a named taker")
        return self


class Approval(Strict):
    taker: str | None = None  # needed when the swap was open


def _manager(request: Request, team: str | None) -> bool:
    return decide(request.state.principal, Need(Scope.MANAGE, team)).allowed


def _swap_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "schedule": r.schedule_id,
        "requester": r.requester,
        "taker": r.taker,
        "start": _iso(r.start),
        "end": _iso(r.end),
        "back_start": _iso(r.back_start) if r.back_start is not None else None,
        "back_end": _iso(r.back_end) if r.back_end is not None else None,
        "note": r.note,
        "state": r.state,
        "decided_by": r.decided_by,
    }


def _on_call(request: Request, sched: Any, person: str, start: float, end: float) -> bool:
    return any(person in s.people for s in resolved(sched, start, end, deps_of(request).catalog))


@router.post(
    "/schedules/{ident}/swaps",
    status_code=201,
    summary="Ask for a shift swap (your own shift; managers: anyone's)",
    dependencies=[need(Scope.RESPOND, _team)],
)
async def request_swap(request: Request, ident: str, body: SwapRequest) -> dict[str, Any]:
    sched = await _schedule(request, ident)
    deps = deps_of(request)
    me = request.state.principal.person_id
    requester = body.requester or me
    if requester != me and not _manager(request, sched.team):
        raise HTTPException(403, "a responder asks to swap only their own shift")
    unknown = unknown_people(request, [requester, body.taker])
    if unknown:
        raise HTTPException(422, [{"loc": ["body", "taker"], "msg": f"unknown person {unknown[0]!r}"}])
    if body.taker == requester:
        raise HTTPException(422, "the taker is someone else")
    a, b = body.start.timestamp(), body.end.timestamp()
    if not _on_call(request, sched, requester, a, b):
        raise HTTPException(422, f"{requester} is not on call in {ident} then")
    back = (
        (body.back_start.timestamp(), body.back_end.timestamp())
        if body.back_start and body.back_end
        else None
    )
    if back and body.taker and not _on_call(request, sched, body.taker, *back):
        raise HTTPException(422, f"{body.taker} is not on call in {ident} during the shift given back")
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        values = {
            "schedule_id": ident, "requester": requester, "start": a, "end": b, "taker": body.taker,
            "back_start": back[0] if back else None, "back_end": back[1] if back else None,
            "note": body.note, "state": "open", "created_at": now,
        }  # fmt: skip
        made = await conn.execute(sa.insert(schedule_swaps).values(**values).returning(schedule_swaps.c.id))
        swap_id = made.scalar_one()
        row = (await conn.execute(sa.select(schedule_swaps).where(schedule_swaps.c.id == swap_id))).one()
        await record(
            conn,
            origin_of(request),
            [Change("schedules.swap.request", "schedules", ident, None, _swap_json(row))],
            now,
        )
        if body.taker:
            note, tz, name = body.note or "", sched.timezone, sched.name or ident

            def text(lang: str) -> str:
                return wording.swap_requested(lang, requester, name, swap_id, a, b, tz, note)

            rows = notice_rows(deps.catalog, f"swap:{swap_id}:open", "swap", ident, body.taker, text)
            await queue(conn, deps.db.dialect, rows, now)
    deps.wake()
    return _swap_json(row)


@router.get("/schedules/{ident}/swaps", summary="A schedule's swaps", dependencies=[need(Scope.READ, _team)])
async def list_swaps(request: Request, ident: str) -> dict[str, Any]:
    await _schedule(request, ident)
    c = schedule_swaps.c
    async with deps_of(request).db.read() as conn:
        rows = await conn.execute(sa.select(schedule_swaps).where(c.schedule_id == ident).order_by(c.id))
        return {"swaps": [_swap_json(r) for r in rows]}


async def _decide(
    request: Request, ident: str, swap_id: int, state: str, taker: str | None
) -> dict[str, Any]:
    """Move an open swap to ``state``; taken or approved, write its overrides and tell both people."""
    sched = await _schedule(request, ident)
    deps = deps_of(request)
    c = schedule_swaps.c
    async with deps.db.read() as conn:
        row = (
            await conn.execute(sa.select(schedule_swaps).where(c.id == swap_id, c.schedule_id == ident))
        ).first()
    if row is None:
        raise HTTPException(404, f"schedules/{ident} has no swap {swap_id}")
    me = request.state.principal.person_id
    manager = _manager(request, sched.team)
    if state == "taken":
        taker = me
        if row.taker not in (None, me) or me == row.requester:
            raise HTTPException(403, f"swap {swap_id} is for {row.taker or 'someone else'} to take")
    elif state == "approved":
        if not manager:
            raise HTTPException(403, "a manager of the schedule's team approves swaps")
        taker = taker or row.taker
        if taker is None or taker == row.requester or unknown_people(request, [taker]):
            raise HTTPException(422, "name the taker: someone else than the requester, a known person")
    elif me != row.requester and not manager:
        raise HTTPException(403, "only the requester or a manager cancels a swap")
    if row.state != "open":
        raise HTTPException(409, f"swap {swap_id} is {row.state}")
    made: list[Override] = []
    if state in ("taken", "approved"):
        assert taker is not None
        note = f"swap {swap_id}"
        made.append(
            Override(
                id=f"swap-{swap_id}", start=_dt(row.start), end=_dt(row.end), person=taker,
                replaces=row.requester, note=note, by=me,
            )
        )  # fmt: skip
        if row.back_start is not None:
            made.append(
                Override(
                    id=f"swap-{swap_id}-back", start=_dt(row.back_start), end=_dt(row.back_end),
                    person=row.requester, replaces=taker, note=note, by=me,
                )
            )  # fmt: skip
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        moved = await conn.execute(
            sa.update(schedule_swaps)
            .where(c.id == swap_id, c.state == "open")  # two takers at once: one wins
            .values(
                state=state, taker=taker if state != "canceled" else row.taker, decided_by=me, decided_at=now
            )
        )
        if moved.rowcount != 1:
            raise HTTPException(409, f"swap {swap_id} was decided meanwhile")
        for o in made:
            await add_extra(conn, schedule_overrides, ident, o, now)
        after = (await conn.execute(sa.select(schedule_swaps).where(c.id == swap_id))).one()
        changes = [Change(f"schedules.swap.{state}", "schedules", ident, _swap_json(row), _swap_json(after))]
        changes += [Change("schedules.override.create", "schedules", ident, None, o.model_dump(mode="json"))
                    for o in made]  # fmt: skip
        await record(conn, origin_of(request), changes, now)

        def decided(lang: str) -> str:
            return wording.swap_decided(lang, swap_id, ident, row.requester, after.taker, state, me)

        for person in {row.requester, after.taker} - {None}:
            rows = notice_rows(deps.catalog, f"swap:{swap_id}:{state}", "swap", ident, str(person), decided)
            await queue(conn, deps.db.dialect, rows, now)
    deps.wake()
    await deps.refresh_catalog(force=True)
    return _swap_json(after)


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


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

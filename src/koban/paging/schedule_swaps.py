"""Shift swaps, by the same rules through the REST API and the schedule page (docs/schedules.md).

A swap is asked for by the person whose shift it is (a manager may ask on anyone's behalf), for
[start, end), to a named taker or open to the team; optionally with a shift of the taker's given back
(``back_start``/``back_end``). It is then **taken** by the taker (or, when open, anyone of the team
with the responder role) or **approved** by a manager naming the taker. Taking or approving writes
the overrides it amounts to (``swap-<id>``, ``swap-<id>-back``: API overrides, kept by config apply)
in the same transaction as the swap's new state, its audit entry and a notice to both people
(``schedule_notices.py``: through each person's ``notify`` channels, at most once per key).

Refusals are ``SwapRefused`` (an HTTP status and the words): each door shows them its own way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import Field, model_validator

from koban.auth.audit import Change, Origin, record
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.catalog.schedule_extras import add_extra
from koban.config.base import Strict
from koban.config.model_schedules import Override, Schedule
from koban.core.clock import Clock
from koban.db.engine import Database
from koban.db.schema_schedules import schedule_overrides, schedule_swaps
from koban.paging.schedule_notices import notice_rows, queue
from koban.schedules import wording
from koban.schedules.build import resolved

STATES = ("taken", "approved", "canceled")  # what an open swap may become


class SwapDeps(Protocol):
    """What both doors hand in (the REST routes' deps, the pages' ``WebDeps``)."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def catalog(self) -> Any: ...

    def wake(self) -> None: ...

    async def refresh_catalog(self, force: bool = False) -> None: ...


class SwapRefused(Exception):
    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


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


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def swap_json(r: Any) -> dict[str, Any]:
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


def _manager(who: Principal, sched: Schedule) -> bool:
    return decide(who, Need(Scope.MANAGE, sched.team)).allowed


def _on_call(catalog: Any, sched: Schedule, person: str, start: float, end: float) -> bool:
    return any(person in s.people for s in resolved(sched, start, end, catalog))


async def list_swaps(db: Database, ident: str, state: str | None = None) -> list[Any]:
    c = schedule_swaps.c
    query = sa.select(schedule_swaps).where(c.schedule_id == ident).order_by(c.id)
    if state is not None:
        query = query.where(c.state == state)
    async with db.read() as conn:
        return list(await conn.execute(query))


async def request_swap(
    deps: SwapDeps, origin: Origin, who: Principal, sched: Schedule, body: SwapRequest
) -> Any:
    """Store an open swap of ``sched``, audited; its named taker is told. Returns its row."""
    me, ident, catalog = who.person_id, sched.id, deps.catalog
    requester = body.requester or me
    if requester != me and not _manager(who, sched):
        raise SwapRefused(403, "a responder asks to swap only their own shift")
    unknown = [n for n in (requester, body.taker) if n is not None and n not in catalog.people]
    if unknown:
        raise SwapRefused(422, f"unknown person {unknown[0]!r}", "taker")
    if body.taker == requester:
        raise SwapRefused(422, "the taker is someone else")
    a, b = body.start.timestamp(), body.end.timestamp()
    if not _on_call(catalog, sched, requester, a, b):
        raise SwapRefused(422, f"{requester} is not on call in {ident} then")
    back = (
        (body.back_start.timestamp(), body.back_end.timestamp())
        if body.back_start and body.back_end
        else None
    )
    if back and body.taker and not _on_call(catalog, sched, body.taker, *back):
        raise SwapRefused(422, f"{body.taker} is not on call in {ident} during the shift given back")
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
            conn, origin, [Change("schedules.swap.request", "schedules", ident, None, swap_json(row))], now
        )
        if body.taker:
            note, tz, name = body.note or "", sched.timezone, sched.name or ident

            def text(lang: str) -> str:
                return wording.swap_requested(lang, requester, name, swap_id, a, b, tz, note)

            rows = notice_rows(catalog, f"swap:{swap_id}:open", "swap", ident, body.taker, text)
            await queue(conn, deps.db.dialect, rows, now)
    deps.wake()
    return row


def _taker(
    who: Principal, sched: Schedule, row: Any, state: str, taker: str | None, catalog: Any
) -> str | None:
    """Checks who may move ``row`` to ``state``; returns the taker (raises ``SwapRefused``)."""
    me = who.person_id
    if state == "taken":
        if row.taker not in (None, me) or me == row.requester:
            raise SwapRefused(403, f"swap {row.id} is for {row.taker or 'someone else'} to take")
        return me
    if state == "approved":
        if not _manager(who, sched):
            raise SwapRefused(403, "a manager of the schedule's team approves swaps")
        taker = taker or row.taker
        if taker is None or taker == row.requester or taker not in catalog.people:
            raise SwapRefused(422, "name the taker: someone else than the requester, a known person")
        return str(taker)
    if me != row.requester and not _manager(who, sched):
        raise SwapRefused(403, "only the requester or a manager cancels a swap")
    return taker


def _overrides(row: Any, taker: str, me: str) -> list[Override]:
    """The overrides a taken or approved swap amounts to."""
    note = f"swap {row.id}"
    made = [
        Override(
            id=f"swap-{row.id}", start=_dt(row.start), end=_dt(row.end), person=taker,
            replaces=row.requester, note=note, by=me,
        )
    ]  # fmt: skip
    if row.back_start is not None:
        made.append(
            Override(
                id=f"swap-{row.id}-back", start=_dt(row.back_start), end=_dt(row.back_end),
                person=row.requester, replaces=taker, note=note, by=me,
            )
        )  # fmt: skip
    return made


async def decide_swap(
    deps: SwapDeps,
    origin: Origin,
    who: Principal,
    sched: Schedule,
    swap_id: int,
    state: str,
    taker: str | None,
) -> Any:
    """Move an open swap to ``state``; taken or approved, write its overrides and tell both people."""
    if state not in STATES:
        raise SwapRefused(422, f"a swap is {', '.join(STATES)}")
    ident, c = sched.id, schedule_swaps.c
    async with deps.db.read() as conn:
        row = (
            await conn.execute(sa.select(schedule_swaps).where(c.id == swap_id, c.schedule_id == ident))
        ).first()
    if row is None:
        raise SwapRefused(404, f"schedules/{ident} has no swap {swap_id}")
    me = who.person_id
    taker = _taker(who, sched, row, state, taker, deps.catalog)
    if row.state != "open":
        raise SwapRefused(409, f"swap {swap_id} is {row.state}")
    made = _overrides(row, taker, me) if state in ("taken", "approved") and taker else []
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
            raise SwapRefused(409, f"swap {swap_id} was decided meanwhile")
        for o in made:
            await add_extra(conn, schedule_overrides, ident, o, now)
        after = (await conn.execute(sa.select(schedule_swaps).where(c.id == swap_id))).one()
        changes = [Change(f"schedules.swap.{state}", "schedules", ident, swap_json(row), swap_json(after))]
        changes += [Change("schedules.override.create", "schedules", ident, None, o.model_dump(mode="json"))
                    for o in made]  # fmt: skip
        await record(conn, origin, changes, now)

        def decided(lang: str) -> str:
            return wording.swap_decided(lang, swap_id, ident, row.requester, after.taker, state, me)

        for person in {row.requester, after.taker} - {None}:
            rows = notice_rows(deps.catalog, f"swap:{swap_id}:{state}", "swap", ident, str(person), decided)
            await queue(conn, deps.db.dialect, rows, now)
    deps.wake()
    await deps.refresh_catalog(force=True)
    return after

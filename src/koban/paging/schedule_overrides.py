"""Adding an override to a schedule, by the same rules through the REST API and the schedule page.

A manager of the schedule's team may add any override; a responder may hand over their own shift
only: an override that replaces (or removes) themselves, while they are on call. Overrides made this
way live beside the file's definition (``catalog/schedule_extras.py``), so ``koban config apply``
keeps them; each change is audited with the schedule's API overrides before and after.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.catalog.schedule_extras import add_extra, remove_extra
from koban.config.model_schedules import Override, Schedule
from koban.db.schema_schedules import schedule_overrides
from koban.schedules.build import resolved
from koban.schedules.model import Override as Shift


def own_shift(who: str, o: Override) -> bool:
    return (o.kind == "replace" and o.replaces == who) or (o.kind == "remove" and o.person == who)


def refusal(
    who: Principal, sched: Schedule, body: Override, catalog: Any, shifts: Sequence[Shift] = ()
) -> tuple[int, str] | None:
    """Why ``who`` may not add ``body`` to ``sched`` (an HTTP status and the words), or None.
    ``shifts``: what imported calendars put in the schedule then (``on_call.calendar_shifts_of``)."""
    if not decide(who, Need(Scope.MANAGE, sched.team)).allowed:
        if not own_shift(who.person_id, body):
            return 403, "a responder hands over only their own shift: replaces (or remove) yourself"
        slots = resolved(sched, body.start.timestamp(), body.end.timestamp(), catalog, list(shifts))
        if not any(who.person_id in s.people for s in slots):
            return 403, f"{who.person_id} is not on call in {sched.id} then"
    unknown = [n for n in (body.person, body.replaces) if n is not None and n not in catalog.people]
    if unknown:
        return 422, f"unknown person {unknown[0]!r}"
    taken = {o.id for o in sched.overrides} | {o.id for o in catalog.schedule_overrides.get(sched.id, ())}
    if body.id and body.id in taken:
        return 409, f"override {body.id!r} exists"
    return None


def made_by(body: Override, who: str) -> Override:
    """The override as stored: with an id (a new one unless given) and its author."""
    return body.model_copy(update={"id": body.id or f"o-{secrets.token_hex(4)}", "by": who})


async def store_overrides(
    conn: AsyncConnection,
    origin: Origin,
    now: float,
    catalog: Any,
    ident: str,
    change: tuple[list[Override], list[str]],
    action: str,
    extra: list[Change],
) -> None:
    """Add and remove API overrides of ``ident`` (``change``: added, ids dropped), audited with the
    schedule's API overrides before and after (plus ``extra`` entries, e.g. the swap that made them)."""
    add, drop = change
    before = [o.model_dump(mode="json") for o in catalog.schedule_overrides.get(ident, ())]
    for o in add:
        await add_extra(conn, schedule_overrides, ident, o, now)
    for o_id in drop:
        await remove_extra(conn, schedule_overrides, ident, o_id)
    after = [o for o in before if o["id"] not in drop] + [o.model_dump(mode="json") for o in add]
    entry = Change(action, "schedules", ident, {"overrides": before}, {"overrides": after})
    await record(conn, origin, [entry, *extra], now)

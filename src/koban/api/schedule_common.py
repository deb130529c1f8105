"""What the schedule routes share (api/schedules.py, schedule_swaps.py, calendar_feeds.py): query
times, a slot's JSON shape, the schedule named in a path, and the shifts imported calendars give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, Request

from koban.api.deps import deps_of
from koban.config.model_schedules import Schedule
from koban.core.local_time import local, zone
from koban.paging.on_call import calendar_shifts_of
from koban.schedules.model import Override as Shift
from koban.schedules.model import Slot


def _instant(value: datetime | None, default: float) -> float:
    """A query time: ISO 8601 (UTC without an offset) or epoch seconds; absent: ``default``."""
    if value is None:
        return default
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def slot_json(s: Slot, tz: str) -> dict[str, Any]:
    return {
        "start": _iso(s.start),
        "end": _iso(s.end),
        "start_local": local(s.start, zone(tz)).isoformat(),
        "end_local": local(s.end, zone(tz)).isoformat(),
        "people": list(s.people),
        "gap": s.gap,
        "source": s.source,
        "layer": s.layer,
        "overrides": list(s.overrides),
    }


async def calendar_shifts(
    request: Request, schedules: list[str], start: float, end: float
) -> dict[str, list[Shift]]:
    """What imported calendars put in ``schedules`` over [start, end) (docs/calendars.md): applied
    first, under the file's and the API's overrides, as when paging."""
    deps = deps_of(request)
    wanted = set(schedules)
    if not any(c.schedule in wanted for c in deps.catalog.calendars.values()):
        return {}  # no calendar fills them: no query
    async with deps.db.read() as conn:
        return await calendar_shifts_of(conn, deps.catalog, wanted, start, end)


async def _schedule(request: Request, ident: str) -> Schedule:
    deps = deps_of(request)
    await deps.refresh_catalog()
    sched = deps.catalog.schedules.get(ident)
    if sched is None:
        raise HTTPException(404, f"schedules/{ident} does not exist")
    return sched


def unknown_people(request: Request, names: list[str | None]) -> list[str]:
    people = deps_of(request).catalog.people
    return [n for n in names if n is not None and n not in people]

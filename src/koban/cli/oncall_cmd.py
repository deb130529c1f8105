"""``koban oncall [--at T] [--schedule S] [--team T] [--days N]``: who is on call, from the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import typer

from koban.catalog.snapshot import Catalog
from koban.cli.runtime import open_system, settings_or_exit
from koban.config.model_schedules import Schedule
from koban.core.local_time import local, zone
from koban.paging.on_call import HORIZON, calendar_shifts_of
from koban.schedules.build import on_call, resolved
from koban.schedules.model import Override, Slot


def _when(text: str | None) -> float | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: an ISO 8601 time, like 2026-03-08T02:30:00+01:00") from None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def _line(s: Schedule, slot: Slot) -> str:
    tz = zone(s.timezone)
    who = ", ".join(slot.people) or "nobody (gap)"
    span = f"{local(slot.start, tz):%Y-%m-%d %H:%M} to {local(slot.end, tz):%Y-%m-%d %H:%M} {s.timezone}"
    return f"{s.id:<20} {who:<24} {span}  [{slot.source}]"


def oncall(
    at: str = typer.Option(None, help="ISO 8601 time (UTC without an offset); default now"),
    schedule: str = typer.Option(None, help="Only this schedule"),
    team: str = typer.Option(None, help="Only this team's schedules"),
    days: int = typer.Option(0, help="Also list the shifts of the next N days"),
) -> None:
    """Who is on call, per schedule (layers and overrides, docs/schedules.md)."""

    async def main() -> tuple[Catalog, float, dict[str, list[Override]]]:
        async with open_system(settings_or_exit()) as system:
            await system.refresh_catalog(force=True)
            when = _when(at) or system.clock.now()
            # Imported calendars' shifts count, as when paging (docs/calendars.md).
            async with system.db.read() as conn:
                ids = list(system.catalog.schedules)
                a, b = when - HORIZON, when + max(HORIZON, days * 86400.0)
                shifts = await calendar_shifts_of(conn, system.catalog, ids, a, b)
            return system.catalog, when, shifts

    catalog, when, shifts = asyncio.run(main())
    chosen = [
        s
        for s in catalog.schedules.values()
        if (not schedule or s.id == schedule) and (not team or s.team == team)
    ]
    if not chosen:
        typer.echo("no schedule" + (f" {schedule!r}" if schedule else ""), err=True)
        raise typer.Exit(1)
    for s in chosen:
        extra = shifts.get(s.id, ())
        typer.echo(_line(s, on_call(s, when, catalog, HORIZON, before=extra)))
        if days > 0:
            for slot in resolved(s, when, when + days * 86400.0, catalog, extra)[1:]:
                typer.echo("  then " + _line(s, slot))

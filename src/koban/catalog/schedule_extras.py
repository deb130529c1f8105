"""What people add to schedules through the API, kept beside the file's definition.

Overrides and temporary schedules made through the REST API live in tables of their own (db/
schema_schedules.py), not in the schedule's definition, so that ``koban config apply`` of a file that
does not know them keeps them; they go only with their schedule. The catalog holds them per schedule,
oldest first: they apply after the file's own overrides, in the order they were made.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.config.model_schedules import Override, Temporary
from koban.db.schema_schedules import schedule_overrides, schedule_temporaries

EXTRA_TABLES = (schedule_overrides, schedule_temporaries)


async def load_overrides(conn: AsyncConnection) -> dict[str, tuple[Override, ...]]:
    out: dict[str, list[Override]] = defaultdict(list)
    c = schedule_overrides.c
    for r in await conn.execute(sa.select(schedule_overrides).order_by(c.created_at, c.id)):
        out[r.schedule_id].append(Override.model_validate(r.definition))
    return {k: tuple(v) for k, v in out.items()}


async def load_temporaries(conn: AsyncConnection) -> dict[str, tuple[Temporary, ...]]:
    out: dict[str, list[Temporary]] = defaultdict(list)
    c = schedule_temporaries.c
    for r in await conn.execute(sa.select(schedule_temporaries).order_by(c.created_at, c.id)):
        out[r.schedule_id].append(Temporary.model_validate(r.definition))
    return {k: tuple(v) for k, v in out.items()}


async def drop_with_schedule(conn: AsyncConnection, schedule_id: str) -> None:
    """A schedule removed from the file takes what the API added to it along."""
    for table in EXTRA_TABLES:
        await conn.execute(sa.delete(table).where(table.c.schedule_id == schedule_id))


async def add_extra(
    conn: AsyncConnection, table: sa.Table, schedule_id: str, obj: Override | Temporary, now: float
) -> None:
    values = {"schedule_id": schedule_id, "id": obj.id, "definition": obj.model_dump(mode="json")}
    await conn.execute(sa.insert(table).values(created_at=now, **values))


async def remove_extra(conn: AsyncConnection, table: sa.Table, schedule_id: str, ident: str) -> bool:
    c = table.c
    gone = await conn.execute(sa.delete(table).where(c.schedule_id == schedule_id, c.id == ident))
    return bool(gone.rowcount)

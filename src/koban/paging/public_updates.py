"""An incident's public updates: what responders tell the public about it, for the status pages
(docs/web.md). The REST route and the incident page's form both come here, so both write the same
rows, the same timeline entry and the same audit entry, in one transaction.

The status pages read an incident only through these rows: its summary, labels and timeline stay
internal, and so does who wrote an update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.db import schema as t
from koban.db.engine import Database
from koban.db.schema_status import incident_public_updates as pu

PublicStatus = Literal["investigating", "identified", "monitoring", "resolved"]
STATUSES: tuple[str, ...] = get_args(PublicStatus)
MAX_MESSAGE = 2000
PER_INCIDENT = 50  # a status page shows the newest ones


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    id: int
    incident_id: int
    status: str
    message: str
    created_at: float
    created_by: str | None


class NoIncident(LookupError):
    pass


def check(status: str, message: str) -> str | None:
    """What is wrong with an update, in words, or None."""
    if status not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    if not message.strip():
        return "write a message for the public"
    if len(message) > MAX_MESSAGE:
        return f"a message is at most {MAX_MESSAGE} characters"
    return None


async def exists(conn: AsyncConnection, incident_id: int) -> bool:
    found = await conn.execute(sa.select(t.incidents.c.id).where(t.incidents.c.id == incident_id))
    return found.first() is not None


async def add_update(
    db: Database, incident_id: int, status: str, message: str, origin: Origin, now: float
) -> PublicUpdate:
    """Store one update (``check`` it first). Raises NoIncident."""
    message = message.strip()
    async with db.begin() as conn:
        if not await exists(conn, incident_id):
            raise NoIncident(f"incident {incident_id} does not exist")
        values = {
            "incident_id": incident_id,
            "status": status,
            "message": message,
            "created_at": now,
            "created_by": origin.actor,
        }
        new_id = (await conn.execute(sa.insert(pu).values(**values).returning(pu.c.id))).scalar_one()
        await conn.execute(
            sa.insert(t.timeline).values(
                incident_id=incident_id,
                at=now,
                kind="public_update",
                actor=origin.actor,
                via=origin.via.value,
                data={"status": status, "message": message},
            )
        )
        after = {"status": status, "message": message}
        await record(
            conn, origin, [Change("incident.public_update", "incidents", str(incident_id), None, after)], now
        )
    return PublicUpdate(new_id, incident_id, status, message, now, origin.actor)


async def updates_of(conn: AsyncConnection, incident_ids: Sequence[int]) -> dict[int, list[PublicUpdate]]:
    """Each incident's updates, newest first (at most ``PER_INCIDENT``)."""
    out: dict[int, list[PublicUpdate]] = {}
    ids = list(incident_ids)
    for i in range(0, len(ids), 500):
        q = sa.select(pu).where(pu.c.incident_id.in_(ids[i : i + 500])).order_by(pu.c.id.desc())
        for r in await conn.execute(q):
            mine = out.setdefault(r.incident_id, [])
            if len(mine) < PER_INCIDENT:
                mine.append(
                    PublicUpdate(r.id, r.incident_id, r.status, r.message, r.created_at, r.created_by)
                )
    return out


async def published_incidents(conn: AsyncConnection, services: Sequence[str], since: float) -> list[sa.Row]:
    """The services' incidents with a public update that are open or were resolved after ``since``:
    the ones a status page may show (id, service, key, status, created_at, resolved_at; nothing else)."""
    c = t.incidents.c
    with_update = sa.select(pu.c.incident_id).distinct().scalar_subquery()
    q = sa.select(c.id, c.service_id, c.incident_key, c.status, c.created_at, c.resolved_at).where(
        c.service_id.in_(list(services)),
        c.id.in_(with_update),
        sa.or_(c.resolved_at.is_(None), c.resolved_at >= since),
    )
    return list((await conn.execute(q.order_by(c.created_at.desc(), c.id.desc()).limit(200))).all())

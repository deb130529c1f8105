"""Creating an iCal feed URL of on-call shifts (``/cal/<token>.ics``): for the REST API
(``POST /api/v1/feeds``) and the on-call page's "my calendar link" alike.

The URL is an unguessable token, shown once: only its SHA-256 is stored, and revoking the row ends
it. Who may create which feed is the caller's check; this writes the row and its audit entry.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.db.schema_schedules import calendar_feeds as feeds


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_feed(
    conn: AsyncConnection,
    origin: Origin,
    now: float,
    *,
    created_by: str,
    schedule: str | None = None,
    person: str | None = None,
    alarm_minutes: int | None = None,
) -> tuple[int, str]:
    """The new feed's id and its URL path (the only time the token is known)."""
    token = secrets.token_urlsafe(32)
    values = {
        "schedule_id": schedule,
        "person_id": person,
        "alarm_minutes": alarm_minutes,
        "token_hash": digest(token),
        "created_by": created_by,
        "created_at": now,
    }
    ident = (await conn.execute(sa.insert(feeds).values(**values).returning(feeds.c.id))).scalar_one()
    after: dict[str, Any] = {"schedule": schedule, "person": person, "alarm_minutes": alarm_minutes}
    await record(conn, origin, [Change("feeds.create", "feeds", str(ident), None, after)], now)
    return int(ident), f"/cal/{token}.ics"

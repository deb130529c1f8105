"""Channels found unusable (archived Slack channel, revoked token): marked once, shown, skipped.

A channel's send answers PERMANENT with ``channel_broken``; the delivery's recording transaction marks
the row here, every instance's catalog picks it up through the ``broken_at`` fingerprint, and later
pages through it fail at once (so the escalation moves on) instead of hammering the vendor. Applying a
changed channel config clears the mark (``catalog/apply.py``); so does ``clear_broken``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.db import schema as t


async def mark_broken(conn: AsyncConnection, channel_id: str, reason: str, now: float) -> bool:
    """Keep the first reason (and its time): later failures are consequences of it."""
    c = t.channels.c
    res = await conn.execute(
        sa.update(t.channels)
        .where(c.id == channel_id, c.broken_reason.is_(None))
        .values(broken_reason=reason[:2000], broken_at=now)
    )
    return res.rowcount == 1


async def clear_broken(conn: AsyncConnection, channel_id: str) -> bool:
    c = t.channels.c
    res = await conn.execute(
        sa.update(t.channels)
        .where(c.id == channel_id, c.broken_reason.is_not(None))
        .values(broken_reason=None, broken_at=None)
    )
    return res.rowcount == 1


async def repair(conn: AsyncConnection, origin: Origin, now: float, channel_id: str) -> bool:
    """Clear the mark once the vendor side is fixed (REST and the channels page), audited."""
    cleared = await clear_broken(conn, channel_id)
    if cleared:
        change = Change("channels.repair", "channels", channel_id, None, {"broken": False})
        await record(conn, origin, [change], now)
    return cleared


async def channel_states(conn: AsyncConnection) -> list[dict[str, Any]]:
    c = t.channels.c
    rows = await conn.execute(sa.select(c.id, c.type, c.broken_reason, c.broken_at).order_by(c.id))
    return [
        {
            "id": r.id,
            "type": r.type,
            "broken": r.broken_reason is not None,
            "reason": r.broken_reason,
            "broken_at": r.broken_at,
        }
        for r in rows
    ]

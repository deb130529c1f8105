"""How a channel's recent deliveries went, for the channels page: the last one and how many of the
last few failed. Read through ``ix_deliveries_channel`` (channel, id), newest first, so a busy
channel costs a bounded index range, never a scan of the deliveries table."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t

RECENT = 50  # deliveries looked at per channel
FAILED = ("failed", "not_reached", "in_doubt")


@dataclass(frozen=True, slots=True)
class Outcomes:
    last_state: str
    last_error: str | None
    last_at: float
    failed: int  # of the ``looked_at`` newest
    looked_at: int


async def recent_outcomes(conn: AsyncConnection, channel_ids: list[str]) -> dict[str, Outcomes]:
    """Only channels that have delivered something appear; one short indexed query per channel
    (a settings page lists tens of channels, not thousands)."""
    d = t.deliveries.c
    out: dict[str, Outcomes] = {}
    for ident in channel_ids:
        q = (
            sa.select(d.state, d.error, d.created_at, d.settled_at, d.sent_at)
            .where(d.channel_id == ident)
            .order_by(d.id.desc())
            .limit(RECENT)
        )
        rows = (await conn.execute(q)).all()
        if not rows:
            continue
        last = rows[0]
        at = last.settled_at or last.sent_at or last.created_at
        failed = sum(1 for r in rows if r.state in FAILED)
        out[ident] = Outcomes(last.state, last.error, at, failed, len(rows))
    return out

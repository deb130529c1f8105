"""Per-integration rate limits and daily quotas, counted in the database so they hold across instances.

The decision is ``koban.routing.ratelimit.decide`` (pure); this module carries it out inside the
ingest batch's transaction: lock the batch's counter rows (PostgreSQL ``FOR UPDATE``; SQLite has
one writer), decide every request of the batch in arrival order, write the new counts back. The
limit is therefore exact across instances, and costs one round of statements per batch rather
than per request.

``LimitGate`` adds a local pre-check that never needs the database: counts only grow within a
window, so once this instance has seen a window full, every request in it is refused at once
until the window resets. A client hammering an exhausted key never reaches the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.routing.ratelimit import CounterWindow, Decision, Limits, decide, windows

SWEEP_EVERY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Ask:
    """One request's claim on a key's limits: ``cost`` alerts."""

    key: str
    limits: Limits
    cost: int


class RateLimited(Exception):
    kind = "rate limit"  # the reason label of koban_alerts_rejected_total

    def __init__(self, retry_after: int, reason: str) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.reason = reason


def row_id(counter_id: str) -> tuple[str, int]:
    """``"web:m:29000000"`` → ``("web:m", 29000000)``; a day window's ISO date becomes its ordinal."""
    prefix, _, tail = counter_id.rpartition(":")
    window = date.fromisoformat(tail).toordinal() if "-" in tail else int(tail)
    return prefix, window


def _dt(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


class LimitGate:
    """Remembers windows this instance saw full; the database keeps the authoritative counts."""

    def __init__(self) -> None:
        self.full: dict[str, float] = {}  # counter id -> epoch when its window resets
        self.last_sweep = 0.0

    def precheck(self, key: str, limits: Limits, now: float) -> RateLimited | None:
        hit = [w for w in windows(key, limits, _dt(now)) if w.counter_id in self.full]
        if not hit:
            return None
        resets = max(w.resets_at.timestamp() for w in hit)
        names = ", ".join(w.counter_id.split(":")[-2] for w in hit)
        return RateLimited(max(1, math.ceil(resets - now)), f"rate limit exceeded ({names}) for {key}")

    def _remember(self, full: Sequence[CounterWindow], now: float) -> None:
        for w in full:
            self.full[w.counter_id] = w.resets_at.timestamp()
        if len(self.full) > 1000:
            self.full = {c: r for c, r in self.full.items() if r > now}

    async def admit(
        self, conn: AsyncConnection, dialect: str, asks: Sequence[Ask | None], now: float
    ) -> list[Decision | None]:
        """Decide each ask in order against the shared counters and record what was allowed."""
        wanted = {w.counter_id: w for a in asks if a for w in windows(a.key, a.limits, _dt(now))}
        if not wanted:
            return [None] * len(asks)
        counts = await _lock_counts(conn, dialect, sorted(wanted.values(), key=lambda w: w.counter_id))
        before = dict(counts)
        out: list[Decision | None] = []
        for ask in asks:
            if ask is None:
                out.append(None)
                continue
            d = decide(ask.key, ask.limits, counts, _dt(now), ask.cost)
            for cid, inc in d.increments.items():
                counts[cid] = counts.get(cid, 0) + inc
            out.append(d)
        changed = [cid for cid in wanted if counts.get(cid, 0) != before.get(cid, 0)]
        if changed:
            await conn.execute(
                sa.update(t.counters)
                .where(t.counters.c.key == sa.bindparam("k"), t.counters.c.window == sa.bindparam("w"))
                .values(count=sa.bindparam("c")),
                [{"k": row_id(cid)[0], "w": row_id(cid)[1], "c": counts[cid]} for cid in changed],
            )
        self._remember([w for cid, w in wanted.items() if counts.get(cid, 0) >= w.limit], now)
        if now - self.last_sweep > SWEEP_EVERY_SECONDS:
            self.last_sweep = now
            await conn.execute(sa.delete(t.counters).where(t.counters.c.expires_at < now))
        return out


async def _lock_counts(conn: AsyncConnection, dialect: str, ws: Sequence[CounterWindow]) -> dict[str, int]:
    """Make sure every row exists, then read (and on PostgreSQL lock) them in one fixed order."""
    rows = [
        {"key": row_id(w.counter_id)[0], "window": row_id(w.counter_id)[1], "count": 0}
        | {"expires_at": w.resets_at.timestamp()}
        for w in ws
    ]
    insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t.counters)
    await conn.execute(insert.on_conflict_do_nothing(), rows)
    keys = {r["key"] for r in rows}
    q = (
        sa.select(t.counters.c.key, t.counters.c.window, t.counters.c.count)
        .where(t.counters.c.key.in_(keys), t.counters.c.window.in_({r["window"] for r in rows}))
        .order_by(t.counters.c.key, t.counters.c.window)
    )
    if dialect == "postgresql":
        q = q.with_for_update()
    found = {(k, w): c for k, w, c in await conn.execute(q)}
    return {w.counter_id: found.get(row_id(w.counter_id), 0) for w in ws}

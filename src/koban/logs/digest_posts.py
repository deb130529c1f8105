"""A digest's outbox: one ``digest_posts`` row per (digest, window, channel), sent like a page.

The run writes its rows with its numbers, in one transaction, already leased to itself and marked
``sending``, and posts them at once (``send_rows``). Whatever is left (a retry, a crash mid-post)
is claimed by any instance's worker with a lease (``db/queue.claim``, ``send_due``), posted and
recorded only while the lease is still held, as ``paging/delivery.py`` does for pages; what each
answer makes of the row is ``post_rules``. When a run's last post settles, the run becomes
``posted`` or ``failed`` (once: a conditional update), and its service is told (``emit``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.channels.base import DeliveryResult
from koban.db.engine import Database
from koban.db.queue import claim
from koban.db.schema_logs import digest_posts as dp
from koban.db.schema_logs import digest_runs
from koban.logs import posting
from koban.logs.post_rules import after_post, on_claim, posts_shown, run_status
from koban.paging.delivery_rules import DeliveryState

log = logging.getLogger("koban.logs.digests")
# Longer than any one post takes (outbound's 10 s, SMTP's timeout per phase), so it is never
# renewed: a digest is not urgent, and an instance that died mid-post leaves it for two minutes.
LEASE = 120.0
CLAIM = 20

Settled = Callable[[str, int, str, str | None], Awaitable[None]]  # (digest, run, status, error)


def key_of(digest_id: str, window_start: float, channel_id: str) -> str:
    return f"{digest_id}:{window_start:.0f}:{channel_id}"


async def queue(
    conn: AsyncConnection, run_id: int, digest_id: str, window_start: float,
    payloads: Mapping[str, tuple[str, dict[str, Any]]], owner: str, now: float,
    refused: Mapping[str, tuple[str, str]] = {},
) -> list[dict[str, Any]]:  # fmt: skip
    """In the run's transaction: a row per channel (``payloads``: channel -> (type, payload)), leased
    to ``owner`` and marked sending, for the run to post at once; those to post (the rows returned).
    A channel that cannot take the digest at all (``refused``: channel -> (type, why)) gets a failed
    row, so the run shows it with the others."""
    failed = [
        {"key": key_of(digest_id, window_start, ch), "run_id": run_id, "digest_id": digest_id,
         "channel_id": ch, "channel_type": kind, "payload": {}, "state": DeliveryState.FAILED,
         "attempts": 0, "meta": {}, "created_at": now, "settled_at": now, "error": why}
        for ch, (kind, why) in refused.items()
    ]  # fmt: skip
    if failed:
        await conn.execute(sa.insert(dp), failed)
    rows = [
        {"key": key_of(digest_id, window_start, ch), "run_id": run_id, "digest_id": digest_id,
         "channel_id": ch, "channel_type": kind, "payload": payload, "state": DeliveryState.SENDING,
         "attempts": 0, "meta": {}, "created_at": now, "due_at": now, "lease_owner": owner,
         "lease_until": now + LEASE}
        for ch, (kind, payload) in payloads.items()
    ]  # fmt: skip
    if not rows:
        return []
    result = await conn.execute(sa.insert(dp).returning(*dp.c), rows)
    # Stored as sending (a crash before the answer leaves them in doubt); to this run they are new.
    return [dict(r._mapping) | {"state": DeliveryState.PENDING} for r in result]


async def send_rows(
    db: Database,
    channels: Mapping[str, Any],
    rows: list[dict[str, Any]],
    owner: str,
    now: Callable[[], float],
) -> None:
    for row in rows:
        ch = channels.get(row["channel_id"])
        if ch is None or ch.type != row["channel_type"]:
            result = DeliveryResult.permanent(
                f"channel {row['channel_id']} is no longer a {row['channel_type']}"
            )
        else:
            result = on_claim(row["state"], row["channel_type"]) or await _post(ch, row)
        decided = after_post(row["channel_type"], row["attempts"], row["meta"], result, now())
        values = decided.values | {"attempts": row["attempts"] + 1}
        async with db.begin() as conn:
            await conn.execute(
                sa.update(dp).where(dp.c.id == row["id"], dp.c.lease_owner == owner).values(**values)
            )


async def _post(ch: Any, row: Mapping[str, Any]) -> DeliveryResult:
    try:
        return await posting.send(ch.type, ch.settings(), row["payload"], row["key"])
    except Exception as exc:  # a bug in one post must not stop the others: retried
        log.exception("digest post %s failed", row["key"])
        return DeliveryResult.transient(f"{type(exc).__name__}: {exc}")


async def settle(db: Database, run_id: int, now: float) -> tuple[str, str | None] | None:
    """The run's final status once every post has settled, if this call is the one that set it."""
    async with db.begin() as conn:
        posts = [
            (r.channel_id, r.state, r.error)
            for r in await conn.execute(
                sa.select(dp.c.channel_id, dp.c.state, dp.c.error)
                .where(dp.c.run_id == run_id)
                .order_by(dp.c.id)
            )
        ]
        final = run_status(posts)
        values: dict[str, Any] = {"posts": posts_shown(posts)}
        if final is not None:
            values |= {"status": final[0], "error": final[1], "finished_at": now}
        changed = await conn.execute(
            sa.update(digest_runs)
            .where(digest_runs.c.id == run_id, digest_runs.c.status == "posting")
            .values(**values)
        )
    return final if final is not None and changed.rowcount else None


async def send_due(db: Database, channels: Mapping[str, Any], dialect: str, owner: str,
                   now: Callable[[], float], settled: Settled | None = None) -> int:  # fmt: skip
    """Claim the posts due (retries, and those a crash left), post them, settle their runs."""
    async with db.begin() as conn:
        rows = await claim(conn, dp, dialect=dialect, owner=owner, now=now(), lease=LEASE, limit=CLAIM)
        pending = [r["id"] for r in rows if r["state"] == DeliveryState.PENDING]
        if pending:  # a crash from here on leaves them "sending": in doubt, never posted blind twice
            await conn.execute(sa.update(dp).where(dp.c.id.in_(pending)).values(state=DeliveryState.SENDING))
    if not rows:
        return 0
    await send_rows(db, channels, rows, owner, now)
    for run_id, digest_id in sorted({(r["run_id"], r["digest_id"]) for r in rows}):
        final = await settle(db, run_id, now())
        if final is not None and settled is not None:
            await settled(digest_id, run_id, *final)
    return len(rows)


async def posts_of(db: Database, run_id: int) -> list[dict[str, Any]]:
    """What a run's page shows of its posts."""
    cols = (dp.c.channel_id, dp.c.channel_type, dp.c.state, dp.c.attempts, dp.c.error, dp.c.sent_at,
            dp.c.due_at, dp.c.created_at)  # fmt: skip
    async with db.read() as conn:
        rows = await conn.execute(sa.select(*cols).where(dp.c.run_id == run_id).order_by(dp.c.id))
        return [dict(r._mapping) for r in rows]

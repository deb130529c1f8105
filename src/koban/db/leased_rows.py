"""Claim due rows of a table with a lease, then handle each in its own transaction.

Groups and heartbeats are both "a row with a due time that any instance may act on": claiming in
one short transaction and handling row by row keeps one bad row from holding up the rest (its
lease runs out and the next claim retries it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.db.queue import claim

if TYPE_CHECKING:
    from koban.bootstrap.system import Kernel

log = logging.getLogger("koban.worker")


async def run_due_rows(
    k: Kernel,
    table: sa.Table,
    handle: Callable[[Kernel, dict[str, Any]], Awaitable[None]],
    *,
    what: str,
    limit: int = 100,
) -> int:
    async with k.db.begin() as conn:
        rows = await claim(
            conn,
            table,
            dialect=k.db.dialect,
            owner=k.owner,
            now=k.clock.now(),
            lease=k.settings.lease_seconds,
            limit=limit,
        )
    for row in rows:
        try:
            await handle(k, dict(row))
        except Exception:
            log.exception("%s %s failed", what, row.get("group_key", row["id"]))
    return len(rows)

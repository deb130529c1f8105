"""Claim due rows of a table with a lease, then handle each in its own transaction.

Groups and heartbeats are both "a row with a due time that any instance may act on": claiming in
one short transaction and handling row by row keeps one bad row from holding up the rest (its
lease runs out and the next claim retries it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database
from koban.db.queue import claim


class Leasing(Protocol):
    """What claiming with a lease needs: where, when, who, and for how long (``lease_seconds``)."""

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def owner(self) -> str: ...


D = TypeVar("D", bound=Leasing)

log = logging.getLogger("koban.worker")


async def run_due_rows(
    deps: D,
    table: sa.Table,
    handle: Callable[[D, dict[str, Any]], Awaitable[None]],
    *,
    what: str,
    limit: int = 100,
) -> int:
    async with deps.db.begin() as conn:
        rows = await claim(
            conn,
            table,
            dialect=deps.db.dialect,
            owner=deps.owner,
            now=deps.clock.now(),
            lease=deps.settings.lease_seconds,
            limit=limit,
        )
    for row in rows:
        try:
            await handle(deps, dict(row))
        except Exception:
            log.exception("%s %s failed", what, row.get("group_key", row["id"]))
    return len(rows)

"""Claim due rows of a table with a lease, then handle each in its own transaction.

Groups and heartbeats are both "a row with a due time that any instance may act on": claiming in
one short transaction and handling row by row keeps one bad row from holding up the rest (its
lease runs out and the next claim retries it).

``renewing`` keeps the leases of rows a caller is still working on (a notice or a report waiting on
a slow vendor, a log rule's query): leases are short (``lease_seconds``, 3 s) so that a dead
instance's work moves at once, and a live one must renew them so that it keeps its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database
from koban.db.queue import Key, claim, renew


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


@contextlib.asynccontextmanager
async def renewing(deps: Leasing, table: sa.Table, ids: Iterable[Key]) -> AsyncIterator[set[Key]]:
    """Renew the leases this instance holds on ``ids`` every third of ``lease_seconds`` until the
    block ends, so a merely slow instance keeps the rows it works on while a killed or frozen one
    (which stops renewing) loses them within a lease.

    Yields the set of ids still held: the caller discards a row once its work is recorded (its
    lease is then released, not renewed), and a row another instance has taken leaves the set
    (the ``lease_owner`` fence at record time drops our result on it anyway)."""
    held = set(ids)

    async def keep() -> None:
        while held:
            await asyncio.sleep(deps.settings.lease_seconds / 3)
            wanted = set(held)
            try:
                async with deps.db.begin() as conn:
                    kept = await renew(
                        conn,
                        table,
                        owner=deps.owner,
                        ids=wanted,
                        now=deps.clock.now(),
                        lease=deps.settings.lease_seconds,
                    )
            except Exception:  # a database hiccup: the next round tries again, within the lease
                log.exception("renewing %d %s leases failed", len(wanted), table.name)
                continue
            held.difference_update(wanted - kept)

    keeper = asyncio.create_task(keep())
    try:
        yield held
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper

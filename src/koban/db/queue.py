"""Claiming due rows with a lease: the database is the queue.

PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on or take the same row.
SQLite: a single conditional UPDATE under ``BEGIN IMMEDIATE`` (one writer at a time by design).
A lease that runs out (its worker died) makes the row claimable again; whoever acts on a row must
still hold its lease when it commits (``lease_owner = me`` in the final UPDATE/DELETE), which fences
a worker that paused past its lease.

Leases are short (``lease_seconds``, 3 s) so a dead instance's work moves within seconds, and a
live worker ``renew``s the rows it is still working on (a send waiting on a slow vendor), so a slow
instance keeps its work: only one that stops renewing (killed, frozen) loses it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.bulk import dict_rows

Key = TypeVar("Key", int, str)  # a row's id: a serial, or the config id it is named by


async def claim(
    conn: AsyncConnection,
    table: sa.Table,
    *,
    dialect: str,
    owner: str,
    now: float,
    lease: float,
    limit: int,
    columns: Sequence[sa.ColumnElement[Any]] | None = None,
    exclude: Collection[int] = (),
    only: sa.ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """Lease up to ``limit`` due rows; returns ``columns`` of them (default: every column).

    ``exclude``: rows the caller is still working on: a renewal that came late must not make a
    worker claim (and send again) what it is sending. ``only``: a further condition on the rows
    (the pages a transaction has just made due, claimed in that transaction): the lease taken is
    the same as any other claim's."""
    c = table.c
    due = sa.and_(
        c.due_at.is_not(None), c.due_at <= now, sa.or_(c.lease_until.is_(None), c.lease_until < now)
    )
    if exclude:
        due = sa.and_(due, c.id.not_in(list(exclude)))
    if only is not None:
        due = sa.and_(due, only)
    pick = sa.select(c.id).where(due).order_by(c.due_at).limit(limit)
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        sa.update(table)
        .where(c.id.in_(pick.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(*(table.c if columns is None else columns))
    )
    return dict_rows(await conn.execute(stmt))


async def renew(
    conn: AsyncConnection, table: sa.Table, *, owner: str, ids: Collection[Key], now: float, lease: float
) -> set[Key]:
    """Extend the leases ``owner`` still holds on ``ids``; returns those it holds (a lease already
    taken by another instance is theirs: the fence at commit drops our work on it)."""
    if not ids:
        return set()
    c = table.c
    stmt = (
        sa.update(table)
        .where(c.id.in_(list(ids)), c.lease_owner == owner)
        .values(lease_until=now + lease)
        .returning(c.id)
    )
    return set((await conn.execute(stmt)).scalars())


async def next_due(conn: AsyncConnection, table: sa.Table) -> float | None:
    """When a row next becomes claimable: its due time, or the end of a lease someone holds on it.

    Counting leased rows as due now made an idle worker spin (claim nothing, look again) while its
    own sends were in flight, contending for SQLite's write lock with the very sends it waited on.
    """
    c = table.c
    ready = sa.case((c.lease_until > c.due_at, c.lease_until), else_=c.due_at)
    due: float | None = (
        await conn.execute(sa.select(sa.func.min(ready)).where(c.due_at.is_not(None)))
    ).scalar()
    return due


_DUE: dict[tuple[str, ...], Any] = {}


async def due_now(conn: AsyncConnection, tables: tuple[sa.Table, ...], now: float) -> set[str]:
    """Which tables have a claimable row, in one read: the worker opens a write transaction (and
    queues for SQLite's one write lock, ahead of ingest) only for those. Four empty claims per tick
    were most of an idle tick and slowed every ingest batch that queued behind them."""
    key = tuple(t.name for t in tables)
    stmt = _DUE.get(key)
    if stmt is None:
        now_p = sa.bindparam("now", type_=sa.Float)
        stmt = _DUE[key] = sa.select(
            *(
                sa.exists()
                .where(
                    t.c.due_at.is_not(None),
                    t.c.due_at <= now_p,
                    sa.or_(t.c.lease_until.is_(None), t.c.lease_until < now_p),
                )
                .label(t.name)
                for t in tables
            )
        )
    row = (await conn.execute(stmt, {"now": now})).one()
    return {name for name, hit in zip(key, row, strict=True) if hit}

"""Executemany with plain tuples: a Core statement compiled once per driver, rows bound by the driver.

SQLAlchemy's executemany processes every row's parameters in Python (``construct_params`` and each
type's bind processor): for the paging core's bulk rows (incidents, timeline, alerts, deliveries,
timers) that cost more than the driver's own work. Here the statement is compiled once per driver,
so the SQL is exactly what SQLAlchemy would send (identifier quoting, ``ON CONFLICT``, asyncpg's
``$n::TYPE`` casts); per row only the columns whose type has a bind processor (JSON, on either
database) still go through it, and ``exec_driver_sql`` hands the tuples to the driver as they are.

Rows are dicts, as ``conn.execute(stmt, rows)`` takes them; every row has the keys of the first
(a missing one raises ``KeyError``; SQLAlchemy refuses such a batch too). Column defaults are not
applied: name every NOT NULL column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

Rows = Sequence[dict[str, Any]]
_Plan = tuple[str, Callable[[Rows], list[tuple[Any, ...]]]]


def _plan(stmt: sa.Executable, dialect: Any) -> _Plan:
    # for_executemany: no implicit RETURNING of the new id (PostgreSQL adds one to a single INSERT).
    compiled = stmt.compile(dialect=dialect, for_executemany=True)  # type: ignore[attr-defined]
    names = compiled.positiontup
    if names is None:
        raise ValueError(f"{dialect.name}: bulk statements need a positional paramstyle")
    binds = [compiled.binds[n] for n in names]
    procs = [b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds]
    # A bindparam() without a value comes from each row; a literal in the statement (kind ==
    # 'escalate') is a constant, processed once here.
    from_row = [i for i, b in enumerate(binds) if b.required]
    template = [
        None if b.required else (p(b.effective_value) if p else b.effective_value)
        for b, p in zip(binds, procs, strict=True)
    ]
    row_procs = [(i, procs[i]) for i in from_row if procs[i] is not None]
    getter = itemgetter(*(binds[i].key for i in from_row))
    get = getter if len(from_row) > 1 else (lambda r: (getter(r),))  # itemgetter of one key: no tuple
    if len(from_row) == len(binds) and not row_procs:

        def rows_of(rows: Rows) -> list[tuple[Any, ...]]:
            return [get(r) for r in rows]

    elif len(from_row) == len(binds):

        def rows_of(rows: Rows) -> list[tuple[Any, ...]]:
            out = []
            for r in rows:
                v = list(get(r))
                for i, p in row_procs:
                    v[i] = p(v[i])
                out.append(tuple(v))
            return out

    else:

        def rows_of(rows: Rows) -> list[tuple[Any, ...]]:
            out = []
            for r in rows:
                v = template.copy()
                for i, x in zip(from_row, get(r), strict=True):
                    v[i] = x
                for i, p in row_procs:
                    v[i] = p(v[i])
                out.append(tuple(v))
            return out

    return compiled.string, rows_of


def dict_rows(result: Any) -> list[dict[str, Any]]:
    """A result's rows as plain dicts: ``dict(zip(keys, row))`` is about twice as fast as
    ``dict(row_mapping)`` (the worker turns thousands of claimed rows into dicts per burst)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


class Bulk:
    """One statement with named bind parameters, run as a driver-level executemany."""

    __slots__ = ("_build", "_plans")

    def __init__(self, build: Callable[[str], sa.Executable]) -> None:
        self._build = build  # dialect name -> statement (ON CONFLICT differs by dialect)
        self._plans: dict[tuple[str, str], _Plan] = {}

    async def run(self, conn: AsyncConnection, rows: Rows) -> CursorResult[Any] | None:
        if not rows:
            return None
        d = conn.dialect
        key = (d.name, d.driver)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _plan(self._build(d.name), d)
        sql, rows_of = plan
        return await conn.exec_driver_sql(sql, rows_of(rows))


class BulkInsert:
    """INSERT of whole rows; the columns are the first row's keys (one compiled plan per key set)."""

    __slots__ = ("table", "ignore_conflicts", "_by_columns")

    def __init__(self, table: sa.Table, *, ignore_conflicts: bool = False) -> None:
        self.table = table
        self.ignore_conflicts = ignore_conflicts
        self._by_columns: dict[tuple[str, ...], Bulk] = {}

    def _stmt(self, columns: tuple[str, ...], dialect: str) -> sa.Executable:
        values: dict[str, sa.BindParameter[Any]] = {c: sa.bindparam(c) for c in columns}
        if not self.ignore_conflicts:
            return sa.insert(self.table).values(values)
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(self.table).values(values)
        return ins.on_conflict_do_nothing()

    async def run(self, conn: AsyncConnection, rows: Rows) -> None:
        if not rows:
            return
        columns = tuple(rows[0])
        bulk = self._by_columns.get(columns)
        if bulk is None:
            bulk = self._by_columns[columns] = Bulk(lambda dialect: self._stmt(columns, dialect))
        await bulk.run(conn, rows)

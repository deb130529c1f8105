"""Driver-level SQL for the probe write paths (raw results, latest, rollups).

Thousands of rows per second go to the database as plain tuples with statements written once per
dialect: SQLAlchemy's per-row parameter processing (binds, type processors, JSON serialization)
cost more than the inserts themselves. Callers encode JSON columns themselves (a string works for
SQLite's TEXT and for asyncpg's json codec as SQLAlchemy sets it up).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache


@cache
def driver_insert(dialect: str, table: str, columns: Sequence[str], conflict: Sequence[str] = ()) -> str:
    """``INSERT INTO table (columns) VALUES (?, ..)`` in the driver's own placeholders (``?`` for
    sqlite3, ``$n`` for asyncpg); with ``conflict``, an upsert of the other columns (same SQL on both)."""
    n = len(columns)
    marks = [f"${i}" for i in range(1, n + 1)] if dialect == "postgresql" else ["?"] * n
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
    if conflict:
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in conflict)
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
    return sql

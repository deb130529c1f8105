"""Inbox rows on SQLite without the async driver: one thread hop and one transaction per batch.

Through SQLAlchemy + aiosqlite a batch is several round trips between the event loop and the
driver's thread (begin, insert, commit), each with its own wake-ups; at one alert per request
they were most of the cost of accepting it. Here the whole ``BEGIN IMMEDIATE; INSERT ...; COMMIT``
runs in one call on a dedicated thread with its own connection, with the same durability
(``synchronous`` as configured, FULL by default: the WAL is fsynced before ``COMMIT`` returns).

The process's other writers queue on ``Database``'s write lock; this writer takes the same lock,
so the two never meet in SQLite's busy handler. Batches that carry rate limits use the SQLAlchemy
path, where ``LimitGate`` decides in the same transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import make_url

from koban.db.engine import Database

_INSERT = (
    "INSERT INTO ingest_inbox (integration_id, parser, received_at, alerts, body, fresh, digest)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def sqlite_path(url: str) -> str | None:
    """The database file, or None when there is no file another connection could open."""
    u = make_url(url)
    if not u.drivername.startswith("sqlite") or not u.database or u.database == ":memory:":
        return None
    return u.database


class SqliteInboxWriter:
    def __init__(self, db: Database, path: str, synchronous: str) -> None:
        self.db, self.path, self.synchronous = db, path, synchronous
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="koban-inbox-sqlite")

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA busy_timeout=30000")  # other processes on the same file
            self._conn = conn
        return self._conn

    def commit_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Blocking: call it on the writer's thread (``run``) or through ``write``."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_INSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Commit ``rows`` (integration_id, parser, received_at, alerts, body, fresh, digest): on commit."""
        async with self.db.write_lock():
            await asyncio.get_running_loop().run_in_executor(self._thread, self.commit_rows, rows)

    async def run(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the writer's thread (it calls ``commit_rows``) while holding the write lock."""
        async with self.db.write_lock():
            await asyncio.get_running_loop().run_in_executor(self._thread, work)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

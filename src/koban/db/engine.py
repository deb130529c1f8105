"""Engines for both databases, with the SQLite settings that make it a safe queue.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` for write transactions: the write lock is taken up
front, so two processes never deadlock upgrading a read to a write (they wait ``busy_timeout``).
Read-only transactions (``Database.read``) use a plain deferred BEGIN and never block writers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def async_url(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        return u.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    return url


def sync_url(url: str) -> str:
    u = make_url(url)
    if u.drivername.startswith("sqlite"):
        return u.set(drivername="sqlite").render_as_string(hide_password=False)
    if u.drivername.startswith(("postgresql", "postgres")):
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _prepare_sqlite_file(url: str) -> None:
    u = make_url(url)
    if u.database and u.database != ":memory:":
        from pathlib import Path

        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE below is what runs.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("koban_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Database:
    """The async engine plus the two kinds of transaction the code uses."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        self._writer: asyncio.Lock | None = None
        self._writer_task: asyncio.Task[Any] | None = None
        kw: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}
        if self.is_sqlite:
            _prepare_sqlite_file(url)
        else:
            kw.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kw)
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine.sync_engine, sqlite_synchronous)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; commits on success."""
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                yield conn
            return
        # SQLite has one writer. Queued here, a transaction starts the moment the previous one
        # commits; left to SQLite's busy handler, it polls with sleeps of up to 100 ms (the source
        # of second pages arriving hundreds of ms after the first).
        me = asyncio.current_task()
        if me is not None and self._writer_task is me:
            # Waiting for our own lock would hang forever; on SQLite a nested write is always a bug.
            raise RuntimeError("nested write transaction on SQLite: finish the outer one first")
        async with self.write_lock():
            self._writer_task = me
            try:
                async with self.engine.begin() as conn:
                    yield conn
            finally:
                self._writer_task = None

    def write_lock(self) -> asyncio.Lock:
        """The process's one SQLite writer queue: held by every write transaction, and by writers
        that commit through a connection of their own (the inbox's thread) while they write."""
        if self._writer is None:
            self._writer = asyncio.Lock()
        return self._writer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(koban_readonly=True)
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def make_sync_engine(url: str, sqlite_synchronous: str = "FULL") -> Engine:
    if make_url(url).drivername.startswith("sqlite"):
        _prepare_sqlite_file(url)
    engine = create_engine(sync_url(url), json_serializer=_dumps, json_deserializer=orjson.loads)
    if engine.dialect.name == "sqlite":
        _install_sqlite_hooks(engine, sqlite_synchronous)
    return engine

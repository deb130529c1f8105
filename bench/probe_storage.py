"""Where the probe benches store results: a database opened the way ``koban serve`` opens it.

Until koban's own probe result store exists, results go to a bench-only table with the columns a
result row needs (monitor, location, time, success, status, error, five phases), written in one
multi-row INSERT per batch, the write pattern the Runner's ``store(batch)`` is designed for.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, SmallInteger, String, Table, Text

from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.probes.result import ProbeResult

_meta = MetaData()
bench_results = Table(
    "bench_probe_results",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", String(128), nullable=False, index=True),
    Column("location", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("final", Boolean, nullable=False),
    Column("attempt", SmallInteger, nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("error", Text, nullable=False),
    *(Column(p, Float, nullable=False) for p in ("resolve", "connect", "tls", "processing", "transfer")),
)


def result_row(r: ProbeResult) -> dict[str, object]:
    p = r.phases
    return {
        "monitor_id": r.monitor_id,
        "location": r.location,
        "started_at": r.started_at.timestamp(),
        "duration": r.duration,
        "success": r.success,
        "final": r.final,
        "attempt": r.attempt,
        "status_code": r.status_code,
        "error": r.error,
        "resolve": p.resolve,
        "connect": p.connect,
        "tls": p.tls,
        "processing": p.processing,
        "transfer": p.transfer,
    }


class ResultStore:
    """``await store(batch)``: one transaction (one commit, one fsync on SQLite FULL) per batch."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, batch: list[ProbeResult]) -> None:
        async with self.db.begin() as conn:
            await conn.execute(bench_results.insert(), [result_row(r) for r in batch])


@asynccontextmanager
async def bench_database(url: str | None = None) -> AsyncIterator[Database]:
    """A migrated database at ``url`` (default: a fresh SQLite file with koban's default settings)."""
    with tempfile.TemporaryDirectory(prefix="koban-probe-bench-") as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'koban.db'}"
        upgrade(url)
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(_meta.drop_all)
                await conn.run_sync(_meta.create_all)
            yield db
        finally:
            await db.dispose()

"""A koban instance with N monitors for the probe benches, set up fast.

Monitors are written straight into the ``monitors`` config table in bulk (one validated definition
copied N times with its id changed), because applying a 100,000-monitor YAML one object at a time
would make the set-up longer than the measurement. The system's catalog loads and validates them
exactly as it loads monitors from ``koban config apply``.
"""

from __future__ import annotations

import math
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.config.model_monitors import Monitor
from koban.core.settings import load_settings
from koban.db.engine import Database
from koban.db.schema_probes import monitors as monitors_table
from koban.probes import rollup_codec
from koban.probes.result import Phases, ProbeResult
from koban.probes.rollup import merge, rollup_results

SERVICE = "web"
CHUNK = 5000


def base_config(hook_url: str | None = None) -> ConfigFile:
    """One service whose pages go to a console channel (or a webhook when ``hook_url`` is given)."""
    channel = (
        {"id": "ops", "type": "webhook", "url": hook_url} if hook_url else {"id": "ops", "type": "console"}
    )
    return ConfigFile.model_validate(
        {
            "channels": [channel],
            "policies": [{"id": "page", "steps": [{"notify": [{"channel": "ops"}], "escalate_after": "1h"}]}],
            "services": [{"id": SERVICE, "policy": "page"}],
        }
    )


def monitor_id(i: int) -> str:
    return f"m{i:06d}"


def monitor_rows(count: int, target: str, interval: float, **fields: Any) -> Iterable[dict[str, Any]]:
    """Rows of the monitors table; ``target`` may hold ``{i}`` to give each monitor its own URL."""
    template = Monitor.model_validate(
        {
            "id": monitor_id(0),
            "service": SERVICE,
            "target": target.format(i=0),
            "interval": interval,
            **fields,
        }
    ).model_dump(mode="json")
    now = time.time()
    for i in range(count):
        ident = monitor_id(i)
        definition = {**template, "id": ident, "target": target.format(i=i)}
        yield {
            "id": ident,
            "name": "",
            "service_id": SERVICE,
            "type": template["type"],
            "definition": definition,
            "updated_at": now,
        }


async def insert_monitors(db: Database, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            n += await _insert(db, batch)
            batch = []
    if batch:
        n += await _insert(db, batch)
    return n


async def _insert(db: Database, batch: list[dict[str, Any]]) -> int:
    async with db.begin() as conn:
        await conn.execute(sa.insert(monitors_table), batch)
    return len(batch)


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``admin_url``, dropped afterwards."""
    import psycopg

    name = f"koban_bench_{secrets.token_hex(4)}"
    u = make_url(admin_url)
    conninfo = {
        "host": u.host or "127.0.0.1",
        "port": u.port or 5432,
        "user": u.username or "postgres",
        "password": u.password or None,
        "dbname": u.database or "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**conninfo) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**conninfo) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@asynccontextmanager
async def seeded_system(
    workdir: Path,
    *,
    database_url: str | None,
    monitors: int,
    target: str,
    interval: float,
    hook_url: str | None = None,
    load_catalog: bool = True,
    **monitor_fields: Any,
) -> AsyncIterator[System]:
    """A started system (no worker, no prober) whose catalog holds ``monitors`` monitors (unless
    ``load_catalog`` is False: set-up for another process, which loads them itself)."""
    settings = load_settings(
        database_url=database_url or f"sqlite:///{workdir / 'koban.db'}",
        data_dir=workdir,
        secret_key="bench-secret",
    )
    k = System(settings)
    await k.start(worker=False)
    try:
        async with k.db.begin() as conn:
            await apply_config(conn, base_config(hook_url), k.clock.now())
        await insert_monitors(k.db, monitor_rows(monitors, target, interval, **monitor_fields))
        if load_catalog:
            await k.refresh_catalog(force=True)
        yield k
    finally:
        await k.stop()


# -- history for graph queries ----------------------------------------------------------------------

DAY = 86400


def _rollup_blobs(ms: float) -> tuple[bytes, bytes]:
    """(minute metrics, hour metrics) as stored, for a probe taking about ``ms``."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    results = [
        ProbeResult(
            kind="http",
            target="",
            success=True,
            started_at=start + timedelta(seconds=i),
            duration=ms / 1000 * (1 + i / 10),
            phases=Phases(connect=ms / 4000, processing=ms / 2000, transfer=ms / 8000),
            monitor_id="x",
            final=True,
        )
        for i in range(3)
    ]
    minute = rollup_results(results[:1], "minute")[0]
    hour = merge(rollup_results(results, "minute"), "hour")[0]
    return rollup_codec.encode(minute.metrics, 1), rollup_codec.encode(hour.metrics, hour.count)


def seed_history(db: Path, monitors: int, interval: float, now: float) -> int:
    """24 h of one raw result and one minute rollup per minute, and 24 hour rollups, per monitor
    (raw successes as if their retention were a day: the graph reads rollups, not raw rows)."""
    variants = [_rollup_blobs(ms) for ms in (0.4, 0.7, 1.2, 3.0)]
    rows = 0
    with sqlite3.connect(db) as conn:
        for i in range(monitors):
            ident = monitor_id(i)
            conn.execute(
                "INSERT OR IGNORE INTO probe_series (monitor_id, location) VALUES (?, 'local')", (ident,)
            )
            (series,) = conn.execute(
                "SELECT id FROM probe_series WHERE monitor_id = ? AND location = 'local'", (ident,)
            ).fetchone()
            minute0 = math.floor((now - DAY) / 60) * 60
            raw, minutes = [], []
            for m in range(DAY // 60):
                t = minute0 + m * 60
                ok = m % 997 != 0
                flags = (1 if ok else 4) | 2
                raw.append((series, (t + 7) * 1000, flags, 200 if ok else 0, None if ok else "refused"))
                minutes.append((series, 60, t, 1, 0 if ok else 1, variants[m % 4][0]))
            hour0 = math.floor((now - DAY) / 3600) * 3600
            hours = [(series, 3600, hour0 + h * 3600, 60, 0, variants[h % 4][1]) for h in range(25)]
            conn.executemany(
                "INSERT OR IGNORE INTO probe_results (series_id, started_ms, attempt, flags, status_code,"
                " duration_us, resolve_us, connect_us, tls_us, processing_us, transfer_us, error)"
                " VALUES (?, ?, 0, ?, ?, 1000, 0, 0, 0, 0, 0, ?)",
                raw,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO probe_rollups (series_id, width, start, count, failures, metrics)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                minutes + hours,
            )
            rows += len(raw) + len(minutes) + len(hours)
    return rows

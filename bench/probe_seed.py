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


def _write(conn: sqlite3.Connection, raw: list[tuple], rollups: list[tuple]) -> None:
    """Raw results (series, started_ms, flags, status, error: a 1 ms probe) and rollup rows."""
    conn.executemany(
        "INSERT OR IGNORE INTO probe_results (series_id, started_ms, attempt, flags, status_code,"
        " duration_us, resolve_us, connect_us, tls_us, processing_us, transfer_us, error)"
        " VALUES (?, ?, 0, ?, ?, 1000, 0, 0, 0, 0, 0, ?)",
        raw,
    )
    conn.executemany(
        "INSERT OR REPLACE INTO probe_rollups (series_id, width, start, count, failures, metrics)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rollups,
    )


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
            _write(conn, raw, minutes + hours)
            rows += len(raw) + len(minutes) + len(hours)
    return rows


# -- 30 days of history as the retention tiers keep it ----------------------------------------------

HOUR = 3600
# Default retention (docs/benchmarks.md): raw successes 6 h, raw failures 7 days, minutes 1.5 days,
# hours 31 days, days 400 days (a month of them here: what the monitor page's uptime reads).
RAW_OK_S, RAW_FAIL_S, MINUTES_S, HOURS_S, DAYS = 6 * HOUR, 7 * DAY, 36 * HOUR, 31 * DAY, 30
FAIL_EVERY = 997  # one minute in 997 failed (a refused connection)


def _window_blob(base_ms: float, n: int) -> bytes:
    """A window of ``n`` jittery results around ``base_ms`` as stored (hour: 60, day: 1,440)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    results = [
        ProbeResult(
            kind="http",
            target="",
            success=True,
            started_at=start + timedelta(seconds=i),
            duration=base_ms / 1000 * (1 + (i * 37 % 101) / 100),
            phases=Phases(connect=base_ms / 4000, processing=base_ms / 2000, transfer=base_ms / 8000),
            monitor_id="x",
            final=True,
        )
        for i in range(n)
    ]
    (one,) = rollup_results(results, "day")
    return rollup_codec.encode(one.metrics, one.count)


def _series_ids(conn: sqlite3.Connection, monitors: int) -> list[int]:
    conn.executemany(
        "INSERT OR IGNORE INTO probe_series (monitor_id, location) VALUES (?, 'local')",
        ((monitor_id(i),) for i in range(monitors)),
    )
    ids = dict(conn.execute("SELECT monitor_id, id FROM probe_series WHERE location = 'local'").fetchall())
    return [ids[monitor_id(i)] for i in range(monitors)]


def seed_days(db: Path, monitors: int, now: float, days: int = DAYS) -> int:
    """Every monitor's series and its last ``days`` day rollups (1,440 results each, a few failed),
    in one executemany: 3 million rows at 100,000 monitors, so the tables' B-trees are as deep as a
    real month makes them."""
    blobs = [_window_blob(ms, 1440) for ms in (0.4, 0.7, 1.2, 3.0)]
    day0 = math.floor(now / DAY) * DAY - (days - 1) * DAY
    with sqlite3.connect(db) as conn:
        series = _series_ids(conn, monitors)
        rows = (
            (s, DAY, day0 + d * DAY, 1440, (i + d) % 3, blobs[(i + d) % 4])
            for i, s in enumerate(series)
            for d in range(days)
        )
        conn.executemany(
            "INSERT OR REPLACE INTO probe_rollups (series_id, width, start, count, failures, metrics)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    return monitors * days


def seed_tiers(db: Path, index: int, now: float) -> int:
    """One monitor's history as the retention tiers hold it after a month of probing every 60 s:
    raw successes for 6 h, raw failures for 7 days, minute rollups for 1.5 days, hour rollups for 31
    days, day rollups for 30 days (its response time wanders by the hour, so the bands move)."""
    minute_blobs = [_rollup_blobs(ms)[0] for ms in (0.4, 0.7, 1.2, 3.0)]
    hour_blobs = [_window_blob(ms, 60) for ms in (0.4, 0.7, 1.2, 3.0)]
    with sqlite3.connect(db) as conn:
        (series,) = _series_ids(conn, index + 1)[index:]
        raw, minutes = [], []
        first = math.floor((now - RAW_FAIL_S) / 60) * 60
        for t in range(first, math.floor(now / 60) * 60, 60):
            m = t // 60
            ok = m % FAIL_EVERY != 0
            if t >= now - MINUTES_S:
                minutes.append((series, 60, t, 1, 0 if ok else 1, minute_blobs[(t // HOUR) % 4]))
            recovered = (m - 1) % FAIL_EVERY == 0  # a state change: kept as long as failures
            if ok and not recovered and t < now - RAW_OK_S:  # pruned: successes older than 6 h
                continue
            raw.append(
                (series, (t + 7) * 1000, (1 if ok else 4) | 2, 200 if ok else 0, None if ok else "refused")
            )
        hour0 = math.floor((now - HOURS_S) / HOUR) * HOUR
        hours = [
            (series, HOUR, t, 60, 1 if (t // HOUR) % 17 == 0 else 0, hour_blobs[(t // HOUR) % 4])
            for t in range(hour0, math.floor(now / HOUR) * HOUR + 1, HOUR)
        ]
        _write(conn, raw, minutes + hours)
    return len(raw) + len(minutes) + len(hours)

"""Migration 0016 converts stored probe history to the compact form: raw results and graphs read the
same after it as before. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa

from koban.db.engine import Database, make_sync_engine
from koban.db.migrate import upgrade
from koban.monitoring import queries as probe_queries
from koban.probes.result import Phases, ProbeResult
from koban.probes.rollup import merge, rollup_results

T0 = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def _results() -> list[ProbeResult]:
    return [
        ProbeResult(
            kind="http",
            target="http://shop",
            success=s % 50 != 0,
            started_at=T0 + timedelta(seconds=s),
            duration=(1 + s) / 1000,
            error="" if s % 50 else "refused",
            phases=Phases(connect=0.0005, processing=s / 1000, transfer=0.0005),
            status_code=200 if s % 50 else 0,
            monitor_id="shop",
            location="tokyo",
        )
        for s in range(0, 150, 10)
    ]


def _old_rows(url: str, results: list[ProbeResult]) -> None:
    """Rows as revision 0015 stored them."""
    rollups = rollup_results(results)
    rollups += merge(rollups, "hour") + merge(rollups, "day")
    engine = make_sync_engine(url)
    with engine.begin() as conn:
        for r in results:
            conn.execute(
                sa.text(
                    "INSERT INTO probe_results (monitor_id, location, started_at, duration, success, final,"
                    " attempt, status_code, error, resolve, connect, tls, processing, transfer)"
                    " VALUES (:m, :l, :t, :d, :ok, :f, 0, :code, :err, 0, :c, 0, :p, :x)"
                ),
                {
                    "m": r.monitor_id, "l": r.location, "t": r.started_at.timestamp(), "d": r.duration,
                    "ok": r.success, "f": True, "code": r.status_code, "err": r.error,
                    "c": r.phases.connect, "p": r.phases.processing, "x": r.phases.transfer,
                },
            )  # fmt: skip
        for ro in rollups:
            conn.execute(
                sa.text(
                    "INSERT INTO probe_rollups (monitor_id, resolution, start, location, count, failures,"
                    " metrics) VALUES (:m, :res, :s, :l, :n, :f, :j)"
                ),
                {
                    "m": ro.monitor_id, "res": ro.resolution, "s": ro.start.timestamp(), "l": ro.location,
                    "n": ro.count, "f": ro.failures,
                    "j": orjson.dumps({k: h.to_dict() for k, h in ro.metrics.items()}).decode(),
                },
            )  # fmt: skip
    engine.dispose()


def _empty(url: str) -> None:
    """PostgreSQL test databases are copies of a template already at head: start from nothing."""
    if url.startswith("postgresql"):
        engine = make_sync_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()


async def test_history_stored_before_the_compact_form_reads_the_same_after_migrating(db_url):
    _empty(db_url)
    upgrade(db_url, "0016")
    results = _results()
    _old_rows(db_url, results)
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    t0, t1 = T0.timestamp(), T0.timestamp() + 3600
    try:
        async with db.read() as conn:
            raw = await probe_queries.history(conn, "shop", t0, t1, "raw")
            minutes = await probe_queries.history(conn, "shop", t0, t1, "minute")
            hours = await probe_queries.history(conn, "shop", t0, t1, "hour", "tokyo")
    finally:
        await db.dispose()
    assert [(p["started_at"], p["success"], p["error"]) for p in raw] == [
        (r.started_at.isoformat(), r.success, r.error) for r in results
    ]
    assert [p["duration"] for p in raw] == pytest.approx([r.duration for r in results], abs=1e-6)
    want = sorted(rollup_results(results), key=lambda r: r.start)
    assert [(p["count"], p["failures"]) for p in minutes] == [(r.count, r.failures) for r in want]
    for point, r in zip(minutes, want, strict=True):
        for metric, summary in r.summary().items():
            assert point["seconds"][metric] == pytest.approx(summary, abs=1e-7)
    assert [(p["count"], p["failures"]) for p in hours] == [(15, 3)]

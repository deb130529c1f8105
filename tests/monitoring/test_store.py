"""Persistence on both databases: raw rows, latest per location, rollups merged across flushes,
graph queries by step, and pruning by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from koban.core.clock import SystemClock
from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.db.schema_probes import probe_latest, probe_results, probe_rollups
from koban.monitoring import queries as probe_queries
from koban.monitoring.store import ProbeStore, prune
from koban.probes.result import Phases, ProbeResult
from koban.probes.rules import Rule

T0 = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
RULES = {"shop": Rule(monitor_id="shop", service="web")}


def result(
    at: datetime, ok: bool = True, ms: float = 100, *, final: bool = True, attempt: int = 0
) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="http://shop",
        success=ok,
        started_at=at,
        duration=ms / 1000,
        error="" if ok else "connection refused",
        phases=Phases(resolve=0.001, connect=0.002, processing=ms / 1000 - 0.004, transfer=0.001),
        status_code=200 if ok else 0,
        monitor_id="shop",
        location="tokyo",
        final=final,
        attempt=attempt,
    )


async def store_for(db_url: str) -> ProbeStore:
    upgrade(db_url)
    return ProbeStore(Database(db_url, sqlite_synchronous="NORMAL"), "tokyo", SystemClock())


async def test_batch_is_stored_raw_and_latest_keeps_the_failing_streak(db_url):
    store = await store_for(db_url)
    try:
        batch = [
            result(T0),
            result(T0 + timedelta(seconds=10), ok=False, final=False),
            result(T0 + timedelta(seconds=11), ok=False, attempt=1),
        ]
        finals = await store.write(batch, RULES)
        assert [r.attempt for r in finals] == [0, 1]
        await store.write([result(T0 + timedelta(seconds=20), ok=False)], RULES)
        async with store.db.read() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(probe_results))).scalar() == 4
            latest = (await conn.execute(sa.select(probe_latest))).one()
        assert latest.location == "tokyo" and not latest.success and latest.phases["connect"] == 0.002
        # The streak starts at the first failed final probe, not at the latest one.
        assert latest.fail_since == (T0 + timedelta(seconds=11)).timestamp()
        reloaded = ProbeStore(store.db, "tokyo", store.clock)
        await reloaded.load()
        assert reloaded.snapshots["shop"].fail_since == T0 + timedelta(seconds=11)
    finally:
        await store.db.dispose()


async def test_rollups_merge_across_flushes_and_graphs_read_them_by_step(db_url):
    store = await store_for(db_url)
    try:
        await store.write([result(T0 + timedelta(seconds=s), ms=100) for s in range(0, 60, 10)], RULES)
        await store.flush_rollups()
        await store.write([result(T0 + timedelta(seconds=65), ok=False, ms=900)], RULES)
        await store.write(
            [result(T0 + timedelta(seconds=50), ms=300)], RULES
        )  # late, same minute as the first
        await store.flush_rollups()
        async with store.db.read() as conn:
            minutes = await probe_queries.history(
                conn, "shop", T0.timestamp(), (T0 + timedelta(hours=1)).timestamp(), "minute"
            )
            hours = await probe_queries.history(
                conn, "shop", T0.timestamp(), (T0 + timedelta(hours=1)).timestamp(), "hour", "tokyo"
            )
            days = await probe_queries.history(
                conn, "shop", T0.timestamp() - 3600, T0.timestamp() + 86400, "day"
            )
            rows = (await conn.execute(sa.select(sa.func.count()).select_from(probe_rollups))).scalar()
        assert rows == 4  # two minutes, one hour, one day
        assert [(p["count"], p["failures"]) for p in minutes] == [(7, 0), (1, 1)]
        assert minutes[0]["seconds"]["total"]["max"] == 0.3
        assert abs(minutes[0]["seconds"]["total"]["p50"] - 0.1) < 0.01
        assert hours == [
            {
                **hours[0],
                "start": T0.isoformat(),
                "location": "tokyo",
                "count": 8,
                "failures": 1,
                "uptime": 7 / 8,
            }
        ]
        assert hours[0]["seconds"]["total"]["max"] == 0.9
        assert days[0]["count"] == 8 and days[0]["start"] == T0.replace(hour=0).isoformat()
    finally:
        await store.db.dispose()


async def test_raw_results_are_pruned_after_retention_and_rollups_stay(db_url):
    store = await store_for(db_url)
    try:
        await store.write([result(T0), result(T0 + timedelta(days=8))], RULES)
        await store.flush_rollups()
        now = (T0 + timedelta(days=8, seconds=1)).timestamp()
        await prune(store.db, now, raw_days=7, minute_days=400, rollup_days=400)
        async with store.db.read() as conn:
            raw = await probe_queries.history(conn, "shop", 0, now + 1, "raw")
            kept = (await conn.execute(sa.select(sa.func.count()).select_from(probe_rollups))).scalar()
        assert [p["started_at"] for p in raw] == [(T0 + timedelta(days=8)).isoformat()]
        assert kept == 6  # minute/hour/day of both days
        await prune(store.db, now + 2 * 86400, raw_days=7, minute_days=1, rollup_days=400)
        async with store.db.read() as conn:
            left = (await conn.execute(sa.select(probe_rollups.c.width))).scalars().all()
        assert sorted(left) == [3600, 3600, 86400, 86400]
    finally:
        await store.db.dispose()


async def test_successes_are_pruned_early_and_failures_and_state_changes_stay(db_url):
    store = await store_for(db_url)
    try:
        at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
        history = [(0, True), (1, True), (2, False), (3, False), (4, True), (5, True)]
        for minute, ok in history:
            await store.write([result(at(minute), ok=ok)], RULES)
        now = at(6 * 60).timestamp()
        await prune(store.db, now, raw_days=7, minute_days=2, rollup_days=400, success_days=0.1)
        async with store.db.read() as conn:
            raw = await probe_queries.history(conn, "shop", 0, now, "raw")
        # The first failures, and the recovery (the success right after them) outlive the others.
        assert [(p["started_at"], p["success"]) for p in raw] == [
            (at(2).isoformat(), False),
            (at(3).isoformat(), False),
            (at(4).isoformat(), True),
        ]
        await prune(store.db, at(8 * 24 * 60).timestamp(), raw_days=7, minute_days=2, rollup_days=400)
        async with store.db.read() as conn:
            assert await probe_queries.history(conn, "shop", 0, now, "raw") == []
    finally:
        await store.db.dispose()


async def test_raw_results_read_back_as_they_were_probed(db_url):
    store = await store_for(db_url)
    try:
        await store.write([result(T0, ms=0.4), result(T0 + timedelta(seconds=9), ok=False, ms=2.5)], RULES)
        async with store.db.read() as conn:
            raw = await probe_queries.history(conn, "shop", 0, T0.timestamp() + 60, "raw")
        assert raw[0] == {
            "started_at": T0.isoformat(),
            "location": "tokyo",
            "success": True,
            "final": True,
            "attempt": 0,
            "duration": 0.0004,
            "status_code": 200,
            "error": "",
            "phases": {"resolve": 0.001, "connect": 0.002, "tls": 0.0, "processing": 0.0, "transfer": 0.001},
            "cert_expiry": None,
        }
        assert (raw[1]["success"], raw[1]["error"], raw[1]["duration"]) == (
            False,
            "connection refused",
            0.0025,
        )
    finally:
        await store.db.dispose()


def test_graph_step_is_picked_by_range():
    assert probe_queries.pick_step(0, 6 * 3600) == "minute"
    assert probe_queries.pick_step(0, 7 * 86400) == "hour"
    assert probe_queries.pick_step(0, 365 * 86400) == "day"

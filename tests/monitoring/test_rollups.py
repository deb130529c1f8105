"""Rollups live whole in memory and are written as upserts; a restart (a new buffer) or a window
dropped from memory must still add to what is stored, never overwrite it. Both databases."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from koban.core.clock import SystemClock
from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.db.schema_probes import probe_rollups
from koban.monitoring.rollups import COARSE_SECONDS, RESOLUTION_OF, from_row
from koban.monitoring.store import ProbeStore
from koban.probes.result import Phases, ProbeResult
from koban.probes.rollup import rollup_results
from koban.probes.rules import Rule

RULES = {"shop": Rule(monitor_id="shop", service="web")}


def result(at: datetime, ok: bool = True, ms: float = 100) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="http://shop",
        success=ok,
        started_at=at,
        duration=ms / 1000,
        phases=Phases(connect=0.002, processing=ms / 1000 - 0.003, transfer=0.001),
        monitor_id="shop",
        location="tokyo",
    )


async def _rows(db: Database) -> dict[str, tuple[int, int, float]]:
    async with db.read() as conn:
        rows = await conn.execute(sa.select(probe_rollups))
        stored = [from_row(r, "shop", "tokyo") for r in rows]
        return {r.resolution: (r.count, r.failures, r.metrics["total"].max) for r in stored}


async def test_a_restarted_prober_adds_to_the_windows_stored_before_it_started(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    try:
        minute = datetime.fromtimestamp(time.time() // 60 * 60, UTC)
        before = ProbeStore(db, "tokyo", SystemClock())
        await before.write([result(minute), result(minute + timedelta(seconds=1), ok=False)], RULES)
        await before.flush_rollups()  # what Prober.stop does
        assert await _rows(db) == {r: (2, 1, 0.1) for r in ("minute", "hour", "day")}

        after = ProbeStore(db, "tokyo", SystemClock())  # a new process: nothing in memory
        await after.write([result(minute + timedelta(seconds=2), ms=700)], RULES)
        t = minute.timestamp()
        await after.rollups.flush(db, coarse=False, now=t + 2)
        rows = await _rows(db)
        assert rows["minute"] == (3, 1, 0.7) and rows["hour"] == (2, 1, 0.1)  # hour/day come later
        await after.write([result(minute + timedelta(seconds=3))], RULES)
        # Within one coarse period every changed hour/day row is written, without coarse=True.
        await after.rollups.flush(db, coarse=False, now=t + COARSE_SECONDS + 1)
        assert await _rows(db) == {r: (4, 1, 0.7) for r in ("minute", "hour", "day")}
        await after.write([result(minute + timedelta(seconds=4))], RULES)
        await after.flush_rollups()  # on stop: everything
        assert await _rows(db) == {r: (5, 1, 0.7) for r in ("minute", "hour", "day")}
    finally:
        await db.dispose()


async def test_a_late_result_for_a_window_dropped_from_memory_merges_with_its_row(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    try:
        store = ProbeStore(db, "tokyo", SystemClock())
        at = datetime.fromtimestamp(time.time() // 86400 * 86400, UTC)  # today 00:00
        await store.write([result(at), result(at + timedelta(seconds=5))], RULES)
        later = at.timestamp() + 3 * 86400  # every window closed long ago: dropped after writing
        assert await store.rollups.flush(db, now=later) == 3
        assert not store.rollups._open
        await store.write([result(at + timedelta(seconds=30), ok=False, ms=400)], RULES)
        await store.rollups.flush(db, now=later)
        assert await _rows(db) == {r: (3, 1, 0.4) for r in ("minute", "hour", "day")}
    finally:
        await db.dispose()


async def test_stored_windows_equal_the_rollups_of_the_same_results(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    try:
        rng = random.Random(5)
        t0 = datetime.fromtimestamp(time.time() // 3600 * 3600, UTC)
        batch = [
            result(t0 + timedelta(seconds=rng.uniform(0, 300)), ok=rng.random() > 0.2, ms=rng.uniform(4, 900))
            for _ in range(200)
        ]
        store = ProbeStore(db, "tokyo", SystemClock())
        await store.write(batch, RULES)
        await store.flush_rollups()
        async with db.read() as conn:
            stored = {
                (RESOLUTION_OF[r.width], r.start): from_row(r, "shop", "tokyo")
                for r in await conn.execute(sa.select(probe_rollups))
            }
        for res in ("minute", "hour", "day"):
            for want in rollup_results(batch, res):
                got = stored[(res, want.start.timestamp())]
                assert (got.count, got.failures) == (want.count, want.failures)
                for m, h in want.metrics.items():
                    g = got.metrics[m]
                    assert (g.counts, g.count) == (h.counts, h.count)
                    assert [g.total, g.min, g.max] == pytest.approx([h.total, h.min, h.max], abs=1e-7)
    finally:
        await db.dispose()

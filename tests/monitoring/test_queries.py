"""Graph reads: one location's windows are charted from the p50/p95 stored with each histogram, and
give what rebuilding the histograms gives; several locations are merged exactly; rows stored before
the quantiles were kept still chart. Both databases."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.db.schema_probes import probe_rollups
from koban.monitoring import queries as probe_queries
from koban.monitoring.rollups import _row
from koban.probes.result import Phases, ProbeResult
from koban.probes.rollup import merge, rollup_results

T0 = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def results(location: str, seed: int) -> list[ProbeResult]:
    rng = random.Random(seed)
    out = []
    for s in range(0, 180, 3):
        ms = rng.uniform(1, 400)
        out.append(
            ProbeResult(
                kind="http",
                target="http://shop",
                success=rng.random() > 0.1,
                started_at=T0 + timedelta(seconds=s),
                duration=ms / 1000,
                phases=Phases(connect=ms / 4000, processing=ms / 2000, transfer=ms / 8000),
                monitor_id="shop",
                location=location,
            )
        )
    return out


def assert_same(got: list[dict], want: list[dict]) -> None:
    """Equal up to the 0.1 us the stored seconds are rounded to."""
    assert [sorted(g) for g in got] == [sorted(w) for w in want]
    for g, w in zip(got, want, strict=True):
        for metric, values in w.items():
            assert g[metric] == pytest.approx(values, abs=1e-7)


async def _graph(db: Database, location: str | None = None) -> list[dict]:
    async with db.read() as conn:
        return await probe_queries.history(
            conn, "shop", T0.timestamp(), T0.timestamp() + 3600, "minute", location
        )


async def test_stored_quantiles_chart_the_same_as_rebuilt_histograms_and_locations_merge(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    try:
        tokyo, osaka = rollup_results(results("tokyo", 1)), rollup_results(results("osaka", 2))
        async with db.begin() as conn:
            await conn.execute(sa.insert(probe_rollups), [_row(r) for r in tokyo + osaka])
        one = await _graph(db, "tokyo")
        assert_same([p["seconds"] for p in one], [r.summary() for r in sorted(tokyo, key=lambda r: r.start)])
        assert [p["location"] for p in one] == ["tokyo"] * 3
        both = await _graph(db)
        merged = sorted(merge(replace(r, location="") for r in [*tokyo, *osaka]), key=lambda r: r.start)
        assert [(p["count"], p["failures"], p["location"]) for p in both] == [
            (r.count, r.failures, None) for r in merged
        ]
        assert_same([p["seconds"] for p in both], [r.summary() for r in merged])
    finally:
        await db.dispose()


async def test_rows_without_stored_quantiles_still_chart(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    try:
        tokyo = sorted(rollup_results(results("tokyo", 3)), key=lambda r: r.start)
        rows = [_row(r) for r in tokyo]
        for row in rows:  # as written before p50/p95 were stored
            for h in row["metrics"].values():
                del h["p50"], h["p95"]
        async with db.begin() as conn:
            await conn.execute(sa.insert(probe_rollups), rows)
        assert_same([p["seconds"] for p in await _graph(db)], [r.summary() for r in tokyo])
    finally:
        await db.dispose()

"""Graph reads on the compact rows: one location's windows chart what rebuilding the histograms
gives; several locations are merged exactly; a window of one result charts its value. Both databases."""

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
from koban.monitoring.rollups import to_row
from koban.monitoring.series import SeriesIds
from koban.probes.result import Phases, ProbeResult
from koban.probes.rollup import Rollup, merge, rollup_results

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
        await _store(db, tokyo + osaka)
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


async def _store(db: Database, rollups: list[Rollup]) -> None:
    ids = await SeriesIds(db).ids((r.monitor_id, r.location) for r in rollups)
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(probe_rollups), [to_row(ids[(r.monitor_id, r.location)], r) for r in rollups]
        )


async def test_a_window_of_one_result_charts_its_values(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    try:
        one_a_minute = [r for r in results("tokyo", 3) if r.started_at.second == 0]
        tokyo = sorted(rollup_results(one_a_minute), key=lambda r: r.start)
        await _store(db, tokyo)
        graph = await _graph(db)
        assert_same([p["seconds"] for p in graph], [r.summary() for r in tokyo])
        assert graph[0]["seconds"]["total"]["p95"] == pytest.approx(one_a_minute[0].duration, abs=1e-7)
    finally:
        await db.dispose()


async def test_a_days_uptime_sums_a_monitors_locations_and_a_service_takes_its_worst(db_url):
    """A status page's daily bars: each monitor's day summed over its locations; a service's day is
    its worst monitor's."""
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    day = 86400
    d1 = T0.timestamp() - T0.timestamp() % day
    try:
        ids = await SeriesIds(db).ids([("a", "tokyo"), ("a", "osaka"), ("b", "tokyo"), ("c", "tokyo")])
        rows = [
            (("a", "tokyo"), d1, 100, 0),
            (("a", "osaka"), d1, 100, 10),  # a: 190 of 200 succeeded
            (("b", "tokyo"), d1, 100, 1),
            (("b", "tokyo"), d1 + day, 100, 0),
            (("b", "tokyo"), d1 - day, 100, 100),  # before the range
            (("c", "tokyo"), d1, 100, 100),  # not asked for
        ]
        async with db.begin() as conn:
            await conn.execute(
                sa.insert(probe_rollups),
                [
                    {
                        "series_id": ids[k],
                        "width": day,
                        "start": int(s),
                        "count": n,
                        "failures": f,
                        "metrics": b"",
                    }
                    for k, s, n, f in rows
                ],
            )
        async with db.read() as conn:
            worst = await probe_queries.daily_worst(conn, ["a", "b"], d1, d1 + 2 * day)
            assert worst == {d1: pytest.approx(0.95), d1 + day: 1.0}
            assert await probe_queries.daily_worst(conn, [], d1, d1 + day) == {}
            each = await probe_queries.daily_uptime(conn, ["a", "b"], d1, d1 + 2 * day)
            assert each == {"a": {d1: pytest.approx(0.95)}, "b": {d1: 0.99, d1 + day: 1.0}}
    finally:
        await db.dispose()


async def test_graph_data_grouped_to_fewer_points_keeps_every_failure_and_the_highest_p95(db_url):
    upgrade(db_url)
    db = Database(db_url, sqlite_synchronous="NORMAL")
    t0 = T0.timestamp()
    try:
        minutes = [
            ProbeResult(
                kind="http",
                target="http://shop",
                success=m != 50,
                started_at=T0 + timedelta(minutes=m),
                duration=2.5 if m == 70 else 0.1 + m % 3 / 100,
                phases=Phases(connect=0.01),
                monitor_id="shop",
                location="tokyo",
            )
            for m in range(120)
        ]
        await _store(db, rollup_results(minutes))
        async with db.read() as conn:
            every = await probe_queries.history(conn, "shop", t0, t0 + 7200, "minute")
            grouped = await probe_queries.history(conn, "shop", t0, t0 + 7200, "minute", None, 40)
            few = await probe_queries.history(conn, "shop", t0, t0 + 7200, "minute", None, 500)
        assert len(every) == 120 and few == every  # room for all: as stored
        assert len(grouped) == 40
        assert [p["start"] for p in grouped[:2]] == [every[0]["start"], every[3]["start"]]
        assert sum(p["count"] for p in grouped) == 120 and sum(p["failures"] for p in grouped) == 1
        assert [p["start"] for p in grouped if p["failures"]] == [every[48]["start"]]
        assert max(p["seconds"]["total"]["p95"] for p in grouped) == pytest.approx(2.5)
        assert grouped[0]["seconds"]["total"]["p50"] == pytest.approx(0.11, abs=1e-7)  # 0.10, 0.11, 0.12
        assert grouped[0]["uptime"] == 1.0 and grouped[16]["uptime"] == pytest.approx(2 / 3)
    finally:
        await db.dispose()

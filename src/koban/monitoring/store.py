"""Storing one location's probe results: raw rows, the latest result per monitor, rollups, pruning.

``write(batch)`` is the Runner's store callback: one transaction, one executemany into
``probe_results`` and one upsert-executemany into ``probe_latest`` (group commit: one fsync per batch
however many results it holds). Both go to the driver as plain tuples with SQL written once
(``monitoring.sql.driver_insert``). The failing/slow streak of each monitor at this location
(``rules.record``) is kept in memory, loaded once at start, because this prober is its only writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa

from koban.core.clock import Clock
from koban.db.engine import Database
from koban.db.schema_probes import probe_latest, probe_results, probe_rollups
from koban.monitoring import raw
from koban.monitoring.rollups import RollupBuffer
from koban.monitoring.series import SeriesIds, all_series
from koban.monitoring.sql import driver_insert
from koban.probes.result import ProbeResult
from koban.probes.rules import MonitorState, Rule, Snapshot, record

DAY = 86400.0
LATEST_COLUMNS = (
    "kind",
    "started_at",
    "duration",
    "success",
    "status_code",
    "error",
    "phases",
    "cert_expiry",
    "redirects",
    "content_length",
    "fail_since",
    "slow_since",
)
LATEST_KEYS = ("monitor_id", "location")


def _ts(at: datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


def dt(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


def _content_length(r: ProbeResult) -> int:
    try:
        return int(r.headers.get("content-length", "-1"))
    except ValueError:
        return -1


def latest_row(r: ProbeResult, snap: Snapshot) -> tuple:
    """A ``probe_latest`` row: monitor_id, location, then ``LATEST_COLUMNS`` (JSON already encoded)."""
    return (
        r.monitor_id,
        r.location,
        r.kind[:8],
        r.started_at.timestamp(),
        r.duration,
        r.success,
        r.status_code,
        r.error[:2000],
        orjson.dumps(r.phases.as_dict()).decode(),
        r.cert.earliest_expiry.timestamp() if r.cert else None,
        r.redirects,
        _content_length(r),
        _ts(snap.fail_since),
        _ts(snap.slow_since),
    )


def snapshot_of(row: sa.Row) -> Snapshot:
    return Snapshot(
        at=datetime.fromtimestamp(row.started_at, UTC),
        success=row.success,
        duration_ms=row.duration * 1000,
        error=row.error,
        fail_since=dt(row.fail_since),
        slow_since=dt(row.slow_since),
    )


class ProbeStore:
    def __init__(self, db: Database, location: str, clock: Clock) -> None:
        self.db, self.location = db, location
        self.snapshots: dict[str, Snapshot] = {}
        self.clock = clock
        self.series = SeriesIds(db)
        self.rollups = RollupBuffer(self.clock.now(), self.series)

    async def load(self) -> None:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(probe_latest).where(probe_latest.c.location == self.location))
            self.snapshots = {r.monitor_id: snapshot_of(r) for r in rows}

    async def write(self, batch: list[ProbeResult], rules: Mapping[str, Rule]) -> list[ProbeResult]:
        """Store a batch; returns its final results (what the state rules judge), oldest first."""
        finals = [r for r in batch if r.final]
        latest: dict[str, tuple] = {}
        changed: set[int] = set()  # id() of final results whose success differs from the previous
        for r in sorted(finals, key=lambda r: r.started_at):
            rule = rules.get(r.monitor_id)
            if rule is None:
                continue  # removed from the config while in flight: keep history, judge nothing
            prev = self.snapshots.get(r.monitor_id)
            if prev is not None and prev.success != r.success:
                changed.add(id(r))
            state = MonitorState(latest={r.location: prev} if prev else {})
            snap = record(state, rule, r).latest[r.location]
            self.snapshots[r.monitor_id] = snap
            latest[r.monitor_id] = latest_row(r, snap)
        dialect = self.db.dialect
        ids = await self.series.ids((r.monitor_id, r.location) for r in batch)
        rows = [raw.encode(ids[(r.monitor_id, r.location)], r, id(r) in changed) for r in batch]
        async with self.db.begin() as conn:
            # A result with the same series, millisecond and attempt is the same probe stored twice.
            sql = driver_insert(dialect, "probe_results", raw.COLUMNS) + " ON CONFLICT DO NOTHING"
            await conn.exec_driver_sql(sql, rows)
            if latest:
                sql = driver_insert(dialect, "probe_latest", LATEST_KEYS + LATEST_COLUMNS, LATEST_KEYS)
                await conn.exec_driver_sql(sql, list(latest.values()))
        self.rollups.add(batch)
        return [r for r in finals if r.monitor_id in latest]

    async def flush_rollups(self, *, coarse: bool = True) -> int:
        return await self.rollups.flush(self.db, coarse=coarse, now=self.clock.now())

    async def forget(self, monitor_ids: set[str]) -> None:
        """A monitor left this location: drop its latest row so /metrics and N-of-M stop seeing it."""
        for ident in monitor_ids:
            self.snapshots.pop(ident, None)
        self.series.forget(monitor_ids)
        if monitor_ids:
            async with self.db.begin() as conn:
                await conn.execute(
                    sa.delete(probe_latest).where(
                        probe_latest.c.location == self.location, probe_latest.c.monitor_id.in_(monitor_ids)
                    )
                )


PRUNE_CHUNK = 500  # series per delete transaction: SQLite's other writers wait milliseconds


async def prune(
    db: Database,
    now: float,
    raw_days: float,
    minute_days: float,
    rollup_days: float,
    *,
    success_days: float | None = None,
    hour_days: float | None = None,
) -> int:
    """Delete history past its retention (idempotent: every prober may run it).

    Tiers: raw successes after ``success_days`` (default ``raw_days``), raw failures and state
    changes after ``raw_days``; minute rollups after ``minute_days``, hour rollups after
    ``hour_days`` (default ``rollup_days``), day rollups after ``rollup_days``. Walked a chunk of
    series at a time along the primary keys, so no index is kept for pruning alone and no delete
    holds the database for long."""
    r, c = probe_results.c, probe_rollups.c
    ms = lambda days: round((now - days * DAY) * 1000)  # noqa: E731
    s = lambda days: now - days * DAY  # noqa: E731
    success_cut = ms(raw_days if success_days is None else min(success_days, raw_days))
    raw_cut = ms(raw_days)
    cuts = {
        60: s(minute_days),
        3600: s(rollup_days if hour_days is None else hour_days),
        86400: s(rollup_days),
    }
    async with db.read() as conn:
        series = await all_series(conn)
    n = 0
    for i in range(0, len(series), PRUNE_CHUNK):
        chunk = series[i : i + PRUNE_CHUNK]
        async with db.begin() as conn:
            mine = r.series_id.in_(chunk)
            n += (await conn.execute(sa.delete(probe_results).where(mine, r.started_ms < raw_cut))).rowcount
            n += (
                await conn.execute(
                    sa.delete(probe_results).where(
                        mine, r.started_ms < success_cut, r.flags.op("&")(raw.KEEP) == 0
                    )
                )
            ).rowcount
            for width, cut in cuts.items():
                q = sa.delete(probe_rollups).where(c.series_id.in_(chunk), c.width == width, c.start < cut)
                n += (await conn.execute(q)).rowcount
    return n

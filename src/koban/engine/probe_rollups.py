"""Per-minute / hour / day rollups of one location's results, accumulated in memory, merged into the DB.

Each stored batch is folded into pending rollups (``koban.probes.rollup``: exact histogram merges).
``flush`` reads the rows those windows already have, merges, and upserts the sums: one SELECT per
resolution and chunk of monitors, one executemany per resolution. Only the prober of a location writes
that location's rows, so this read-merge-write needs no lock; a flush every few seconds keeps the DB
work proportional to the number of monitors, not to the number of probes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from koban.db.engine import Database
from koban.db.schema_probes import probe_rollups
from koban.probes.result import PHASES, ProbeResult
from koban.probes.rollup import METRICS, RESOLUTIONS, Histogram, Rollup, merge, window_start

CHUNK = 500


def upsert(dialect: str, table: sa.Table, keys: list[str], columns: Iterable[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET columns = excluded.columns, on either engine."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return ins.on_conflict_do_update(index_elements=keys, set_={c: ins.excluded[c] for c in columns})


def _row(r: Rollup) -> dict:
    return {
        "monitor_id": r.monitor_id,
        "resolution": r.resolution,
        "start": r.start.timestamp(),
        "location": r.location,
        "count": r.count,
        "failures": r.failures,
        "metrics": {k: h.to_dict() for k, h in r.metrics.items()},
    }


def from_row(row: sa.Row) -> Rollup:
    return Rollup(
        row.monitor_id,
        row.location,
        row.resolution,
        datetime.fromtimestamp(row.start, UTC),
        row.count,
        row.failures,
        {k: Histogram.from_dict(v) for k, v in row.metrics.items()},
    )


class RollupBuffer:
    """Minute windows accumulated in place (one histogram ``add`` per phase per result: a batch of 500
    must cost milliseconds, not the ~0.4 s that building and merging Rollup objects per result took);
    hour and day windows are derived from them at flush time.

    ``flush(coarse=False)`` writes only minute rows and keeps the hour/day deltas in memory, so a prober
    with 100,000 monitors does not read-merge-rewrite every hour and day row every few seconds; graphs of
    up to 25 h read minute rows, which are always current.
    """

    def __init__(self) -> None:
        self._minutes: dict[tuple[str, str, datetime], tuple[list[int], dict[str, Histogram]]] = {}
        self._coarse: dict[tuple[str, str, str, datetime], Rollup] = {}

    def __len__(self) -> int:
        return len(self._minutes) + len(self._coarse)

    def add(self, results: list[ProbeResult]) -> None:
        minutes = self._minutes
        for r in results:
            if not r.final:
                continue
            key = (r.monitor_id, r.location, window_start(r.started_at, "minute"))
            acc = minutes.get(key)
            if acc is None:
                acc = minutes[key] = ([0, 0], {m: Histogram() for m in METRICS})
            counts, hists = acc
            counts[0] += 1
            counts[1] += not r.success
            hists["total"].add(r.duration)
            phases = r.phases
            for phase in PHASES:
                hists[phase].add(getattr(phases, phase))

    async def flush(self, db: Database, *, coarse: bool = True) -> int:
        if not self._minutes and not (coarse and self._coarse):
            return 0
        pending, self._minutes = self._minutes, {}
        minutes = [
            Rollup(m, loc, "minute", start, c[0], c[1], h) for (m, loc, start), (c, h) in pending.items()
        ]
        for res in RESOLUTIONS:
            if res != "minute":
                self._keep(merge(minutes, res))
        out = minutes
        if coarse:
            out = out + list(self._coarse.values())
            held, self._coarse = self._coarse, {}
        try:
            return await self._write(db, out)
        except BaseException:
            # Put the deltas back so the next flush retries them (history is not lost to a DB hiccup).
            self._keep(minutes)
            if coarse:
                self._keep(held.values())
            raise

    def _keep(self, rollups: Iterable[Rollup]) -> None:
        for r in rollups:
            if r.resolution == "minute":
                key = (r.monitor_id, r.location, r.start)
                acc = self._minutes.get(key)
                if acc is None:
                    # Copies: these histograms are also in hour/day deltas; accumulators grow in place.
                    fresh = {m: Histogram().merged(h) for m, h in r.metrics.items()}
                    self._minutes[key] = ([r.count, r.failures], fresh)
                    continue
                acc[0][0] += r.count
                acc[0][1] += r.failures
                for m, h in r.metrics.items():
                    acc[1][m] = acc[1][m].merged(h) if m in acc[1] else h
                continue
            have = self._coarse.get(r.key)
            self._coarse[r.key] = r if have is None else merge([have, r])[0]

    async def _write(self, db: Database, rollups: list[Rollup]) -> int:
        by_res: dict[tuple[str, str], list[Rollup]] = {}
        for r in rollups:
            by_res.setdefault((r.resolution, r.location), []).append(r)
        stmt = upsert(
            db.dialect,
            probe_rollups,
            ["monitor_id", "resolution", "start", "location"],
            ("count", "failures", "metrics"),
        )
        async with db.begin() as conn:
            for (res, location), group in by_res.items():
                for i in range(0, len(group), CHUNK):
                    chunk = group[i : i + CHUNK]
                    c = probe_rollups.c
                    q = sa.select(probe_rollups).where(
                        c.resolution == res,
                        c.location == location,
                        c.start.in_(sorted({r.start.timestamp() for r in chunk})),
                        c.monitor_id.in_(sorted({r.monitor_id for r in chunk})),
                    )
                    stored = {(x.monitor_id, x.start): from_row(x) for x in await conn.execute(q)}
                    rows = []
                    for r in chunk:
                        have = stored.get((r.monitor_id, r.start.timestamp()))
                        rows.append(_row(r if have is None else merge([have, r])[0]))
                    await conn.execute(stmt, rows)
        return len(rollups)

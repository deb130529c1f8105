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
from koban.probes.result import ProbeResult
from koban.probes.rollup import RESOLUTIONS, Histogram, Rollup, merge, rollup_results

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
    def __init__(self) -> None:
        self._pending: dict[tuple[str, str, str, datetime], Rollup] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, results: list[ProbeResult]) -> None:
        minutes = rollup_results(results, "minute")
        for res in RESOLUTIONS:
            fresh = minutes if res == "minute" else merge(minutes, res)
            for r in fresh:
                have = self._pending.get(r.key)
                self._pending[r.key] = r if have is None else merge([have, r])[0]

    async def flush(self, db: Database) -> int:
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        try:
            return await self._write(db, list(pending.values()))
        except BaseException:
            # Put the deltas back so the next flush retries them (history is not lost to a DB hiccup).
            for key, r in pending.items():
                have = self._pending.get(key)
                self._pending[key] = r if have is None else merge([have, r])[0]
            raise

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

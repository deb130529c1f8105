"""Per-minute / hour / day rollups of one location's results, kept whole in memory, written as upserts.

Only the prober of a location (or of its shard: ``koban.probes.shard``) writes that location's rows
for its monitors, so the copy in memory *is* the row: each open window (the current minute, hour and
day of every monitor) is accumulated in place as results arrive (``add``: a histogram ``add`` per
phase per resolution), and ``flush`` overwrites the changed rows with plain upserts: no read, no
merge, no JSON parsing on the write path. The one exception is a window this buffer did not hold
from its start: it opened before the process started (a restart, or a monitor moved between shards)
or was already dropped from memory (a late result for a closed window). Such a window may already
have a row, so its first flush reads that row and merges it in (exact: histograms merge by adding
counts); from then on memory holds the whole window again.

Minute rows are written at every flush; a changed hour/day row about every ``COARSE_SECONDS``
(at 100,000 monitors there are 200,000 of them), each monitor on its own phase of that period
(a stable hash of its id), so every flush writes a thin, even slice of them rather than all at
once every few minutes; ``coarse=True`` (on stop) writes them all. Writes go in chunks, one short
transaction each, so on SQLite the other writers (another shard, the worker paging someone) wait
milliseconds, not the length of the whole flush. ``Prober.stop`` flushes everything, so a clean
restart loses nothing; a crash loses at most the unflushed interval, as before.
"""

from __future__ import annotations

import asyncio
import math
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from koban.db.engine import Database
from koban.db.schema_probes import probe_rollups
from koban.monitoring.series import SeriesIds
from koban.monitoring.sql import driver_insert
from koban.monitoring.windows import MinuteWindow, Window
from koban.probes import rollup_codec
from koban.probes.result import PHASES, ProbeResult
from koban.probes.rollup import RESOLUTIONS, Rollup, bucket_of

CHUNK = 500  # rows per SELECT (merges) and per write transaction
COARSE_SECONDS = 300.0  # how often a changed hour/day row is rewritten (graphs of up to 25 h read minutes)
# A written window stays in memory this long after its end, for results that arrive late (a probe
# started in it that ran until its timeout, a batch waiting for the store); later ones still count,
# through a merge with the row. Short, because 100,000 monitors' minute windows are most of the memory.
LATE_GRACE = 30.0
ROLLUP_COLUMNS = ("series_id", "width", "start", "count", "failures", "metrics")
ROLLUP_KEYS = ("series_id", "width", "start")
RESOLUTION_OF = {width: name for name, width in RESOLUTIONS.items()}


def upsert(dialect: str, table: sa.Table, keys: list[str], columns: Iterable[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET columns = excluded.columns, on either engine."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return ins.on_conflict_do_update(index_elements=keys, set_={c: ins.excluded[c] for c in columns})


def from_row(row: sa.Row, monitor_id: str, location: str) -> Rollup:
    """A stored ``probe_rollups`` row (of the series of ``monitor_id`` at ``location``)."""
    count = row._mapping["count"]  # ``row.count`` is typed as the tuple method
    return Rollup(
        monitor_id,
        location,
        RESOLUTION_OF[row.width],
        datetime.fromtimestamp(row.start, UTC),
        count,
        row.failures,
        rollup_codec.decode(row.metrics, count),
    )


def to_row(series_id: int, r: Rollup) -> dict:
    """The ``probe_rollups`` row of a Rollup (tests, migrations, seeding)."""
    return {
        "series_id": series_id,
        "width": RESOLUTIONS[r.resolution],
        "start": round(r.start.timestamp()),
        "count": r.count,
        "failures": r.failures,
        "metrics": rollup_codec.encode(r.metrics, r.count),
    }


# (monitor id, location, resolution, window start in epoch seconds)
Key = tuple[str, str, str, float]


def coarse_slot(monitor_id: str, now: float) -> int:
    """The monitor's current ``COARSE_SECONDS`` period, shifted by a stable per-monitor phase."""
    phase = zlib.crc32(monitor_id.encode()) % 1000 / 1000 * COARSE_SECONDS
    return math.floor((now + phase) / COARSE_SECONDS)


class RollupBuffer:
    def __init__(self, now: float, series: SeriesIds) -> None:
        self.series = series
        self._open: dict[Key, Window | MinuteWindow] = {}
        self._dirty: set[Key] = set()
        # Windows starting before this (per resolution) may have rows this buffer did not write.
        self._known_from = dict.fromkeys(RESOLUTIONS, now)

    def __len__(self) -> int:
        return len(self._dirty)

    def add(self, results: list[ProbeResult]) -> None:
        opened, dirty, known_from = self._open, self._dirty, self._known_from
        widths = tuple(RESOLUTIONS.items())
        for r in results:
            if not r.final:
                continue
            ts = r.started_at.timestamp()
            values = [r.duration, *(getattr(r.phases, p) for p in PHASES)]
            measured = [(bucket_of(v), v) for v in values]
            failed = not r.success
            for res, width in widths:
                key = (r.monitor_id, r.location, res, math.floor(ts / width) * width)
                w = opened.get(key)
                if w is None:
                    whole = key[3] >= known_from[res]
                    if res == "minute":
                        w = opened[key] = MinuteWindow(whole)
                    else:
                        w = opened[key] = Window(whole, coarse_slot(r.monitor_id, ts))
                dirty.add(key)
                w.add(measured, failed)

    async def flush(self, db: Database, *, now: float, coarse: bool = True) -> int:
        """Write the changed minute windows and the changed hour/day windows whose period came
        round (all of them when ``coarse``); returns rows written."""
        keys = []
        for k in self._dirty:
            if k[2] != "minute" and not coarse:
                w = self._open[k]
                slot = coarse_slot(k[0], now)
                if slot <= w.slot:
                    continue
                w.slot = slot
            keys.append(k)
        ids = await self.series.ids((k[0], k[1]) for k in keys)
        await self._merge_stored(db, [k for k in keys if not self._open[k].whole], ids)
        sql = driver_insert(db.dialect, "probe_rollups", ROLLUP_COLUMNS, ROLLUP_KEYS)
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            rows = [self._row(k, ids[(k[0], k[1])]) for k in chunk]
            # Clean from the moment they are encoded: results added while this chunk is written
            # mark their window dirty again, for the next flush.
            self._dirty.difference_update(chunk)
            try:
                async with db.begin() as conn:
                    await conn.exec_driver_sql(sql, rows)
            except BaseException:
                self._dirty.update(chunk)  # memory still holds them whole: the next flush retries
                raise
            await asyncio.sleep(0)  # let probes and the API run between chunks
        self._evict(now)
        return len(keys)

    async def _merge_stored(self, db: Database, keys: list[Key], ids: dict[tuple[str, str], int]) -> None:
        groups: dict[str, list[Key]] = {}
        for k in keys:
            groups.setdefault(k[2], []).append(k)
        c = probe_rollups.c
        for res, group in groups.items():
            for i in range(0, len(group), CHUNK):
                chunk = group[i : i + CHUNK]
                q = sa.select(probe_rollups).where(
                    c.width == RESOLUTIONS[res],
                    c.start.in_(sorted({round(k[3]) for k in chunk})),
                    c.series_id.in_(sorted({ids[(k[0], k[1])] for k in chunk})),
                )
                async with db.read() as conn:
                    stored = {(x.series_id, x.start): x for x in await conn.execute(q)}
                for k in chunk:
                    w = self._open[k]
                    if w.whole:
                        continue
                    row = stored.get((ids[(k[0], k[1])], round(k[3])))
                    if row is None:
                        w.whole = True
                    else:
                        w.absorb(from_row(row, k[0], k[1]))

    def _row(self, k: Key, series_id: int) -> tuple:
        """A ``probe_rollups`` row in ``ROLLUP_COLUMNS`` order."""
        w = self._open[k]
        metrics = rollup_codec.encode(w.histograms(), w.count)
        return (series_id, RESOLUTIONS[k[2]], round(k[3]), w.count, w.failures, metrics)

    def _evict(self, now: float) -> None:
        """Drop written windows that closed more than ``LATE_GRACE`` ago (a late result reopens one,
        marked to merge with its row)."""
        for k in [k for k in self._open if k not in self._dirty]:
            end = k[3] + RESOLUTIONS[k[2]]
            if end + LATE_GRACE < now:
                del self._open[k]
                self._known_from[k[2]] = max(self._known_from[k[2]], end)

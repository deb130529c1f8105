"""Disk of probe history (issue 18): bytes per stored row, per probe, and the steady-state size.

Measured on the SQLite file a bench run wrote: ``dbstat`` gives each table's pages (slack included),
so bytes per row are what the disk holds, not what the rows encode to. The steady state at any scale
follows from the retention tiers (koban.core.settings): raw successes for hours, raw failures and
state changes (``KEEP``) for days, minute / hour / day rollups each for their own time.

Hour and day rows of a run a few minutes long hold only a few results, so their size is estimated:
the per-row overhead of the minute table plus the encoded size of an hour (60 results) or a day
(1,440) made by merging that many of the run's minute windows (the same targets, so the same spread
of timings). Pruning is shown by running it (``prune_rate``) while the probers write.
"""

from __future__ import annotations

import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from koban.core.settings import Settings
from koban.db.engine import Database
from koban.monitoring.store import prune
from koban.probes import rollup_codec
from koban.probes.rollup import Histogram

DAY = 86400.0


@dataclass(frozen=True)
class Tables:
    raw_bytes: float  # per raw row
    raw_per_probe: float  # raw rows per scheduled probe (re-checks add some)
    keep_share: float  # raw rows marked KEEP (failures, state changes)
    minute_bytes: float
    hour_bytes: float
    day_bytes: float
    fixed_bytes: int  # everything else (config, latest, series): does not grow with time


def _merged_blob_len(samples: list[tuple[int, bytes]]) -> int:
    total: dict[str, Histogram] = {}
    count = 0
    for n, blob in samples:
        for m, h in rollup_codec.decode(blob, n).items():
            total[m] = total[m].merged(h) if m in total else h
        count += n
    return len(rollup_codec.encode(total, count))


def measure(db: Path, t0: float, t1: float, scheduled_probes: int) -> Tables:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        pages = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
        raw_rows = conn.execute("SELECT COUNT(*) FROM probe_results").fetchone()[0]
        keep = conn.execute("SELECT COUNT(*) FROM probe_results WHERE flags & 4").fetchone()[0]
        in_window = conn.execute(
            "SELECT COUNT(*) FROM probe_results WHERE started_ms >= ? AND started_ms < ?",
            (t0 * 1000, t1 * 1000),
        ).fetchone()[0]
        minute_blob = conn.execute(
            "SELECT AVG(LENGTH(metrics)) FROM probe_rollups WHERE width = 60"
        ).fetchone()[0]
        rollup_rows, blobs = conn.execute(
            "SELECT COUNT(*), SUM(LENGTH(metrics)) FROM probe_rollups"
        ).fetchone()
        sample = conn.execute(
            "SELECT count, metrics FROM probe_rollups WHERE width = 60 ORDER BY start DESC LIMIT 20000"
        ).fetchall()
    # Key, counts and page slack per rollup row: what the table takes besides the encoded histograms.
    overhead = (pages.get("probe_rollups", 0) - (blobs or 0)) / max(1, rollup_rows)
    rng = random.Random(18)
    hour = _merged_blob_len(rng.sample(sample, min(60, len(sample)))) if sample else 0
    day = _merged_blob_len([rng.choice(sample) for _ in range(1440)]) if sample else 0
    grows = {"probe_results", "probe_rollups"}
    return Tables(
        raw_bytes=pages.get("probe_results", 0) / max(1, raw_rows),
        raw_per_probe=in_window / max(1, scheduled_probes),
        keep_share=keep / max(1, raw_rows),
        minute_bytes=overhead + (minute_blob or 0),
        hour_bytes=overhead + hour,
        day_bytes=overhead + day,
        fixed_bytes=sum(v for k, v in pages.items() if k not in grows),
    )


def steady_state(t: Tables, monitors: int, interval: float, s: Settings) -> dict[str, float]:
    """Bytes each tier holds once pruning deletes as much as is written, at the default retention."""
    probes_per_day = monitors * DAY / interval
    raw_days = (
        s.probe_raw_success_retention_days * (1 - t.keep_share) + s.probe_raw_retention_days * t.keep_share
    )
    minutes_per_day = monitors * min(1440.0, probes_per_day / monitors)
    tiers = {
        "raw": probes_per_day * t.raw_per_probe * t.raw_bytes * raw_days,
        "minute": minutes_per_day * t.minute_bytes * s.probe_minute_retention_days,
        "hour": monitors * 24 * t.hour_bytes * s.probe_hour_retention_days,
        "day": monitors * t.day_bytes * s.probe_rollup_retention_days,
    }
    written = probes_per_day * t.raw_per_probe * t.raw_bytes + minutes_per_day * t.minute_bytes
    written += monitors * (24 * t.hour_bytes + t.day_bytes)
    tiers["written_per_probe"] = written / probes_per_day
    tiers["total"] = sum(v for k, v in tiers.items() if k in ("raw", "minute", "hour", "day"))
    # Over what the retention holds: every probe of the raw failure retention (the 7 days).
    tiers["per_probe_amortised"] = tiers["total"] / (probes_per_day * s.probe_raw_retention_days)
    return tiers


async def prune_rate(url: str, since: float, now: float) -> tuple[int, float]:
    """Prune everything stored since ``since`` as if retention ended there (successes and minute
    rows, as the hourly prune does at steady state): (rows deleted, seconds it took)."""
    db = Database(url)
    try:
        days = (now - since) / DAY
        t = time.perf_counter()
        n = await prune(db, now, 7.0, days, 400.0, success_days=days, hour_days=400.0)
        return n, time.perf_counter() - t
    finally:
        await db.dispose()

"""What the soak reads and prints: RSS per process, the generators' counts, errors in the logs,
the database's size against its prediction, and the accepted alerts against the stored ones.

The prediction uses bench/probe_disk.py's per-row figures as docs/benchmarks.md gives them (issue 18,
branch hdisk: raw row 60 B, minute row 44 B, hour row ~204 B, measured with ``dbstat`` on SQLite, page
slack included): the size after the seed, plus each probe's raw row, one minute row per monitor and
minute, one hour row per monitor and hour touched. Within a soak nothing is old enough to prune at
the default retention (raw successes 6 h). The paging and ingest rows (incidents, alerts, deliveries,
the inbox) are not predicted and are shown apart. On PostgreSQL the per-row figures are SQLite's, so
the prediction is a yardstick there, not a target.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.load import percentile
from koban.testing.process import Peer

RAW_ROW_BYTES = 60.0
MINUTE_ROW_BYTES = 44.0
HOUR_ROW_BYTES = 204.0
DAY_ROW_BYTES = 375.0
PROBE_TABLES = ("probe_results", "probe_rollups")


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" 1/")[0].rsplit(" ", 1)[0]


def counts(paths: list[Path]) -> dict:
    """A stream's cumulative counts, summed over its generator processes' last lines (p99: the
    worst); empty before the first line."""
    lasts = []
    for path in paths:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        if lines:
            lasts.append(json.loads(lines[-1]))
    if not lasts:
        return {}
    total = {k: sum(c[k] for c in lasts) for k in ("sent", "ok", "limited", "errors", "missed", "alerts")}
    total |= {"at": max(c["at"] for c in lasts), "p99_ms": max(c["p99_ms"] for c in lasts)}
    return total | {"samples": [x for c in lasts for x in c["samples"]]}


def log_errors(peers: list[Peer]) -> dict[str, list[str]]:
    """Lines at ERROR or CRITICAL, and tracebacks, in each koban process's log."""
    out = {}
    for p in peers:
        text = p.log_path.read_text(errors="replace") if p.log_path.exists() else ""
        marks = ("Traceback", " ERROR", "CRITICAL")
        out[p.name] = [line for line in text.splitlines() if any(m in line for m in marks)]
    return out


class Store:
    """Plain reads of koban's database: the SQLite file, or the scratch PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def sqlite(self) -> Path | None:
        return Path(self.url.removeprefix("sqlite:///")) if self.url.startswith("sqlite") else None

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.sqlite is not None:
            with sqlite3.connect(f"file:{self.sqlite}?mode=ro", uri=True) as conn:
                return conn.execute(sql, params).fetchall()
        pg = self.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(pg) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    def size(self) -> int:
        if self.sqlite is not None:
            wal = self.sqlite.with_name(self.sqlite.name + "-wal")
            return self.sqlite.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        return int(self.rows("SELECT pg_database_size(current_database())")[0][0])

    def table_sizes(self) -> dict[str, int]:
        if self.sqlite is not None:
            q = "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
        else:
            q = (
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
            )
        return {name: int(size) for name, size in self.rows(q)}

    def queued(self) -> int:
        return int(self.rows("SELECT coalesce(sum(alerts), 0) FROM ingest_inbox")[0][0])

    def stored(self, streams: tuple[str, ...]) -> tuple[int, int]:
        """(alerts the streams' incidents hold, alerts of theirs still queued), read in one statement
        so that an alert the drain moves between the two is counted once."""
        marks = ",".join("?" * len(streams))
        q = (
            f"SELECT (SELECT coalesce(sum(alert_count), 0) FROM incidents WHERE service_id IN ({marks})), "
            f"(SELECT coalesce(sum(alerts), 0) FROM ingest_inbox WHERE integration_id IN ({marks}))"
        )
        stored, queued = self.rows(q, streams + streams)[0]
        return int(stored), int(queued)

    def probe_rows(self) -> tuple[int, dict[int, int]]:
        """(raw rows, rollup rows per width in seconds)."""
        raw = self.rows("SELECT count(*) FROM probe_results")[0][0]
        widths = self.rows("SELECT width, count(*) FROM probe_rollups GROUP BY width")
        return int(raw), {int(w): int(n) for w, n in widths}


@dataclass(frozen=True)
class Prediction:
    raw_rows: float
    minute_rows: float
    hour_rows: float
    day_rows: float

    seconds: float

    @property
    def bytes(self) -> float:
        hour, day = (
            _partial(full, self.seconds / width)
            for full, width in ((HOUR_ROW_BYTES, 3600), (DAY_ROW_BYTES, 86400))
        )
        rollups = self.minute_rows * MINUTE_ROW_BYTES + self.hour_rows * hour + self.day_rows * day
        return self.raw_rows * RAW_ROW_BYTES + rollups


def _partial(full: float, filled: float) -> float:
    """A window's row holding ``filled`` (0-1) of its results: probe_disk's figure is for a full one,
    merged from 60 or 1,440 minutes; a row holding one minute's results is a minute row's size."""
    return MINUTE_ROW_BYTES + (full - MINUTE_ROW_BYTES) * min(1.0, filled)


def predict(monitors: int, interval: float, seconds: float) -> Prediction:
    """Rows ``seconds`` of probing write: a raw row a probe, and a rollup row per minute, hour and
    day window touched (on average a run starting anywhere touches ``length / width + 1`` windows)."""
    probes = monitors * seconds / interval
    minutes = monitors * min(seconds / 60 + 1, probes / max(1, monitors))
    hours, days = monitors * (seconds / 3600 + 1), monitors * (seconds / 86400 + 1)
    return Prediction(probes, minutes, hours, days, seconds)


def rss_line(names: list[str], pids: list[int], base: dict[int, float]) -> tuple[str, float]:
    """Each process's RSS and its growth over ``base``: (the text, the worst growth as a fraction)."""
    worst = 0.0
    parts = []
    for name, pid in zip(names, pids, strict=True):
        now = rss_mib(pid)
        if pid in base and base[pid]:
            growth = now / base[pid] - 1
            worst = max(worst, growth)
            parts.append(f"{name} {now:,.0f} MiB ({growth:+.1%})")
        else:
            parts.append(f"{name} {now:,.0f} MiB")
    return ", ".join(parts), worst


def ms(values: list[float], pct: float) -> str:
    return f"{percentile(sorted(values), pct):,.1f} ms" if values else "-"


def gen_line(name: str, c: dict, wanted: float, seconds: float) -> str:
    if not c:
        return f"{name}: no counts yet"
    return (
        f"{name}: {c['ok']:,} x2xx = {c['alerts'] / max(seconds, 1e-9):,.0f} alerts/s accepted "
        f"(wanted {wanted:,.0f}); 429 {c['limited']:,}, missed {c['missed']:,}, errors {c['errors']}; "
        f"p99 {c['p99_ms']:.1f} ms (its last 10 s)"
    )

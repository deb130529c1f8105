"""Per-minute / hour / day aggregates of probe results: counts, failures, p50/p95/max per phase. Pure.

Percentiles come from a fixed log-bucket histogram: bucket ``i`` holds values in
``[1 us * 1.1**i, 1 us * 1.1**(i+1))`` and is reported at its geometric middle, so any percentile is
within ~4.9 % (sqrt(1.1) - 1) of a value actually in its rank's bucket; results are clamped to the exact
min/max. Histograms merge by adding counts, exactly, so an hour is the merge of its minutes and a day
of its hours with no loss beyond that bucket error. Sparse (only non-empty buckets), so a loopback
monitor needs a dozen buckets, which keeps the persisted JSON small.
Only final attempts are counted: an immediate re-check is part of the same scheduled probe.
A stored histogram also carries its p50/p95 (``to_dict``), computed once when the row is written, so a
24 h graph of one location reads 1,440 precomputed summaries instead of rebuilding 8,640 histograms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from koban.probes.result import PHASES, ProbeResult

GROWTH = 1.1
MIN_VALUE = 1e-6  # seconds; anything faster goes in bucket 0
METRICS: tuple[str, ...] = ("total", *PHASES)
RESOLUTIONS = {"minute": 60, "hour": 3600, "day": 86400}
_LOG_GROWTH = math.log(GROWTH)
DIGITS = 7  # stored seconds: 0.1 us


def bucket_of(value: float) -> int:
    if value <= MIN_VALUE:
        return 0
    return int(math.log(value / MIN_VALUE) / _LOG_GROWTH)


def bucket_value(index: int) -> float:
    value: float = MIN_VALUE * GROWTH ** (index + 0.5)
    return value


@dataclass(slots=True)
class Histogram:
    counts: dict[int, int] = field(default_factory=dict)
    count: int = 0
    total: float = 0.0
    min: float = math.inf
    max: float = 0.0

    def add(self, value: float, bucket: int | None = None) -> None:
        """Count ``value``; ``bucket`` is ``bucket_of(value)`` when the caller already has it."""
        b = bucket_of(value) if bucket is None else bucket
        counts = self.counts
        counts[b] = counts.get(b, 0) + 1
        self.count += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def merged(self, other: Histogram) -> Histogram:
        counts = dict(self.counts)
        for b, n in other.counts.items():
            counts[b] = counts.get(b, 0) + n
        return Histogram(
            counts,
            self.count + other.count,
            self.total + other.total,
            min(self.min, other.min),
            max(self.max, other.max),
        )

    def quantile(self, q: float) -> float:
        return self.quantiles(q)[0]

    def quantiles(self, *qs: float) -> list[float]:
        """Several quantiles (ascending ``qs``) in one walk of the buckets."""
        if not self.count:
            return [0.0] * len(qs)
        ranks = [max(1, math.ceil(q * self.count)) for q in qs]
        out: list[float] = []
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            while len(out) < len(ranks) and seen >= ranks[len(out)]:
                out.append(min(max(bucket_value(b), self.min), self.max))
            if len(out) == len(ranks):
                return out
        return out + [self.max] * (len(ranks) - len(out))

    def to_dict(self) -> dict[str, Any]:
        """The stored form. Seconds are rounded to 0.1 us (``DIGITS``): full float reprs doubled the
        size of a minute row, the thing 100,000 monitors write most of, for precision nobody reads."""
        d = {
            "counts": {str(k): v for k, v in self.counts.items()},
            "count": self.count,
            "sum": round(self.total, DIGITS),
            "min": round(self.min, DIGITS) if self.count else 0.0,
            "max": round(self.max, DIGITS),
        }
        if self.count > 1:  # of one value, p50 = p95 = max (``summary_of``)
            p50, p95 = self.quantiles(0.5, 0.95)
            # Derived, for readers that only chart (``summary_of``); ignored by from_dict.
            d["p50"], d["p95"] = round(p50, DIGITS), round(p95, DIGITS)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Histogram:
        count = int(d["count"])
        return cls(
            {int(k): int(v) for k, v in d["counts"].items()},
            count,
            float(d["sum"]),
            float(d["min"]) if count else math.inf,
            float(d["max"]),
        )


def summary_of(stored: dict[str, Any]) -> dict[str, float] | None:
    """A stored histogram's p50/p95/max/avg, as ``Rollup.summary`` gives, without rebuilding it;
    None for rows written before the quantiles were stored."""
    count = stored["count"]
    if count <= 1:  # every quantile of one value is that value (0 when empty)
        p50 = p95 = stored["max"]
    elif "p95" in stored:
        p50, p95 = stored["p50"], stored["p95"]
    else:
        return None
    return {"p50": p50, "p95": p95, "max": stored["max"], "avg": stored["sum"] / count if count else 0.0}


@dataclass(frozen=True, slots=True)
class Rollup:
    """One window of one monitor at one location; ``start`` is the window's UTC start."""

    monitor_id: str
    location: str
    resolution: str
    start: datetime
    count: int = 0
    failures: int = 0
    metrics: dict[str, Histogram] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        return (self.monitor_id, self.location, self.resolution, self.start)

    def summary(self) -> dict[str, dict[str, float]]:
        """Seconds: p50/p95/max/avg of each metric (what a chart or an SLO report reads)."""
        out = {}
        for name, h in self.metrics.items():
            avg = h.total / h.count if h.count else 0.0
            p50, p95 = h.quantiles(0.5, 0.95)
            out[name] = {"p50": p50, "p95": p95, "max": h.max, "avg": avg}
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor_id": self.monitor_id,
            "location": self.location,
            "resolution": self.resolution,
            "start": self.start.isoformat(),
            "count": self.count,
            "failures": self.failures,
            "metrics": {k: h.to_dict() for k, h in self.metrics.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rollup:
        return cls(
            d["monitor_id"],
            d["location"],
            d["resolution"],
            datetime.fromisoformat(d["start"]),
            int(d["count"]),
            int(d["failures"]),
            {k: Histogram.from_dict(v) for k, v in d["metrics"].items()},
        )


def window_start(at: datetime, resolution: str) -> datetime:
    seconds = RESOLUTIONS[resolution]
    epoch = datetime(1970, 1, 1, tzinfo=at.tzinfo)
    elapsed = int((at - epoch).total_seconds()) // seconds * seconds
    return epoch + timedelta(seconds=elapsed)


def rollup_results(results: Iterable[ProbeResult], resolution: str = "minute") -> list[Rollup]:
    """Aggregate raw results into windows (by probe start time)."""
    acc: dict[tuple[str, str, datetime], tuple[list[int], dict[str, Histogram]]] = {}
    for r in results:
        if not r.final:
            continue
        key = (r.monitor_id, r.location, window_start(r.started_at, resolution))
        counts, hists = acc.setdefault(key, ([0, 0], {m: Histogram() for m in METRICS}))
        counts[0] += 1
        counts[1] += not r.success
        hists["total"].add(r.duration)
        for phase in PHASES:
            hists[phase].add(getattr(r.phases, phase))
    return [Rollup(m, loc, resolution, start, c[0], c[1], h) for (m, loc, start), (c, h) in acc.items()]


def merge(rollups: Iterable[Rollup], resolution: str | None = None) -> list[Rollup]:
    """Merge rollups into (possibly coarser) windows: minutes -> hours -> days, or re-merge duplicates."""
    acc: dict[tuple[str, str, datetime], Rollup] = {}
    for r in rollups:
        res = resolution or r.resolution
        if RESOLUTIONS[res] < RESOLUTIONS[r.resolution]:
            raise ValueError(f"cannot split {r.resolution} rollups into {res}")
        key = (r.monitor_id, r.location, window_start(r.start, res))
        have = acc.get(key)
        if have is None:
            acc[key] = Rollup(r.monitor_id, r.location, res, key[2], r.count, r.failures, dict(r.metrics))
            continue
        metrics = {m: have.metrics.get(m, Histogram()).merged(h) for m, h in r.metrics.items()}
        acc[key] = Rollup(
            r.monitor_id,
            r.location,
            res,
            key[2],
            have.count + r.count,
            have.failures + r.failures,
            {**have.metrics, **metrics},
        )
    return list(acc.values())

"""Open rollup windows in memory, compact: what ``RollupBuffer`` accumulates results into.

An hour or day window (``Window``) keeps each metric's bucket counts as a run of consecutive buckets
in one shared array; a minute window (``MinuteWindow``, short-lived) a dict. Both add a result in
place, merge a stored row in (``absorb``, exact: bucket counts add up) and give back Histograms to
write the row (``histograms``).
"""

from __future__ import annotations

import math
from array import array

from koban.probes.rollup import METRICS, Histogram, Rollup

_METRIC_INDEX = {m: i for i, m in enumerate(METRICS)}
_EMPTY_STATS = [0.0, math.inf, 0.0] * len(METRICS)  # per metric: sum, min, max
_EMPTY_RUNS = [0, 0] * len(METRICS)  # per metric: first bucket, number of buckets


class Window:
    """An open hour or day window, compact (100,000 monitors keep 200,000 of them, and an hour or a day of a
    jittery target fills 20-60 neighbouring buckets per metric): each metric's bucket counts are a
    run of consecutive buckets in one shared array (``runs`` holds each run's first bucket and
    length), and ``stats`` the sum/min/max per metric; a dict of bucket counts per window cost
    ~7 KB for an hour, this ~1 KB. ``histograms()`` rebuilds Histograms to write the row.
    ``whole``: memory holds all of the window (else the stored row must be merged in); ``slot``:
    the coarse period (``coarse_slot``) it was last written or opened in."""

    __slots__ = ("count", "failures", "runs", "counts", "stats", "whole", "slot")

    def __init__(self, whole: bool, slot: int = 0) -> None:
        self.count = 0
        self.failures = 0
        self.runs = array("i", _EMPTY_RUNS)
        self.counts = array("I")
        self.stats = array("d", _EMPTY_STATS)
        self.whole = whole
        self.slot = slot

    def _bump(self, i: int, offset: int, bucket: int, n: int) -> None:
        """Add ``n`` to metric ``i``'s ``bucket``; its run starts at ``offset`` in ``counts``."""
        runs, counts = self.runs, self.counts
        lo, size = runs[2 * i], runs[2 * i + 1]
        if size == 0:
            counts.insert(offset, n)
            runs[2 * i], runs[2 * i + 1] = bucket, 1
        elif bucket < lo:
            counts[offset:offset] = array("I", [n] + [0] * (lo - bucket - 1))
            runs[2 * i], runs[2 * i + 1] = bucket, size + lo - bucket
        elif bucket >= lo + size:
            at = offset + size
            counts[at:at] = array("I", [0] * (bucket - lo - size) + [n])
            runs[2 * i + 1] = bucket - lo + 1
        else:
            counts[offset + bucket - lo] += n

    def add(self, measured: list[tuple[int, float]], failed: bool) -> None:
        """One result: ``(bucket, value)`` per metric, in METRICS order."""
        self.count += 1
        self.failures += failed
        runs, counts, stats = self.runs, self.counts, self.stats
        offset = o = j = 0
        for bucket, v in measured:
            k = bucket - runs[j]
            if 0 <= k < runs[j + 1]:  # the usual case: inside the run (never, while it is empty)
                counts[offset + k] += 1
            else:
                self._bump(j >> 1, offset, bucket, 1)
            offset += runs[j + 1]
            if v < stats[o + 1]:
                stats[o + 1] = v
            if v > stats[o + 2]:
                stats[o + 2] = v
            stats[o] += v
            o += 3
            j += 2

    def histograms(self) -> dict[str, Histogram]:
        out = {}
        runs, counts, st = self.runs, self.counts, self.stats
        offset = 0
        for i, m in enumerate(METRICS):
            lo, size = runs[2 * i], runs[2 * i + 1]
            buckets = {lo + k: n for k, n in enumerate(counts[offset : offset + size]) if n}
            offset += size
            out[m] = Histogram(buckets, self.count, st[3 * i], st[3 * i + 1], st[3 * i + 2])
        return out

    def absorb(self, stored: Rollup) -> None:
        """Merge the window's stored row in (exact: bucket counts add up)."""
        self.count += stored.count
        self.failures += stored.failures
        stats = self.stats
        for m, h in stored.metrics.items():
            i = _METRIC_INDEX[m]
            for b, n in h.counts.items():
                offset = sum(self.runs[2 * j + 1] for j in range(i))
                self._bump(i, offset, b, n)
            stats[3 * i] += h.total
            stats[3 * i + 1] = min(stats[3 * i + 1], h.min)
            stats[3 * i + 2] = max(stats[3 * i + 2], h.max)
        self.whole = True


_SHIFT = 12  # a bucket index stays far below 4,096 (bucket 400 is ~12 days)


class MinuteWindow:
    """A minute window: one or a few results, dropped from memory soon after it closes, so it is
    kept the fast way (one dict of bucket counts for all metrics, ``metric index << _SHIFT |
    bucket``); adding to the run arrays of ``Window`` costs ~2x the CPU for no lasting memory."""

    __slots__ = ("count", "failures", "buckets", "stats", "whole", "slot")

    def __init__(self, whole: bool, slot: int = 0) -> None:
        self.count = 0
        self.failures = 0
        self.buckets: dict[int, int] = {}
        self.stats = array("d", _EMPTY_STATS)
        self.whole = whole
        self.slot = slot

    def add(self, measured: list[tuple[int, float]], failed: bool) -> None:
        """One result: ``(bucket, value)`` per metric, in METRICS order."""
        self.count += 1
        self.failures += failed
        buckets, stats = self.buckets, self.stats
        o = 0
        for i, (bucket, v) in enumerate(measured):
            key = i << _SHIFT | bucket
            buckets[key] = buckets.get(key, 0) + 1
            stats[o] += v
            if v < stats[o + 1]:
                stats[o + 1] = v
            if v > stats[o + 2]:
                stats[o + 2] = v
            o += 3

    def histograms(self) -> dict[str, Histogram]:
        counts: list[dict[int, int]] = [{} for _ in METRICS]
        mask = (1 << _SHIFT) - 1
        for key, n in self.buckets.items():
            counts[key >> _SHIFT][key & mask] = n
        st = self.stats
        return {
            m: Histogram(counts[i], self.count, st[3 * i], st[3 * i + 1], st[3 * i + 2])
            for i, m in enumerate(METRICS)
        }

    def absorb(self, stored: Rollup) -> None:
        """Merge the window's stored row in (exact: bucket counts add up)."""
        self.count += stored.count
        self.failures += stored.failures
        buckets, stats = self.buckets, self.stats
        for m, h in stored.metrics.items():
            i = _METRIC_INDEX[m]
            for b, n in h.counts.items():
                key = i << _SHIFT | b
                buckets[key] = buckets.get(key, 0) + n
            stats[3 * i] += h.total
            stats[3 * i + 1] = min(stats[3 * i + 1], h.min)
            stats[3 * i + 2] = max(stats[3 * i + 2], h.max)
        self.whole = True

"""A graph's points from stored rollups, and fewer of them when a screen cannot show them all. Pure.

``windows`` turns the rollup rows of one monitor (one window of one series each, in time order) into
``Window``s: a window of one result is charted from its values, one of many from the quantiles of its
histogram (``rollup_codec.summaries``: read from the stored bytes, no histogram built), and the
locations of one window are merged exactly when a graph shows them together.

It also groups consecutive windows (``group_width``) so that a range holds at most ``most`` of them
(a 24 h graph of minutes is 1,440 windows; a plot ~700 px wide shows a few hundred): a group keeps the
highest p95 and max of its windows, so a spike is never averaged away, the count-weighted mean of
the p50s and averages, and the sum of counts and failures, so every failure stays marked. Groups
are aligned on multiples of their width since the epoch, so the same range gives the same points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from koban.monitoring.rollups import from_row
from koban.probes import rollup_codec
from koban.probes.rollup import DIGITS, METRICS, merge

Seconds = dict[str, dict[str, float]]  # metric -> p50/p95/max/avg


@dataclass(frozen=True, slots=True)
class Window:
    at: float  # the window's start, epoch seconds
    count: int
    failures: int
    seconds: Seconds
    location: str | None = None  # None: all locations merged

    def as_json(self) -> dict[str, Any]:
        """The REST API's form (seconds rounded to what is stored: 0.1 us)."""
        return {
            "start": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "location": self.location,
            "count": self.count,
            "failures": self.failures,
            "uptime": (self.count - self.failures) / self.count if self.count else None,
            "seconds": {
                m: {k: round(v, DIGITS) for k, v in stats.items()} for m, stats in self.seconds.items()
            },
        }


def windows(
    rows: Sequence[sa.Row], series: Mapping[int, str], location: str | None, step: float = 0.0
) -> list[Window]:
    """``rows`` sorted by (start, location); with no ``location``, the rows of one start go together.
    With a ``step`` (``group_width``), consecutive windows are grouped as the module's docstring says,
    from their summaries directly: a 24 h graph of 300 points builds 300 points, not 1,440 and 300 more."""
    out: list[Window] = []
    acc: _Group | None = None
    i = 0
    while i < len(rows):
        j = i + 1
        if location is None:
            while j < len(rows) and rows[j].start == rows[i].start:
                j += 1
        if j == i + 1:  # one location: most windows, so no slice and no generator
            r = rows[i]
            count = r._mapping["count"]  # ``r.count`` is typed as the tuple method
            at, failures, stats = float(r.start), r.failures, rollup_codec.summaries(r.metrics, count)
        else:
            at, count, failures, stats = _window(rows[i:j])
        key = math.floor(at / step) * step if step else at
        if acc is None or acc.at != key:
            if acc is not None:
                out.append(acc.window())
            acc = _Group(key, series[rows[i].series_id] if location is not None else None)
        acc.add(count, failures, stats)
        i = j
    if acc is not None:
        out.append(acc.window())
    return out


def _window(rows: Sequence[sa.Row]) -> tuple[float, int, int, list[rollup_codec.Summary]]:
    """Several locations in one window: their histograms merged exactly."""
    count = sum(x._mapping["count"] for x in rows)
    merged = merge(from_row(x, "", "") for x in rows)[0].summary()
    stats = [(s["p50"], s["p95"], s["max"], s["avg"]) for s in (merged[m] for m in METRICS)]
    return float(rows[0].start), count, sum(x.failures for x in rows), stats


class _Group:
    """Windows being grouped: sums weighted by count for p50 and avg, highest p95 and max."""

    __slots__ = ("at", "location", "count", "failures", "n", "p50", "p95", "max", "avg", "last")

    def __init__(self, at: float, location: str | None) -> None:
        self.at, self.location = at, location
        self.count = self.failures = self.n = 0
        self.p50 = [0.0] * len(METRICS)
        self.p95 = [0.0] * len(METRICS)
        self.max = [0.0] * len(METRICS)
        self.avg = [0.0] * len(METRICS)
        self.last: list[rollup_codec.Summary] = []

    def add(self, count: int, failures: int, stats: list[rollup_codec.Summary]) -> None:
        self.count += count
        self.failures += failures
        self.n += 1
        self.last = stats
        p50, p95, top, avg = self.p50, self.p95, self.max, self.avg
        for k, (a, b, c, d) in enumerate(stats):
            p50[k] += count * a
            avg[k] += count * d
            if b > p95[k]:
                p95[k] = b
            if c > top[k]:
                top[k] = c

    def window(self) -> Window:
        if self.n == 1:  # as stored, not through a weighted mean's rounding
            rows = self.last
        else:
            w = self.count or 1
            rows = [(self.p50[k] / w, self.p95[k], self.max[k], self.avg[k] / w) for k in range(len(METRICS))]
        seconds = {
            m: {"p50": a, "p95": b, "max": c, "avg": d} for m, (a, b, c, d) in zip(METRICS, rows, strict=True)
        }
        return Window(self.at, self.count, self.failures, seconds, self.location)


def group_width(width: float, since: float, until: float, most: int) -> float:
    """The width of a group of windows that puts at most ``most`` over ``[since, until)``; 0 when
    the windows are few enough as they are."""
    k = math.ceil((until - since) / width / most) if width > 0 and most > 0 else 1
    return width * k if k > 1 else 0.0

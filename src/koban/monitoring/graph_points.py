"""A graph's points from stored rollups, and fewer of them when a screen cannot show them all. Pure.

``windows`` turns the rollup rows of one monitor (one window of one series each, in time order) into
``Window``s: a window of one result is charted from its values, one of many from the quantiles of its
histogram (``rollup_codec.summaries``: read from the stored bytes, no histogram built), and the
locations of one window are merged exactly when a graph shows them together.

``downsample`` groups consecutive windows so that a range holds at most ``most`` of them (a 24 h
graph of minutes is 1,440 windows; a plot ~700 px wide shows a few hundred): a group keeps the
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


def windows(rows: Sequence[sa.Row], series: Mapping[int, str], location: str | None) -> list[Window]:
    """``rows`` sorted by (start, location); with no ``location``, the rows of one start go together."""
    out = []
    i = 0
    while i < len(rows):
        j = i + 1
        if location is None:
            while j < len(rows) and rows[j].start == rows[i].start:
                j += 1
        out.append(_window(rows[i:j], series, location))
        i = j
    return out


def _window(rows: Sequence[sa.Row], series: Mapping[int, str], location: str | None) -> Window:
    first = rows[0]
    count = sum(x._mapping["count"] for x in rows)  # ``x.count`` is typed as the tuple method
    seconds: Seconds
    if len(rows) == 1:
        stats = rollup_codec.summaries(first.metrics, count)
        seconds = {
            m: {"p50": p50, "p95": p95, "max": top, "avg": avg}
            for m, (p50, p95, top, avg) in zip(METRICS, stats, strict=True)
        }
    else:  # several locations in one window: their histograms merged exactly
        seconds = merge(from_row(x, "", "") for x in rows)[0].summary()
    return Window(
        float(first.start),
        count,
        sum(x.failures for x in rows),
        seconds,
        series[first.series_id] if location is not None else None,
    )


def downsample(points: Sequence[Window], width: float, since: float, until: float, most: int) -> list[Window]:
    """At most about ``most`` windows over ``[since, until)`` (see the module's docstring)."""
    k = math.ceil((until - since) / width / most) if width > 0 and most > 0 else 1
    if k <= 1:
        return list(points)
    return group(points, width * k)


def group(points: Sequence[Window], step: float) -> list[Window]:
    """Windows grouped by ``step`` seconds (aligned on the epoch), in time order."""
    groups: dict[float, list[Window]] = {}
    for p in points:
        groups.setdefault(math.floor(p.at / step) * step, []).append(p)
    return [_merged(at, ps) for at, ps in groups.items()]


def _merged(at: float, ps: Sequence[Window]) -> Window:
    if len(ps) == 1:
        return Window(at, ps[0].count, ps[0].failures, ps[0].seconds, ps[0].location)
    count = sum(p.count for p in ps)
    weight = count or 1
    seconds: Seconds = {}
    for metric in dict.fromkeys(m for p in ps for m in p.seconds):
        vals = [(p.count, p.seconds[metric]) for p in ps if metric in p.seconds]
        seconds[metric] = {
            "p50": sum(c * v.get("p50", 0.0) for c, v in vals) / weight,
            "p95": max(v.get("p95", 0.0) for _, v in vals),
            "max": max(v.get("max", 0.0) for _, v in vals),
            "avg": sum(c * v.get("avg", 0.0) for c, v in vals) / weight,
        }
    return Window(at, count, sum(p.failures for p in ps), seconds, ps[0].location)

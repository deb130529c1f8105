"""Percentiles, zone-aware periods and time formatting shared by the reports. Pure.

Percentiles are nearest-rank: p90 of n values is the smallest value with at least 90 % of the values
at or below it (``sorted[ceil(0.9 n) - 1]``). Every percentile is one of the measured values, so a
figure can always be traced back to one incident.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month")


def percentile(values: Sequence[float], p: float, ordered: bool = False) -> float | None:
    """``ordered``: ``values`` are sorted already."""
    if not values:
        return None
    if not ordered:
        values = sorted(values)
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """count, p50, p90 and max of durations in seconds (None when there is none)."""

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    ordered = sorted(values)
    return {
        "count": len(values),
        "p50": r(percentile(ordered, 50, ordered=True)),
        "p90": r(percentile(ordered, 90, ordered=True)),
        "max": r(ordered[-1] if ordered else None),
    }


@functools.lru_cache(maxsize=1 << 16)  # a report repeats the same minutes across many monitors
def iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def bucket(at: float, grain: str, tz: str) -> str:
    """The local date that starts the day, week (Monday) or month holding ``at`` in zone ``tz``."""
    local = datetime.fromtimestamp(at, ZoneInfo(tz))
    day = local.date()
    if grain == "week":
        day -= timedelta(days=day.weekday())
    elif grain == "month":
        day = day.replace(day=1)
    elif grain != "day":
        raise ValueError(f"unknown period {grain!r}: use day, week or month")
    return day.isoformat()


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _label(day: date, grain: str) -> str:
    if grain == "week":
        day -= timedelta(days=day.weekday())
    elif grain == "month":
        day = day.replace(day=1)
    return day.isoformat()


def bucketer(grain: str, tz: str) -> Callable[[float], str]:
    """``bucket`` for many instants, the same answers: the zone's offset looked up once per UTC hour
    in which it does not change (others computed by ``bucket``), the label once per local day."""
    zone = ZoneInfo(tz)
    bucket(0.0, grain, tz)  # an unknown grain raises here, not at the first instant
    offsets: dict[float, float] = {}
    labels: dict[int, str] = {}

    def offset(at: float) -> float:
        off = datetime.fromtimestamp(at, zone).utcoffset()
        return math.nan if off is None else off.total_seconds()

    def cut(at: float) -> str:
        hour = at // 3600
        o = offsets.get(hour)
        if o is None:
            a, b = offset(hour * 3600), offset(hour * 3600 + 3599.999)
            o = offsets[hour] = a if a == b and a == int(a) else math.nan
        if o != o or at < 0:  # a change within the hour, or an offset in fractions of a second
            return bucket(at, grain, tz)
        # As ``datetime.fromtimestamp`` reads a float: microseconds rounded half to even.
        frac, whole = math.modf(at)
        seconds = int(whole) + (round(frac * 1e6) >= 1_000_000) + int(o)
        day = seconds // 86400
        label = labels.get(day)
        if label is None:
            label = labels[day] = _label(date.fromordinal(EPOCH_ORDINAL + day), grain)
        return label

    return cut


def ratio_change(now: float | None, before: float | None) -> float | None:
    """Relative change from ``before`` to ``now`` (-0.25: a quarter less), None without a base."""
    if now is None or before is None or before == 0:
        return None
    return round((now - before) / before, 4)

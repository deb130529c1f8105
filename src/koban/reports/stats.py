"""Percentiles, zone-aware periods and time formatting shared by the reports. Pure.

Percentiles are nearest-rank: p90 of n values is the smallest value with at least 90 % of the values
at or below it (``sorted[ceil(0.9 n) - 1]``). Every percentile is one of the measured values, so a
figure can always be traced back to one incident.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month")


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """count, p50, p90 and max of durations in seconds (None when there is none)."""

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {
        "count": len(values),
        "p50": r(percentile(values, 50)),
        "p90": r(percentile(values, 90)),
        "max": r(max(values) if values else None),
    }


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


def ratio_change(now: float | None, before: float | None) -> float | None:
    """Relative change from ``before`` to ``now`` (-0.25: a quarter less), None without a base."""
    if now is None or before is None or before == 0:
        return None
    return round((now - before) / before, 4)

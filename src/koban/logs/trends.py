"""What changed: patterns new since the previous N days, and the biggest movers against the median of
the same window on the same weekday of the last N weeks. Pure: windows and answers are passed in.

One history query per digest run (``history_body``): a ``filter`` aggregation over the N days before
the window (the known patterns), and a ``filters`` aggregation with one bucket per earlier week (the
same local window shifted by 7, 14... days, so a DST change between weeks is counted right).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from koban.logs.patterns import mask
from koban.logs.queries import filter_clause, time_range
from koban.logs.windows import Window

HISTORY_BUCKETS = 5000  # distinct messages looked at per history bucket


@dataclass(frozen=True, slots=True)
class Mover:
    pattern: str
    count: int  # in this window
    median: float  # of the same window in earlier weeks
    change: float  # count - median


def shifted(window: Window, weeks: int, zone: ZoneInfo) -> Window:
    """The same local window ``weeks`` weeks earlier (wall-clock arithmetic in ``zone``)."""
    days = timedelta(days=7 * weeks)
    start = (window.start.astimezone(zone) - days).astimezone(window.start.tzinfo)
    end = (window.end.astimezone(zone) - days).astimezone(window.end.tzinfo)
    return Window(start, end)


def history_body(
    *, time_field: str, message_field: str, levels: Sequence[str], level_field: str, flt: Any,
    window: Window, zone: ZoneInfo, new_days: int, weeks: int,
) -> dict[str, Any] | None:  # fmt: skip
    if not new_days and not weeks:
        return None
    earliest = window.start - timedelta(days=new_days)
    if weeks:
        earliest = min(earliest, shifted(window, weeks, zone).start)
    filters = [time_range(time_field, earliest, window.start), *filter_clause(flt)]
    if levels:
        filters.append({"terms": {level_field: list(levels)}})
    messages = {"terms": {"field": message_field, "size": HISTORY_BUCKETS}}
    aggs: dict[str, Any] = {}
    if new_days:
        aggs["known"] = {
            "filter": time_range(time_field, window.start - timedelta(days=new_days), window.start),
            "aggs": {"messages": messages},
        }
    if weeks:
        ranges = {}
        for k in range(1, weeks + 1):
            w = shifted(window, k, zone)
            ranges[str(k)] = time_range(time_field, w.start, w.end)
        aggs["weeks"] = {"filters": {"filters": ranges}, "aggs": {"messages": messages}}
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": aggs}


def _patterns(buckets: Sequence[Mapping[str, Any]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for b in buckets:
        out[mask(str(b["key"]))] += int(b["doc_count"])
    return out


def new_patterns(answer: Mapping[str, Any], current: Mapping[str, int]) -> list[str]:
    """Patterns of this window not seen in the N days before it (most frequent first)."""
    known = _patterns(answer.get("aggregations", {}).get("known", {}).get("messages", {}).get("buckets", []))
    return [p for p, _ in sorted(current.items(), key=lambda kv: (-kv[1], kv[0])) if p not in known]


def movers(answer: Mapping[str, Any], current: Mapping[str, int], weeks: int, top: int) -> list[Mover]:
    """The patterns whose count moved most from the median of the earlier weeks (a week without the
    pattern counts 0); ties by pattern. Only changes of at least one entry are movers."""
    buckets = answer.get("aggregations", {}).get("weeks", {}).get("buckets", {})
    per_week = [
        _patterns(buckets.get(str(k), {}).get("messages", {}).get("buckets", [])) for k in range(1, weeks + 1)
    ]
    if not per_week:
        return []
    candidates = set(current) | {p for w in per_week for p in w}
    found = []
    for p in candidates:
        median = float(statistics.median(w.get(p, 0) for w in per_week))
        change = current.get(p, 0) - median
        if abs(change) >= 1:
            found.append(Mover(p, current.get(p, 0), median, change))
    return sorted(found, key=lambda m: (-abs(m.change), m.pattern))[:top]

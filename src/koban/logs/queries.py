"""The search bodies koban sends: aggregations only (size 0), one request per digest or rule run. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

# Enough distinct messages to merge into patterns; the terms agg is bounded so a noisy index stays cheap.
MESSAGE_BUCKETS = 1000


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def filter_clause(flt: str | Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if flt is None or flt == "":
        return []
    if isinstance(flt, str):
        return [{"query_string": {"query": flt}}]
    return [dict(flt)]


def time_range(field: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {"range": {field: {"gte": iso(start), "lt": iso(end), "format": "strict_date_optional_time"}}}


def digest_body(
    *,
    time_field: str,
    level_field: str,
    message_field: str,
    levels: Sequence[str],
    flt: str | Mapping[str, Any] | None,
    start: datetime,
    end: datetime,
    zone: str,
) -> dict[str, Any]:
    filters = [time_range(time_field, start, end), *filter_clause(flt)]
    if levels:
        filters.append({"terms": {level_field: list(levels)}})
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": filters}},
        "aggs": {
            "levels": {"terms": {"field": level_field, "size": 100}},
            "hours": {
                "date_histogram": {
                    "field": time_field,
                    "fixed_interval": "1h",
                    "time_zone": zone,
                    "min_doc_count": 0,
                    "extended_bounds": {"min": iso(start), "max": iso(end)},
                }
            },
            "messages": {
                "terms": {"field": message_field, "size": MESSAGE_BUCKETS},
                "aggs": {"first": {"min": {"field": time_field}}, "last": {"max": {"field": time_field}}},
            },
        },
    }

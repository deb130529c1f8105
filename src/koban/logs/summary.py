"""A digest's numbers from one aggregation answer, and its Discover link. Pure.

``summarize(answer, window, zone, top)`` -> ``Summary``: counts per level, the average per hour
(total / hours in the window, so a 25-hour DST day is not overstated), the peak hour, and the top
patterns with their count and first/last seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from koban.logs.patterns import mask
from koban.logs.queries import iso
from koban.logs.windows import Window


@dataclass(frozen=True, slots=True)
class Pattern:
    pattern: str
    count: int
    first_seen: str  # ISO 8601 in the digest's zone
    last_seen: str
    example: str


@dataclass(frozen=True, slots=True)
class Summary:
    window_start: str
    window_end: str
    total: int
    levels: dict[str, int]
    per_hour: float
    peak_hour: str | None  # local start of the busiest hour
    peak_count: int
    patterns: list[Pattern]
    new_patterns: list[str] = field(default_factory=list)  # not seen in the N days before (trends.py)
    movers: list[Any] = field(default_factory=list)  # trends.Mover: against the same weekday's median
    # Each row's Discover link (links.row_links): "level:<level>", "peak", "pattern:<pattern>"
    links: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _local(ms: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).isoformat()


def pattern_counts(answer: Mapping[str, Any]) -> dict[str, int]:
    """Every pattern of the window with its count (not only the top N)."""
    out: dict[str, int] = {}
    for b in answer.get("aggregations", {}).get("messages", {}).get("buckets", []):
        key = mask(str(b["key"]))
        out[key] = out.get(key, 0) + int(b["doc_count"])
    return out


def summarize(answer: Mapping[str, Any], window: Window, zone: ZoneInfo, top: int) -> Summary:
    aggs = answer.get("aggregations", {})
    levels = {str(b["key"]): int(b["doc_count"]) for b in aggs.get("levels", {}).get("buckets", [])}
    total_field = answer.get("hits", {}).get("total", 0)
    total = int(total_field["value"] if isinstance(total_field, Mapping) else total_field)
    start_ms, end_ms = window.start.timestamp() * 1000, window.end.timestamp() * 1000
    hours = [b for b in aggs.get("hours", {}).get("buckets", []) if start_ms <= float(b["key"]) < end_ms]
    peak = max(hours, key=lambda b: (int(b["doc_count"]), -float(b["key"])), default=None)
    merged: dict[str, dict[str, Any]] = {}
    for b in aggs.get("messages", {}).get("buckets", []):
        key = mask(str(b["key"]))
        first, last = float(b["first"]["value"]), float(b["last"]["value"])
        m = merged.setdefault(key, {"count": 0, "first": first, "last": last, "example": str(b["key"])})
        m["count"] += int(b["doc_count"])
        m["first"], m["last"] = min(m["first"], first), max(m["last"], last)
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1]["count"], kv[0]))[:top]
    return Summary(
        window_start=window.start.astimezone(zone).isoformat(),
        window_end=window.end.astimezone(zone).isoformat(),
        total=total,
        levels=dict(sorted(levels.items(), key=lambda kv: (-kv[1], kv[0]))),
        per_hour=round(total / window.hours, 2) if window.hours else 0.0,
        peak_hour=_local(float(peak["key"]), zone) if peak and int(peak["doc_count"]) else None,
        peak_count=int(peak["doc_count"]) if peak else 0,
        patterns=[
            Pattern(k, v["count"], _local(v["first"], zone), _local(v["last"], zone), v["example"])
            for k, v in ranked
        ],
    )


def _rison_string(s: str) -> str:
    # Rison (the URL state format of Kibana and OpenSearch Dashboards) quotes with ' and escapes with !.
    return "'" + s.replace("!", "!!").replace("'", "!'") + "'"


def discover_url(*, flavor: str, base: str, index: str, start: datetime, end: datetime, query: str) -> str:
    """Discover opened on ``index`` with exactly this time range and Lucene query."""
    g = f"(time:(from:{_rison_string(iso(start))},to:{_rison_string(iso(end))}))"
    q = f"(language:lucene,query:{_rison_string(query)})"
    safe = "():,'!*"
    root = base.rstrip("/")
    if flavor == "elasticsearch":
        a = f"(index:{_rison_string(index)},query:{q})"
        return f"{root}/app/discover#/?_g={quote(g, safe)}&_a={quote(a, safe)}"
    a = f"(metadata:(indexPattern:{_rison_string(index)}))"
    qs = f"(query:{q})"
    return f"{root}/app/data-explorer/discover#?_g={quote(g, safe)}&_q={quote(qs, safe)}&_a={quote(a, safe)}"


def lucene_query(level_field: str, levels: list[str], flt: object) -> str:
    """The digest's filter as one Lucene string for the link (a DSL filter cannot be written in the URL)."""
    parts = []
    if levels:
        parts.append(f"{level_field}:(" + " OR ".join(f'"{lv}"' for lv in levels) + ")")
    if isinstance(flt, str) and flt:
        parts.append(f"({flt})")
    return " AND ".join(parts)

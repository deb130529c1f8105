"""A Discover link for every row of a digest: each level, the peak hour and each pattern, with that
row's exact time range and query (the digest's levels and filter, narrowed to the row). Pure.

A pattern's query keeps the words its masking left: each run of text between placeholders is a
phrase on the message's text field (``message`` for ``message.keyword``), so Discover shows every
message of the pattern; a message field with no text field behind it is matched on the example.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from koban.config.model_logs import Digest
from koban.logs.summary import Summary, discover_url, lucene_query
from koban.logs.windows import Window

_PLACEHOLDER = re.compile(r"<(?:N|IP|UUID|ID|Q)>")
_SUFFIXES = (".keyword", ".raw")


def _phrase(field: str, text: str) -> str:
    return f'{field}:"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pattern_query(message_field: str, pattern: str, example: str) -> str:
    """Lucene for the messages of a pattern."""
    if not message_field.endswith(_SUFFIXES):
        return _phrase(message_field, example)
    text_field = message_field.rsplit(".", 1)[0]
    words = [w.strip() for w in _PLACEHOLDER.split(pattern) if w.strip()]
    return " AND ".join(_phrase(text_field, w) for w in words) or _phrase(message_field, example)


def _and(*parts: str) -> str:
    return " AND ".join(f"({p})" if " OR " in p or " AND " in p else p for p in parts if p)


def row_links(base: str, flavor: str, digest: Digest, window: Window, summary: Summary) -> dict[str, str]:
    """``level:<level>``, ``peak`` and ``pattern:<pattern>`` (new patterns and movers are patterns
    too) to their Discover links; empty without a dashboards URL."""
    if not base:
        return {}
    query = lucene_query(digest.level_field, digest.levels, digest.filter)

    def url(q: str, start: datetime = window.start, end: datetime = window.end) -> str:
        return discover_url(flavor=flavor, base=base, index=digest.index, start=start, end=end, query=q)

    links = {f"level:{lv}": url(_and(query, _phrase(digest.level_field, lv))) for lv in summary.levels}
    if summary.peak_hour:
        peak = datetime.fromisoformat(summary.peak_hour).astimezone(UTC)
        links["peak"] = url(query, peak, peak + timedelta(hours=1))
    examples = {p.pattern: p.example for p in summary.patterns}
    named = [p.pattern for p in summary.patterns] + list(summary.new_patterns)
    named += [str(getattr(m, "pattern", "")) for m in summary.movers]
    for pattern in dict.fromkeys(p for p in named if p):
        q = pattern_query(digest.message_field, pattern, examples.get(pattern, pattern))
        links[f"pattern:{pattern}"] = url(_and(query, q))
    return links

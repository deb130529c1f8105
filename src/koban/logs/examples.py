"""A few example log entries for a log rule's alert: the latest matching documents, fetched by the
rule's one query (a ``top_hits`` aggregation of ``EXAMPLES`` documents, so a query never returns
more than that), and handed to the alerts of the key they belong to. Pure.

Not for ``flatline`` (it fires on what is absent) nor ``new_term`` (the latest documents need not be
the new term's). A split rule's alert gets the examples whose key fields hold its key's values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from koban.config.model_logs import LogRule

EXAMPLES = 3  # documents per query
EXAMPLE_CHARS = 1000  # of each, as JSON, in the alert's details


def examples_agg(rule: LogRule) -> dict[str, Any]:
    """The aggregation to add to the rule's query (none for the types that have no examples)."""
    if rule.type in ("flatline", "new_term"):
        return {}
    return {"examples": {"top_hits": {"size": EXAMPLES, "sort": [{rule.time_field: {"order": "desc"}}]}}}


def _lookup(source: Mapping[str, Any], field: str) -> Any:
    """A field of a document, dotted names read through nested objects (``service.name``)."""
    if field in source:
        return source[field]
    value: Any = source
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def examples_for(rule: LogRule, aggs: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The example documents (as JSON, cut to ``EXAMPLE_CHARS``) of one key value."""
    hits = aggs.get("examples", {}).get("hits", {}).get("hits", [])
    fields = rule.key_fields
    wanted: list[str] | None = None
    if fields:
        wanted = [key] if len(fields) == 1 else _values(key)
    out = []
    for hit in hits:
        source = hit.get("_source") or {}
        if wanted is not None and [str(_lookup(source, f)) for f in fields] != wanted:
            continue
        out.append(json.dumps(source, ensure_ascii=False, sort_keys=True)[:EXAMPLE_CHARS])
    return tuple(out)


def _values(key: str) -> list[str] | None:
    try:
        values = json.loads(key)
    except ValueError:
        return None
    return [str(v) for v in values] if isinstance(values, list) else None

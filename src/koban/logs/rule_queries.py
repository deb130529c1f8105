"""Each log rule's one query, and what its answer says per key value. Pure: ``now`` is passed in.

Aggregations only (``size: 0``): counts for ``any``/``blacklist``/``whitelist``/``frequency``/
``flatline``; two ``filters`` buckets (current and reference timeframe) for ``spike``; a
``cardinality`` or metric aggregation for ``cardinality``/``metric_aggregation``; a ``filters``
bucket and the rest (``other_bucket``) for ``percentage_match``; for ``change`` the ``compare_key``
values seen since the last run, in the order of their last appearance, each with its first and
last appearance (``timeframe``: how long ago the previous value may have been seen); for
``new_term`` one terms aggregation per entry of ``fields`` (``multi_terms`` for a composite entry)
over the whole ``terms_window_size`` with each value's first appearance, so the rule is warmed from
history by the very query it runs (no flood at start: a value is new only if the history holds
older documents and the value's first one is within ``timeframe``).
With a ``query_key`` the measure is taken per value (a terms aggregation around it; a compound
``query_key`` uses ``multi_terms``, and its key is the JSON list of the values, ``key_text``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from koban.config.model_logs import LogRule
from koban.logs.examples import examples_agg, examples_for
from koban.logs.queries import filter_clause, iso, time_range

KEYS = 500  # query_key values per run
CHANGES = 10  # change: compare_key values per key and run (more than one is a change already)
NEW_TERMS = 500  # the most recently first-seen values a new_term run looks at


@dataclass(frozen=True, slots=True)
class Observation:
    value: float | None  # the count, ratio, cardinality or metric; None: nothing to measure
    hit: bool  # the rule's condition holds for this key
    text: str  # what the alert's summary says
    # change: the compare_key values seen this run, the latest last (the rule's state judges them),
    # and each one's first and last appearance (epoch seconds)
    values: tuple[str, ...] = ()
    spans: tuple[tuple[float, float], ...] = ()
    examples: tuple[str, ...] = ()  # a few of the key's latest documents, as JSON (examples.py)


def lookback(rule: LogRule) -> timedelta:
    """How far back the query reaches."""
    if rule.type in ("any", "blacklist", "whitelist", "change"):
        return timedelta(seconds=float(rule.interval))
    if rule.type == "spike":
        return timedelta(seconds=2 * rule.window)
    if rule.type == "new_term":
        return timedelta(seconds=float(rule.terms_window_size))
    return timedelta(seconds=rule.window)


def _list_clause(rule: LogRule) -> list[dict[str, Any]]:
    if rule.type == "blacklist":
        return [{"terms": {rule.compare_key: list(rule.blacklist)}}]
    if rule.type == "whitelist":  # present and not allowed (ElastAlert2 ignores documents without it)
        return [
            {"exists": {"field": rule.compare_key}},
            {"bool": {"must_not": [{"terms": {rule.compare_key: list(rule.whitelist)}}]}},
        ]
    return []


def _measure(rule: LogRule, now: datetime) -> dict[str, Any] | None:
    """The aggregation that measures one key (None: the hit count is the measure)."""
    tf = timedelta(seconds=rule.window)
    if rule.type == "spike":
        ranges = {
            "ref": time_range(rule.time_field, now - 2 * tf, now - tf),
            "cur": time_range(rule.time_field, now - tf, now),
        }
        return {"windows": {"filters": {"filters": ranges}}}
    if rule.type == "cardinality":
        return {"metric": {"cardinality": {"field": rule.cardinality_field}}}
    if rule.type == "percentage_match":
        match = {"bool": {"filter": filter_clause(rule.match_bucket_filter)}}
        return {"share": {"filters": {"filters": {"match": match}, "other_bucket_key": "other"}}}
    if rule.type == "change":
        seen = {"last": {"max": {"field": rule.time_field}}, "first": {"min": {"field": rule.time_field}}}
        order = {"last": "asc"}
        return {
            "values": {"terms": {"field": rule.compare_key, "size": CHANGES, "order": order}, "aggs": seen}
        }
    if rule.type == "metric_aggregation":
        if rule.metric_agg_type == "percentiles":
            return {
                "metric": {"percentiles": {"field": rule.metric_agg_key, "percents": [rule.percentile_range]}}
            }
        return {"metric": {rule.metric_agg_type: {"field": rule.metric_agg_key}}}
    return None


def rule_body(rule: LogRule, now: datetime) -> dict[str, Any]:
    filters = [
        time_range(rule.time_field, now - lookback(rule), now),
        *filter_clause(rule.filter),
        *_list_clause(rule),
    ]
    body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": filters}}}
    if rule.type == "new_term":
        body["aggs"] = {"since": {"min": {"field": rule.time_field}}} | {
            f"terms{i}": _term_agg(rule, fields) for i, fields in enumerate(rule.terms)
        }
        return body
    measure = _measure(rule, now)
    fields = rule.key_fields
    if fields:
        split = (
            {"terms": {"field": fields[0], "size": KEYS}}
            if len(fields) == 1
            else {"multi_terms": {"terms": [{"field": f} for f in fields], "size": KEYS}}
        )
        body["aggs"] = {"keys": split | ({"aggs": measure} if measure else {})}
    elif measure:
        body["aggs"] = measure
    if examples_agg(rule):
        body["aggs"] = body.get("aggs", {}) | examples_agg(rule)
    return body


def _total(answer: Mapping[str, Any]) -> int:
    total = answer.get("hits", {}).get("total", 0)
    return int(total["value"] if isinstance(total, Mapping) else total)


def _metric(agg: Mapping[str, Any]) -> float | None:
    if "values" in agg:  # percentiles: {"values": {"95.0": 12.5}}
        values = list(agg["values"].values())
        return None if not values or values[0] is None else float(values[0])
    value = agg.get("value")
    return None if value is None else float(value)


def judge(rule: LogRule, bucket: Mapping[str, Any], count: int) -> Observation:
    """One key's bucket (or the whole answer's aggregations) against the rule's condition."""
    tf = int(rule.window)
    if rule.type == "frequency":
        return Observation(
            count, count >= rule.num_events, f"{count} log entries in {tf}s (at least {rule.num_events})"
        )
    if rule.type == "flatline":
        return Observation(
            count, count < rule.threshold, f"only {count} log entries in {tf}s (fewer than {rule.threshold})"
        )
    if rule.type == "spike":
        w = bucket.get("windows", {}).get("buckets", {})
        cur, ref = int(w.get("cur", {}).get("doc_count", 0)), int(w.get("ref", {}).get("doc_count", 0))
        return spike(rule, cur, ref)
    if rule.type == "percentage_match":
        return percentage(rule, bucket)
    if rule.type == "change":
        buckets = bucket.get("values", {}).get("buckets", [])
        seen = tuple(str(b["key"]) for b in buckets)
        spans = tuple((_seconds(b.get("first")), _seconds(b.get("last"))) for b in buckets)
        text = f"{rule.compare_key} is {seen[-1] if seen else 'unseen'}"
        return Observation(count, False, text, seen, spans)
    if rule.type in ("cardinality", "metric_aggregation"):
        value = _metric(bucket.get("metric", {}))
        hi: float | None
        lo: float | None
        if rule.type == "cardinality":
            hi, lo, what = rule.max_cardinality, rule.min_cardinality, f"{rule.cardinality_field} has"
        else:
            hi, lo = rule.max_threshold, rule.min_threshold
            what = f"{rule.metric_agg_type}({rule.metric_agg_key}) is"
        if value is None:
            return Observation(None, False, f"{what} no value in {tf}s")
        hit = (hi is not None and value > hi) or (lo is not None and value < lo)
        bounds = " and ".join(
            b for b in (f"above {hi}" if hi is not None else "", f"below {lo}" if lo is not None else "") if b
        )
        return Observation(value, hit, f"{what} {value:g} in {tf}s (alerts {bounds})")
    since = f"{int(lookback(rule).total_seconds())}s"
    return Observation(count, count >= 1, f"{count} matching log entries in {since}")  # any, black/whitelist


def spike(rule: LogRule, cur: int, ref: int) -> Observation:
    """ElastAlert2's spike: current / reference >= spike_height (up), reference / current >= spike_height
    (down), with at least threshold_cur and threshold_ref events. A reference of 0 is no spike up
    unless ``alert_on_new_data``: there is no rate to compare with."""
    text = f"{cur} log entries in the last {int(rule.window)}s against {ref} before"
    if cur < rule.threshold_cur or ref < rule.threshold_ref:
        return Observation(None, False, text)
    up = cur >= ref * rule.spike_height and (ref > 0 or (rule.alert_on_new_data and cur > 0))
    down = cur * rule.spike_height <= ref
    hit = (up and rule.spike_type in ("up", "both")) or (down and rule.spike_type in ("down", "both"))
    ratio = cur / ref if ref else None
    return Observation(ratio, hit, text + (f" (x{ratio:.2f})" if ratio is not None else ""))


def percentage(rule: LogRule, bucket: Mapping[str, Any]) -> Observation:
    """ElastAlert2's percentage_match: the matching share of the documents, against exclusive bounds,
    judged only with at least ``min_denominator`` documents (and at least one)."""
    b = bucket.get("share", {}).get("buckets", {})
    match, other = int(b.get("match", {}).get("doc_count", 0)), int(b.get("other", {}).get("doc_count", 0))
    total = match + other
    tf = int(rule.window)
    if total == 0 or total < rule.min_denominator:
        return Observation(None, False, f"{total} log entries in {tf}s, too few to judge")
    pct = 100.0 * match / total
    hi, lo = rule.max_percentage, rule.min_percentage
    hit = (hi is not None and pct > hi) or (lo is not None and pct < lo)
    bounds = " and ".join(
        b
        for b in (f"above {hi:g}%" if hi is not None else "", f"below {lo:g}%" if lo is not None else "")
        if b
    )
    return Observation(pct, hit, f"{pct:.1f}% of {total} log entries match in {tf}s (alerts {bounds})")


def key_text(bucket_key: Any) -> str:
    """A bucket's key as the key value koban keeps: the value, or the JSON list of a compound key's."""
    if isinstance(bucket_key, list):
        return json.dumps([str(v) for v in bucket_key], ensure_ascii=False)
    return str(bucket_key)


def observe(rule: LogRule, answer: Mapping[str, Any], now: datetime) -> dict[str, Observation]:
    """What the answer says per key value ("" when the rule is not split)."""
    aggs = answer.get("aggregations", {})
    if rule.type == "new_term":
        return _new_terms(rule, aggs, now)
    if rule.key_fields:
        seen = {
            key_text(b["key"]): judge(rule, b, int(b["doc_count"]))
            for b in aggs.get("keys", {}).get("buckets", [])
        }
    else:
        seen = {"": judge(rule, aggs, _total(answer))}
    return {k: replace(o, examples=examples_for(rule, aggs, k)) for k, o in seen.items()}


def _term_agg(rule: LogRule, fields: tuple[str, ...]) -> dict[str, Any]:
    """One new_term entry's values, the most recently first seen first (a composite entry: only
    documents that have every one of its fields, as ElastAlert2)."""
    order = {"first": "desc"}
    split = (
        {"terms": {"field": fields[0], "size": NEW_TERMS, "order": order}}
        if len(fields) == 1
        else {"multi_terms": {"terms": [{"field": f} for f in fields], "size": NEW_TERMS, "order": order}}
    )
    return split | {"aggs": {"first": {"min": {"field": rule.time_field}}}}


def term_key(rule: LogRule, fields: tuple[str, ...], bucket_key: Any) -> str:
    """A new term's key value: the value itself when the rule watches one field (as before several
    were allowed), else the JSON object of field and value, so that which entry is new is in it."""
    values = bucket_key if isinstance(bucket_key, list) else [bucket_key]
    if rule.terms == [fields] and len(fields) == 1:
        return str(values[0])
    return json.dumps({f: str(v) for f, v in zip(fields, values, strict=False)}, ensure_ascii=False)


def term_labels(rule: LogRule, key: str) -> dict[str, str]:
    """The fields and values a new_term key names (its alert's labels)."""
    if len(rule.terms) == 1 and len(rule.terms[0]) == 1:
        return {rule.terms[0][0]: key}
    try:
        values = json.loads(key)
    except ValueError:
        return {}
    return {str(f): str(v) for f, v in values.items()} if isinstance(values, dict) else {}


def _new_terms(rule: LogRule, aggs: Mapping[str, Any], now: datetime) -> dict[str, Observation]:
    fresh_since = (now - timedelta(seconds=rule.window)).timestamp() * 1000
    since = aggs.get("since", {}).get("value")
    if since is None or float(since) >= fresh_since:
        return {}  # no history older than the fresh window: every value would look new
    out = {}
    for i, fields in enumerate(rule.terms):
        what = fields[0] if len(fields) == 1 else f"({', '.join(fields)})"
        for b in aggs.get(f"terms{i}", {}).get("buckets", []):
            first = float(b["first"]["value"])
            if first >= fresh_since:
                seen = datetime.fromtimestamp(first / 1000, now.tzinfo)
                out[term_key(rule, fields, b["key"])] = Observation(
                    int(b["doc_count"]), True, f"new {what} first seen at {iso(seen)}"
                )
    return out


def _seconds(agg: Mapping[str, Any] | None) -> float:
    """A min/max of the time field (epoch milliseconds) in seconds."""
    value = (agg or {}).get("value")
    return 0.0 if value is None else float(value) / 1000


def absent(rule: LogRule) -> Observation:
    """A key the answer no longer has (it was firing, or flatline saw it before): 0 events."""
    if rule.type == "flatline":
        return judge(rule, {}, 0)
    return Observation(0, False, "no log entries")

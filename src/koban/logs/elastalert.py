"""ElastAlert2 rule files -> koban ``log_rules``. Pure: a parsed YAML document in, a rule and the list
of what could not be carried over out (``koban logs import-elastalert``, docs/elastalert.md).

Carried over: the rule types koban has (same names and meanings), ``index``, ``timestamp_field``,
``filter`` and ``match_bucket_filter`` (one query string stays a string; anything else becomes a
``bool`` of the filters), ``query_key`` (a field, or a list of up to 4: a compound key),
``timeframe``/``run_every``/``terms_window_size`` (ElastAlert2's ``{minutes: 5}`` mappings), and each
type's options (``new_term``'s ``fields``, separate and composite, or its ``query_key`` when it has
none; ``change``'s ``timeframe``). Not carried over, and said so: alerters and their settings (koban
routes the alert by ``service``), realert and aggregation (koban dedups per rule and key, and
escalation policies repeat), enhancements, list files (``!file``), more than 4 ``new_term`` entries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from koban.config.model_logs import RULE_TYPES, LogRule

# Options copied under the same name, per type (and for all).
SAME = {
    "frequency": ("num_events",),
    "flatline": ("threshold",),
    "spike": ("spike_height", "spike_type", "threshold_cur", "threshold_ref", "alert_on_new_data"),
    "new_term": ("fields",),
    "change": ("compare_key",),
    "percentage_match": ("min_percentage", "max_percentage", "min_denominator"),
    "blacklist": ("compare_key", "blacklist"),
    "whitelist": ("compare_key", "whitelist"),
    "cardinality": ("cardinality_field", "max_cardinality", "min_cardinality"),
    "metric_aggregation": (
        "metric_agg_key",
        "metric_agg_type",
        "max_threshold",
        "min_threshold",
        "percentile_range",
    ),
}
DURATIONS = {"timeframe": "timeframe", "run_every": "interval", "terms_window_size": "terms_window_size"}
# Known ElastAlert2 keys that have no koban counterpart because koban does it another way.
ELSEWHERE = {
    "alert": "alerts go to the service's escalation policy and channels",
    "realert": "koban dedups per rule and key; the policy decides repeats",
    "exponential_realert": "koban dedups per rule and key; the policy decides repeats",
    "aggregation": "koban groups alerts per service (routing)",
    "alert_subject": "the alert's summary is koban's",
    "alert_text": "the alert's summary is koban's",
    "alert_text_args": "the alert's summary is koban's",
    "alert_subject_args": "the alert's summary is koban's",
    "alert_text_type": "the alert's summary is koban's",
    "include": "koban queries aggregations only, not documents",
    "include_match_in_root": "koban queries aggregations only, not documents",
    "buffer_time": "koban's query window is the rule's timeframe",
    "use_count_query": "koban always counts on the cluster",
    "use_terms_query": "koban always aggregates on the cluster",
    "doc_type": "document types are gone from Elasticsearch 7+ and OpenSearch",
    "es_host": "set in log_clusters",
    "es_port": "set in log_clusters",
    "ignore_null": "documents without the field never match, as with ignore_null: true",
    "percentage_format_string": "the alert's summary is koban's",
    "window_step_size": "koban reads new_term's whole terms_window_size in one aggregation",
    "use_keyword_postfix": "koban aggregates on the fields as named",
}
ALERTERS = (
    "slack", "email", "smtp", "pagerduty", "opsgenie", "jira", "telegram", "teams", "ms_teams", "http_post",
    "sns", "discord", "mattermost", "gitter", "line", "victorops", "alerta", "command", "debug", "twilio",
    "chatwork", "zabbix",
)  # fmt: skip
ALERTER = re.compile(rf"^({'|'.join(ALERTERS)})")
HANDLED = {
    "name", "type", "index", "timestamp_field", "filter", "query_key", "is_enabled", "description",
    "match_bucket_filter",
}  # fmt: skip


@dataclass
class Converted:
    source: str
    rule: dict[str, Any] | None = None  # None: nothing usable
    problems: list[str] = field(default_factory=list)  # what was not carried over, and why
    notes: list[str] = field(default_factory=list)  # done another way in koban


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "rule"


def duration(value: Any) -> str | None:
    """ElastAlert2's ``{hours: 1, minutes: 30}`` as koban's ``5400s``."""
    if not isinstance(value, Mapping):
        return None
    unit = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    if not value or set(value) - set(unit):
        return None
    return f"{int(sum(float(v) * unit[k] for k, v in value.items()))}s"


def _filter(filters: Any, problems: list[str]) -> str | dict[str, Any] | None:
    if not filters:
        return None
    if not isinstance(filters, list):
        filters = [filters]
    clauses = []
    for f in filters:
        if not isinstance(f, Mapping) or len(f) != 1:
            problems.append(f"filter {f!r}: not one query clause")
            continue
        if "query" in f and isinstance(f["query"], Mapping):  # ElastAlert's old wrapper
            f = f["query"]
        if "type" in f:
            problems.append("filter on a document type: types are gone from Elasticsearch 7+ and OpenSearch")
            continue
        clauses.append(dict(f))
    if (
        len(clauses) == 1
        and set(clauses[0]) == {"query_string"}
        and set(clauses[0]["query_string"]) == {"query"}
    ):
        return str(clauses[0]["query_string"]["query"])
    return {"bool": {"filter": clauses}} if clauses else None


def _new_term_fields(doc: Mapping[str, Any], rule: dict[str, Any], out: Converted) -> None:
    """ElastAlert2's ``fields`` (each entry a field or a composite list of fields; without it, the
    ``query_key``) as koban's, which has the same shape, up to 4 entries of up to 4 fields."""
    fields = doc.get("fields", doc.get("query_key"))
    if "fields" not in doc and fields is not None:
        rule.pop("query_key", None)  # ElastAlert2 watches the query_key for new values
        out.notes.append("query_key: watched for new values, as fields")
        fields = [fields]  # a list query_key is one compound key: one composite entry
    if fields is None:
        return
    entries = fields if isinstance(fields, list) else [fields]
    if len(entries) > 4:
        out.problems.append(f"new_term fields {entries}: koban watches up to 4; kept the first 4")
        entries = entries[:4]
    rule["fields"] = [[str(f) for f in e] if isinstance(e, list) else str(e) for e in entries]
    if doc.get("use_keyword_postfix", True):
        plain = [f for e in rule["fields"] for f in ([e] if isinstance(e, str) else e)]
        plain = [f for f in plain if not f.endswith((".keyword", ".raw"))]
        if plain:
            out.notes.append(
                f"fields {plain}: ElastAlert2 read their history from '<field>.keyword' "
                "(use_keyword_postfix); koban aggregates on the fields as named: name the keyword "
                "field where one is text"
            )


def convert(doc: Mapping[str, Any], *, source: str, cluster: str, service: str) -> Converted:
    out = Converted(source)
    kind = doc.get("type")
    if kind not in RULE_TYPES:
        out.problems.append(
            f"rule type {kind!r} has no koban counterpart (koban has {', '.join(RULE_TYPES)})"
        )
        return out
    name = str(doc.get("name") or source)
    rule: dict[str, Any] = {
        "id": slug(name),
        "name": name,
        "cluster": cluster,
        "service": service,
        "type": kind,
    }
    rule["index"] = str(doc.get("index", "logstash-*"))
    if "timestamp_field" in doc:
        rule["time_field"] = doc["timestamp_field"]
    flt = _filter(doc.get("filter"), out.problems)
    if flt is not None:
        rule["filter"] = flt
    qk = doc.get("query_key")
    if isinstance(qk, list):
        if len(qk) > 4:
            out.problems.append(f"query_key {qk}: koban splits on up to 4 fields; kept the first 4")
        qk = [str(f) for f in qk[:4]] if len(qk) > 1 else (qk[0] if qk else None)
    if qk:
        rule["query_key"] = qk if isinstance(qk, list) else str(qk)
    if kind == "percentage_match" and "match_bucket_filter" in doc:
        bucket = _filter(doc["match_bucket_filter"], out.problems)
        if bucket is not None:
            rule["match_bucket_filter"] = bucket
    if doc.get("is_enabled") is False:
        rule["enabled"] = False
    used_extra: set[str] = set()
    for key in SAME.get(kind, ()):
        if key in doc:
            rule[key] = doc[key]
    if kind == "new_term":
        _new_term_fields(doc, rule, out)
    for key, ours in DURATIONS.items():
        if key in doc:
            d = duration(doc[key])
            if d is None:
                out.problems.append(f"{key} {doc[key]!r}: not a duration mapping")
            else:
                rule[ours] = d
    if kind in ("metric_aggregation", "percentage_match") and "timeframe" not in doc:
        # ElastAlert2 aggregates over each bucket_interval, else over the whole buffer_time.
        window = doc.get("bucket_interval") or doc.get("buffer_time")
        if duration(window):
            rule["timeframe"] = duration(window)
            used_extra.update({"bucket_interval", "buffer_time", "sync_bucket_interval"})
    for key in ("blacklist", "whitelist"):
        if any(isinstance(v, str) and v.startswith("!file") for v in rule.get(key, [])):
            out.problems.append(f"{key}: '!file' entries are not read; list the values instead")
            rule[key] = [v for v in rule[key] if not (isinstance(v, str) and v.startswith("!file"))]
    used = HANDLED | set(SAME.get(kind, ())) | set(DURATIONS) | used_extra
    for key in sorted(set(doc) - used):
        if key in ELSEWHERE:
            out.notes.append(f"{key}: {ELSEWHERE[key]}")
        elif ALERTER.match(key):
            out.notes.append(f"{key}: alerters' settings are not needed (koban's channels do the sending)")
        else:
            out.problems.append(f"{key}: not carried over")
    try:
        LogRule.model_validate(rule)
    except ValidationError as exc:
        out.problems += [f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors()]
        return out
    out.rule = rule
    return out

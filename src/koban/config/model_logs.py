"""Log clusters, digests and log alert rules in the configuration file (see docs/logs.md).

log_clusters:
  - id: app-logs
    url: https://search.example.com:9200
    flavor: opensearch              # opensearch | elasticsearch: which Discover link to build
    auth: {type: basic, username: koban, password: s3cret}   # basic | api_key | none
    dashboards_url: https://search.example.com/_dashboards
digests:
  - id: daily-errors
    cluster: app-logs
    index: "logs-*"
    time_field: "@timestamp"
    level_field: level
    levels: [FATAL, WARNING]
    schedule: {cron: "15 10 * * *", timezone: Asia/Tokyo}
    window: yesterday               # yesterday | last_24h | last_7d | last_week
    channels: [team-slack]
log_rules:
  - id: payment-errors
    cluster: app-logs
    service: shop
    type: frequency                 # ElastAlert2's names (docs/logs.md)
    index: "logs-*"
    filter: 'level:ERROR AND service:payment'
    num_events: 50
    timeframe: 5m
"""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from koban.config.base import Identified, Strict
from koban.config.durations import Duration
from koban.domain.alerts import Severity
from koban.routing.cron import parse_cron

WINDOWS = ("yesterday", "last_24h", "last_7d", "last_week")


class ClusterAuth(Strict):
    type: Literal["none", "basic", "api_key", "aws_sigv4"] = "none"
    username: str = ""
    password: str = ""
    # Elasticsearch/OpenSearch API key: the base64 "id:key" string sent as "Authorization: ApiKey ...".
    api_key: str = ""
    # Amazon OpenSearch Service (the koban[aws] extra): requests signed with SigV4 for this region and
    # service ("es" for domains, "aoss" for Serverless). Without keys here, AWS's credential chain
    # (environment, profile, instance or container role) provides them.
    region: str = ""
    service: Literal["es", "aoss"] = "es"
    access_key_id: str = ""
    secret_access_key: str = ""
    session_token: str = ""

    @model_validator(mode="after")
    def _complete(self) -> ClusterAuth:
        if self.type == "basic" and not self.username:
            raise ValueError("basic auth needs a username")
        if self.type == "api_key" and not self.api_key:
            raise ValueError("api_key auth needs api_key")
        if self.type == "aws_sigv4" and not self.region:
            raise ValueError("aws_sigv4 auth needs region")
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise ValueError("access_key_id and secret_access_key go together")
        return self


class LogCluster(Identified):
    url: str
    flavor: Literal["opensearch", "elasticsearch"] = "opensearch"
    auth: ClusterAuth = Field(default_factory=ClusterAuth)
    verify_tls: bool = True
    ca_file: str | None = None
    timeout: Duration = 30.0
    # Where people look at the logs: Kibana or OpenSearch Dashboards; digests link to its Discover.
    dashboards_url: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return v.rstrip("/")


def _zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {v!r}") from exc
    return v


class DigestSchedule(Strict):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        parse_cron(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _zone(v)


class Digest(Identified):
    cluster: str
    index: str
    time_field: str = "@timestamp"
    level_field: str = "level"
    # The message field must be a keyword (or have a .keyword sub-field): patterns come from a terms agg.
    message_field: str = "message.keyword"
    # Only these levels (empty: every level); seed 003 counted FATAL and WARNING.
    levels: list[str] = Field(default_factory=list)
    # Lucene query string, or query DSL (a mapping), ANDed with the window and the levels.
    filter: str | dict[str, Any] | None = None
    schedule: DigestSchedule
    window: Literal["yesterday", "last_24h", "last_7d", "last_week"] = "yesterday"
    top: int = Field(10, ge=1, le=100)
    # Patterns not seen in this many days before the window are listed as new (0: not looked for).
    new_pattern_days: int = Field(7, ge=0, le=90)
    # The biggest movers against the median of the same window on the same weekday of this many
    # earlier weeks (0: none), and how many to list.
    mover_weeks: int = Field(4, ge=0, le=12)
    movers: int = Field(5, ge=0, le=50)
    language: Literal["en", "ja"] = "en"
    # Per channel id, a language other than the digest's (a Japanese team channel, an English list).
    languages: dict[str, Literal["en", "ja"]] = Field(default_factory=dict)
    # Where an email channel sends the digest (its HTML and text forms).
    email_to: list[str] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    # A failed run raises an alert for this service (the next good run resolves it); none: only the
    # failed run row shows it.
    service: str | None = None
    enabled: bool = True


RULE_TYPES = (
    "any", "blacklist", "whitelist", "change", "frequency", "flatline", "spike", "new_term", "cardinality",
    "metric_aggregation", "percentage_match",
)  # fmt: skip


class LogRule(Identified):
    cluster: str
    service: str
    # ElastAlert2's rule types and meanings (docs/logs.md sets them side by side).
    type: Literal[
        "any", "blacklist", "whitelist", "change", "frequency", "flatline", "spike", "new_term",
        "cardinality", "metric_aggregation", "percentage_match",
    ]  # fmt: skip
    index: str
    time_field: str = "@timestamp"
    filter: str | dict[str, Any] | None = None
    # frequency: at least num_events in timeframe; flatline: fewer than threshold in timeframe.
    num_events: int = Field(1, ge=1)
    threshold: int = Field(1, ge=1)
    # How far back a rule looks (default 5 minutes: ``window``); change: how long ago the previous
    # value may have been seen for a new one to count as a change (none: however long ago).
    timeframe: Duration | None = None
    # Split the rule per value of this field (one alert per value), as ElastAlert2's query_key; a
    # list of fields splits per combination of their values (ElastAlert2's compound query_key).
    query_key: str | list[str] | None = None
    # blacklist / whitelist: the field compared, and the values that match (or are allowed);
    # change: the field whose value changing (per query_key) alerts.
    compare_key: str | None = None
    blacklist: list[str] = Field(default_factory=list)
    whitelist: list[str] = Field(default_factory=list)
    # spike: current timeframe against the one before it.
    spike_height: float = Field(2.0, gt=1.0)
    spike_type: Literal["up", "down", "both"] = "both"
    threshold_cur: int = Field(0, ge=0)  # at least this many now,
    threshold_ref: int = Field(0, ge=0)  # and before, for a spike to count
    # A reference of 0 is no spike up unless this is set (ElastAlert2's alert_on_new_data).
    alert_on_new_data: bool = False
    # new_term: what is watched for new values, as ElastAlert2's fields: each entry a field, or a
    # list of fields whose combination of values is one term (composite); and how far back a value
    # must not have been seen.
    fields: list[str | list[str]] = Field(default_factory=list, max_length=4)
    terms_window_size: Duration = 30 * 86400.0
    # cardinality: distinct values of cardinality_field in timeframe above max or below min.
    cardinality_field: str | None = None
    max_cardinality: int | None = None
    min_cardinality: int | None = None
    # metric_aggregation: metric_agg_type of metric_agg_key in timeframe above max or below min.
    metric_agg_key: str | None = None
    metric_agg_type: Literal["min", "max", "avg", "sum", "cardinality", "value_count", "percentiles"] = "avg"
    percentile_range: float | None = Field(None, gt=0, lt=100)
    max_threshold: float | None = None
    min_threshold: float | None = None
    # percentage_match: the share (in %) of the timeframe's documents that match match_bucket_filter
    # (a query string or query DSL) above max_percentage or below min_percentage (both exclusive),
    # judged only with at least min_denominator documents.
    match_bucket_filter: str | dict[str, Any] | None = None
    min_percentage: float | None = Field(None, ge=0, le=100)
    max_percentage: float | None = Field(None, ge=0, le=100)
    min_denominator: int = Field(0, ge=0)
    interval: Duration = 60.0
    severity: Severity = Severity.ERROR
    # Hysteresis: resolve only after this many clear runs in a row.
    resolve_after: int = Field(2, ge=1, le=100)
    enabled: bool = True

    @model_validator(mode="after")
    def _complete(self) -> LogRule:
        need = {
            "blacklist": ("compare_key", "blacklist"),
            "whitelist": ("compare_key", "whitelist"),
            "new_term": ("fields",),
            "cardinality": ("cardinality_field",),
            "metric_aggregation": ("metric_agg_key",),
            "change": ("compare_key", "query_key"),
            "percentage_match": ("match_bucket_filter",),
        }.get(self.type, ())
        missing = [f for f in need if not getattr(self, f)]
        if missing:
            raise ValueError(f"a {self.type} rule needs {', '.join(missing)}")
        if isinstance(self.query_key, list) and not 1 <= len(self.query_key) <= 4:
            raise ValueError("a compound query_key has 1 to 4 fields")
        terms = self.terms
        if any(not 1 <= len(t) <= 4 or len(set(t)) != len(t) for t in terms):
            raise ValueError("a composite new_term field is a list of 1 to 4 distinct fields")
        if len(set(terms)) != len(terms):
            raise ValueError("new_term fields repeat an entry")
        if self.type == "percentage_match" and self.min_percentage is None and self.max_percentage is None:
            raise ValueError("a percentage_match rule needs min_percentage or max_percentage")
        if self.type == "cardinality" and self.max_cardinality is None and self.min_cardinality is None:
            raise ValueError("a cardinality rule needs max_cardinality or min_cardinality")
        if self.type == "metric_aggregation":
            if self.max_threshold is None and self.min_threshold is None:
                raise ValueError("a metric_aggregation rule needs max_threshold or min_threshold")
            if (self.metric_agg_type == "percentiles") != (self.percentile_range is not None):
                raise ValueError("percentile_range goes with metric_agg_type: percentiles, and only with it")
        return self

    @property
    def window(self) -> float:
        """The timeframe in seconds, 5 minutes when not set."""
        return 300.0 if self.timeframe is None else float(self.timeframe)

    @property
    def terms(self) -> list[tuple[str, ...]]:
        """new_term's entries, each as the tuple of its fields (one field: a 1-tuple)."""
        return [(f,) if isinstance(f, str) else tuple(f) for f in self.fields]

    @property
    def key_fields(self) -> list[str]:
        """The fields the rule is split on (empty: one judgement for the whole rule)."""
        if self.query_key is None:
            return []
        return [self.query_key] if isinstance(self.query_key, str) else list(self.query_key)

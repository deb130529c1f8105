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
    type: frequency                 # ElastAlert2's names: frequency | flatline | any
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
    type: Literal["none", "basic", "api_key"] = "none"
    username: str = ""
    password: str = ""
    # Elasticsearch/OpenSearch API key: the base64 "id:key" string sent as "Authorization: ApiKey ...".
    api_key: str = ""

    @model_validator(mode="after")
    def _complete(self) -> ClusterAuth:
        if self.type == "basic" and not self.username:
            raise ValueError("basic auth needs a username")
        if self.type == "api_key" and not self.api_key:
            raise ValueError("api_key auth needs api_key")
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
    language: Literal["en", "ja"] = "en"
    channels: list[str] = Field(min_length=1)
    # A failed run raises an alert for this service (the next good run resolves it); none: only the
    # failed run row shows it.
    service: str | None = None
    enabled: bool = True


class LogRule(Identified):
    cluster: str
    service: str
    # ElastAlert2's rule types and meanings (docs/logs.md sets them side by side).
    type: Literal["frequency", "flatline", "any"]
    index: str
    time_field: str = "@timestamp"
    filter: str | dict[str, Any] | None = None
    # frequency: at least num_events in timeframe; flatline: fewer than threshold in timeframe.
    num_events: int = Field(1, ge=1)
    threshold: int = Field(1, ge=1)
    timeframe: Duration = 300.0
    # Split the rule per value of this field (one alert per value), as ElastAlert2's query_key.
    query_key: str | None = None
    interval: Duration = 60.0
    severity: Severity = Severity.ERROR
    # Hysteresis: resolve only after this many clear runs in a row.
    resolve_after: int = Field(2, ge=1, le=100)
    enabled: bool = True

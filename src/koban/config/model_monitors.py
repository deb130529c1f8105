"""Monitors in the configuration file: what to probe, how often, from where, and when to page.

    monitors:
      - id: shop-home
        service: web
        type: http                      # http | tcp | tls | dns
        target: https://shop.example.com/healthz
        interval: 30s                   # 1s .. 1d
        timeout: 5s
        conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 300", "[BODY].status == UP"]
        confirmations: 2                # re-check at once this many times before calling it down
        rules: {down_for: 0s, slower_than: 800ms, slow_for: 5m, locations_down: 2}
        locations: [local, tokyo]       # each `koban probe --location NAME` probes what lists it
        severity: critical
        tags: [shop, frontend]          # free words to find it by (the web UI's monitor list filters on them)

The same shapes are accepted by ``PUT /api/v1/monitors/{id}``. ``monitoring/build.py``
(``probe_call``, ``scheduled``, ``rule``) turns a monitor into what ``koban.probes`` runs and judges,
so the config is the only place defaults live.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from koban.config.base import Identified, Strict
from koban.config.durations import Duration
from koban.domain.alerts import Severity
from koban.probes.conditions import Conditions, ConditionSyntaxError
from koban.probes.schedule import MAX_INTERVAL, MIN_INTERVAL

DEFAULT_LOCATION = "local"


class MonitorRules(Strict):
    # Failing must last this long (from the first failed probe) before it pages; 0: at once.
    down_for: Duration = 0.0
    # A successful probe slower than this counts as "slow"; paged at ``slow_severity`` after slow_for.
    slower_than: Duration | None = None
    slow_for: Duration = 0.0
    # N of M: how many of the monitor's locations must agree before it is down.
    locations_down: int = Field(1, ge=1)
    # A location silent for longer than this no longer counts (default: 3 intervals + timeout).
    stale_after: Duration | None = None


class Monitor(Identified):
    service: str
    type: Literal["http", "tcp", "tls", "dns"] = "http"
    # http: a URL; tcp/tls: host:port; dns: the name to look up (server says whom to ask).
    target: str
    interval: Duration = 60.0
    timeout: Duration = 10.0
    enabled: bool = True
    # HTTP
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    follow_redirects: bool = True
    max_redirects: int = Field(10, ge=0, le=50)
    verify_tls: bool = True
    ca_file: str | None = None
    # Gatus-like; empty means "any 2xx" for HTTP, "connected" for TCP.
    conditions: list[str] = Field(default_factory=list)
    # TCP: bytes to send and a regex the reply must match.
    send: str = ""
    expect: str | None = None
    # TLS: the earliest certificate in the chain must stay valid this long.
    cert_min_valid: Duration = 14 * 86400.0
    # DNS
    server: str = "127.0.0.1"
    dns_port: int = Field(53, ge=1, le=65535)
    query_type: str = "A"
    expect_answers: list[str] = Field(default_factory=list)
    # Alerting
    confirmations: int = Field(0, ge=0, le=10)
    rules: MonitorRules = Field(default_factory=MonitorRules)
    locations: list[str] = Field(default_factory=lambda: [DEFAULT_LOCATION], min_length=1)
    severity: Severity = Severity.CRITICAL
    slow_severity: Severity = Severity.WARNING
    tags: list[str] = Field(default_factory=list, max_length=32)

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if not MIN_INTERVAL <= v <= MAX_INTERVAL:
            raise ValueError("interval must be between 1s and 1d")
        return v

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if v <= 0 or v > 300:
            raise ValueError("timeout must be between 1ms and 5m")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for tag in v:
            if not tag or len(tag) > 64 or not tag.isprintable() or tag != tag.strip():
                raise ValueError("a tag is 1 to 64 printable characters, without spaces around it")
        return v

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, v: list[str]) -> list[str]:
        for text in v:
            try:
                Conditions.parse([text])
            except ConditionSyntaxError as exc:
                raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _target(self) -> Monitor:
        if self.type == "http":
            if urlsplit(self.target).scheme not in ("http", "https"):
                raise ValueError("an http monitor's target is an http:// or https:// URL")
        elif self.type in ("tcp", "tls"):
            host, _, port = self.target.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"a {self.type} monitor's target is host:port")
        if len(set(self.locations)) != len(self.locations):
            raise ValueError("locations must not repeat")
        if self.rules.locations_down > len(self.locations):
            raise ValueError("rules.locations_down cannot exceed the number of locations")
        return self

    def host_port(self) -> tuple[str, int]:
        host, _, port = self.target.rpartition(":")
        return host.strip("[]"), int(port)

    def stale_after(self) -> float:
        if self.rules.stale_after is not None:
            return self.rules.stale_after
        return 3 * self.interval + self.timeout * (self.confirmations + 1)

    def summary(self) -> dict[str, Any]:
        """The few fields a list view needs."""
        return {
            "id": self.id,
            "name": self.name,
            "service": self.service,
            "type": self.type,
            "target": self.target,
            "interval": self.interval,
            "enabled": self.enabled,
            "locations": self.locations,
        }

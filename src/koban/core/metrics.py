"""Prometheus metrics, one registry per running system (no module-level state: tests run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.alerts = Counter(
            "koban_alerts_received_total", "Alerts accepted and stored.", ["source"], registry=self.registry
        )
        self.rejected = Counter(
            "koban_alerts_rejected_total",
            "Inbound requests refused.",
            ["source", "reason"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "koban_notifications_total",
            "Notification attempts by channel and outcome.",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.first = Histogram(
            "koban_alert_to_first_notification_seconds",
            "Time from an incident's first alert to its first notification leaving.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        # Refreshed about once a second by the edge (ingest/backlog.py).
        self.backlog_rows = Gauge(
            "koban_ingest_backlog_rows",
            "Accepted deliveries waiting in the ingest inbox (counted up to just past the limit).",
            registry=self.registry,
        )
        self.backlog_age = Gauge(
            "koban_ingest_backlog_oldest_age_seconds",
            "How long the oldest delivery waiting in the ingest inbox has waited.",
            registry=self.registry,
        )

        self.log_rule_lag = Histogram(
            "koban_log_rule_lag_seconds",
            "How late a log rule's run started after it was due.",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.log_rule_query = Histogram(
            "koban_log_rule_query_seconds",
            "How long a log rule's one query took on the cluster.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.log_rule_runs = Counter(
            "koban_log_rule_runs_total", "Log rule runs by outcome.", ["outcome"], registry=self.registry
        )

    def log_rule_run(self, lag: float, query_seconds: float, ok: bool) -> None:
        self.log_rule_lag.observe(max(0.0, lag))
        self.log_rule_query.observe(query_seconds)
        self.log_rule_runs.labels("ok" if ok else "error").inc()

    def alert(self, source: str, n: int = 1) -> None:
        self.alerts.labels(source).inc(n)

    def reject(self, source: str, reason: str) -> None:
        self.rejected.labels(source, reason).inc()

    def notification(self, channel: str, outcome: str, n: int = 1) -> None:
        self.notifications.labels(channel, outcome).inc(n)

    def first_notification(self, seconds: float) -> None:
        self.first.observe(max(0.0, seconds))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

"""Reports (docs/reports.md): scheduled reports' config, their deliveries, and the daily summaries
availability reads over long periods.

``report_deliveries`` is unique per (schedule, period start, recipient): the row is the claim that
makes a report go out once per period however many instances scan or restart; the worker sends it
like a schedule notice (claimed with a lease, retried with backoff). The text is rendered when the
row is queued, so a retry sends the same words.

``report_monitor_days`` and ``report_service_days`` sum one UTC day of minute rollups (per monitor,
and per service with each minute as down as its most-down monitor). They are derived data:
``koban report rebuild-summaries`` makes them again from ``probe_rollups``; a service day is only
used while the service still has the monitors it was summed over (``members``).

``report_monitor_running`` holds each monitor's totals over every summed day up to and including
``day`` (a row for every monitor that has any, on every summed day, whether or not it had results
that day), so a period's totals are two rows per monitor instead of one per monitor and day.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text, false

from koban.db.schema_base import Id, config_table, metadata

report_schedules = config_table("report_schedules")

report_deliveries = Table(
    "report_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),  # <schedule>:<period start>:<recipient>
    Column("schedule_id", Id, nullable=False),
    Column("period_since", Float, nullable=False),
    Column("period_until", Float, nullable=False),
    Column("channel_id", Id, nullable=False),
    Column("person_id", Id, nullable=True),
    Column("address", Text, nullable=False, default=""),
    Column("language", String(8), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending (in_doubt) -> sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Column("due_at", Float, nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Index("ix_report_deliveries_due", "due_at"),
)

# One settled incident's response and time-to-wake clocks (reports/incident_facts.py), made from its
# raw events by the report functions themselves; used while ``fence`` is the incident's updated_at.
report_incident_facts = Table(
    "report_incident_facts",
    metadata,
    Column("incident_id", Integer, primary_key=True),
    Column("fence", Float, nullable=False),
    Column("acknowledged_at", Float, nullable=True),
    Column("acknowledged_by", Text, nullable=True),
    Column("reassigned", Boolean, nullable=False),
    *(
        col
        for stage in ("first_failure", "first_page", "first_reached", "woken_ack")
        for col in (
            Column(f"{stage}_at", Float, nullable=True),
            Column(f"{stage}_how", Text, nullable=True),
            Column(f"{stage}_who", Text, nullable=True),
        )
    ),
)

# The UTC days summed: a day without a row here is read from the minute rollups.
report_summarized_days = Table(
    "report_summarized_days",
    metadata,
    Column("day", Float, primary_key=True),
    Column("built_at", Float, nullable=False),
    # The day's ``report_monitor_running`` rows were made with it (days summed before they existed
    # have none: a period touching such a day sums ``report_monitor_days`` instead).
    Column("running", Boolean, nullable=False, default=False, server_default=false()),
)

report_monitor_days = Table(
    "report_monitor_days",
    metadata,
    Column("monitor_id", Id, primary_key=True),
    Column("day", Float, primary_key=True),  # the UTC day's first second
    Column("measured_minutes", Integer, nullable=False),
    Column("down_seconds", Float, nullable=False),
    Column("first_minute", Float, nullable=False),
    Column("last_minute", Float, nullable=False),
    Index("ix_report_monitor_days_day", "day"),
)

report_service_days = Table(
    "report_service_days",
    metadata,
    Column("service_id", Id, primary_key=True),
    Column("day", Float, primary_key=True),
    Column("members", String(64), nullable=False),  # sha256 of the sorted monitor ids summed
    Column("measured_minutes", Integer, nullable=False),
    Column("down_seconds", Float, nullable=False),
    Index("ix_report_service_days_day", "day"),
)

report_monitor_running = Table(
    "report_monitor_running",
    metadata,
    Column("monitor_id", Id, primary_key=True),
    Column("day", Float, primary_key=True),  # a summed UTC day's first second
    Column("measured_minutes", Integer, nullable=False),  # summed over the summed days up to ``day``
    Column("down_seconds", Float, nullable=False),
    Column("first_seen", Float, nullable=False),  # the first minute with results, up to ``day``
    Column("last_seen", Float, nullable=False),  # the last one
    Column("day_first", Float, nullable=True),  # this day's first minute with results (None: none)
    Index("ix_report_monitor_running_day", "day"),
)

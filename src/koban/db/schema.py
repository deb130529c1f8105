"""All tables, as SQLAlchemy Core. Times are UTC epoch seconds (float): cheap to compare in the
queue's hot queries on both SQLite and PostgreSQL; the API renders them as ISO 8601."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from koban.db.schema_base import Id, config_table, metadata

people = config_table("people")
rotations = config_table("rotations")
policies = config_table("policies")
services = config_table("services")
channels = config_table(
    "channels",
    Column("type", String(32), nullable=False),
    Column("broken_reason", Text, nullable=True),
    Column("broken_at", Float, nullable=True),
)
integrations = config_table(
    "integrations",
    Column("service_id", Id, nullable=False),
    Column("type", String(32), nullable=False),
)

integration_keys = Table(
    "integration_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("integration_id", Id, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    # sha256 of the key: a leaked database does not leak working keys.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", Id, nullable=False),
    Column("incident_key", Text, nullable=False),
    # service + key while open, NULL once resolved: "one open incident per (service, key)" as a plain
    # UNIQUE that both engines enforce (NULLs never collide) without partial-index dialect differences.
    Column("open_key", Text, nullable=True, unique=True),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", Text, nullable=False, default=""),
    Column("details", JSON, nullable=False, default=dict),
    Column("labels", JSON, nullable=False, default=dict),
    Column("links", JSON, nullable=False, default=list),
    Column("alert_count", Integer, nullable=False, default=1),
    # Member alerts of a grouped incident (dedup key -> firing|resolved): resolved when all are.
    Column("members", JSON, nullable=False, default=dict),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("acknowledged_at", Float),
    Column("acknowledged_by", Id),
    Column("acknowledged_via", String(32)),
    Column("resolved_at", Float),
    Column("resolved_by", Id),
    Column("resolved_via", String(32)),
    Column("first_notified_at", Float),
    Column("policy_id", Id),
    # The escalation policy frozen at start (edits never change a page in flight) and its progress.
    Column("plan", JSON, nullable=True),
    Column("esc_step", Integer, nullable=False, default=-1),
    Column("esc_loop", Integer, nullable=False, default=0),
    Column("esc_version", Integer, nullable=False, default=0),
    Column("esc_started_at", Float),
    Column("esc_step_started_at", Float),
    Column("esc_exhausted", Boolean, nullable=False, default=False),
    Index("ix_incidents_status_created", "status", "created_at"),
    Index("ix_incidents_service_key", "service_id", "incident_key"),
    # The live feed asks max(updated_at) once per second per server: an index answers from its end.
    Index("ix_incidents_updated", "updated_at"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, nullable=True),
    Column("integration_id", Id, nullable=True),
    Column("service_id", Id, nullable=False),
    Column("dedup_key", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("event", JSON, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("muted_reason", Text, nullable=True),
    # Deliveries of this alert the row stands for: the inbox drain collapses a flood's re-sends of
    # one alert (identical apart from their times) into one row (triage/repeats.py).
    Column("repeats", Integer, nullable=False, server_default="1"),
    Index("ix_alerts_incident", "incident_id"),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("actor", Id, nullable=True),
    Column("via", String(32), nullable=True),
    Column("data", JSON, nullable=False, default=dict),
    Index("ix_timeline_incident", "incident_id", "id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # (incident, step, target, attempt): the at-most-once key, also the idempotency key on the wire.
    Column("key", String(255), nullable=False, unique=True),
    Column("incident_id", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # page | update | hangup (paging/stop.py)
    Column("channel_id", Id, nullable=False),
    Column("channel_type", String(32), nullable=False),
    Column("person_id", Id, nullable=True),
    Column("address", Text, nullable=False, default=""),
    Column("step", Integer, nullable=False, default=0),
    Column("loop", Integer, nullable=False, default=0),
    # pending -> sending -> sent|awaiting -> reached|not_reached ; failed ; canceled ; in_doubt
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("provider_ref", Text),
    Column("error", Text),
    Column("meta", JSON, nullable=False, default=dict),
    Column("created_at", Float, nullable=False),
    Column("sending_at", Float),
    Column("sent_at", Float),
    Column("settled_at", Float),
    # Deliveries are their own queue: due_at is set while there is something to do (send, retry,
    # reconcile) and cleared when settled; claimed with a lease like jobs.
    Column("due_at", Float),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Index("ix_deliveries_incident", "incident_id"),
    Index("ix_deliveries_due", "due_at"),
    Index("ix_deliveries_provider_ref", "provider_ref"),
    Index("ix_deliveries_channel", "channel_id", "id"),  # a channel's latest outcomes (settings page)
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # escalate (more kinds: call checks, expiries)
    Column("ref", Integer, nullable=False),  # incident id for escalate
    Column("fence", Integer, nullable=False, default=0),  # escalation version the job was made for
    Column("due_at", Float, nullable=False),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Index("ix_jobs_due", "due_at"),
    UniqueConstraint("kind", "ref", "fence", name="uq_jobs_kind_ref_fence"),
)

# Single-use tokens (signed links, TwiML tokens): a row per consumed nonce.
used_tokens = Table(
    "used_tokens",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("used_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Rate-limit and quota counters shared by every instance: (key, window) -> count.
counters = Table(
    "counters",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)

from koban.db import schema_auth as _schema_auth  # noqa: E402,F401  (logins, teams, tokens, sessions, audit)
from koban.db import schema_calendars as _schema_calendars  # noqa: E402,F401  (imported calendars, tasks)
from koban.db import schema_changes as _schema_changes  # noqa: E402,F401  (change events per service)
from koban.db import schema_inbox as _schema_inbox  # noqa: E402,F401  (accepted deliveries awaiting the drain)
from koban.db import schema_logs as _schema_logs  # noqa: E402,F401  (digest runs, log rule state)
from koban.db import schema_probes as _schema_probes  # noqa: E402,F401  (monitors, probe results)
from koban.db import schema_reports as _schema_reports  # noqa: E402,F401  (report schedules, deliveries, summaries)
from koban.db import schema_routing as _schema_routing  # noqa: E402,F401  (routing state, silences, heartbeats)
from koban.db import schema_schedules as _schema_schedules  # noqa: E402,F401  (schedules)
from koban.db import schema_status as _schema_status  # noqa: E402,F401  (status pages, public updates)
from koban.db import schema_twilio as _schema_twilio  # noqa: E402,F401  (call states, contact problems)

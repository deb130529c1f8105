"""Tables for routing between alerts and incidents: key clocks, aggregation groups, silences,
maintenance windows, inhibition rules and heartbeats. The metadata is ``schema_base``'s."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from koban.db.schema_base import Id, metadata

# Per alert key, the newest trigger and resolve times the sources reported (a last-writer-wins
# register). Whether a key is firing depends only on these two maxima, so duplicated and
# out-of-order deliveries end in the same state. Keyed by a hash of (service, incident key, dedup key).
alert_clocks = Table(
    "alert_clocks",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("fired_at", Float, nullable=True),
    Column("resolved_at", Float, nullable=True),
    Column("expires_at", Float, nullable=False),
    Index("ix_alert_clocks_expires", "expires_at"),
)

# Aggregation groups (Alertmanager semantics) for sources that send single alerts. The pure state
# lives in ``state``; ``due_at`` is the next flush, claimed with a lease like jobs.
alert_groups = Table(
    "alert_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", Id, nullable=False),
    Column("group_key", Text, nullable=False),
    Column("state", JSON, nullable=False),
    Column("due_at", Float, nullable=True),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("service_id", "group_key", name="uq_alert_groups_service_key"),
    Index("ix_alert_groups_due", "due_at"),
)

# Silences, maintenance windows and inhibition rules: from the config file (origin "config",
# replaced by ``koban config apply``) or the REST API (origin "api", never pruned by apply).
silences = Table(
    "silences",
    metadata,
    Column("id", Id, primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Id, primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

inhibit_rules = Table(
    "inhibit_rules",
    metadata,
    Column("id", Id, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("id", Id, primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("service_id", Id, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Heartbeat state apart from its definition, so pings do not look like config changes to the
# catalog. ``due_at`` is the next evaluation, claimed with a lease by any instance's worker.
heartbeat_state = Table(
    "heartbeat_state",
    metadata,
    Column("id", Id, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("last_ping_at", Float, nullable=True),
    Column("started_at", Float, nullable=True),
    Column("due_at", Float, nullable=True),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Column("updated_at", Float, nullable=False),
    Index("ix_heartbeat_state_due", "due_at"),
)

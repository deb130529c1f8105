"""Tables of synthetic monitoring: monitors (config), raw results, rollups, latest result, state.

Write paths are set-based: a prober stores a batch of results with one executemany into
``probe_results`` and one into ``probe_latest`` in a single transaction. Raw results are pruned after
a few days; graphs over longer ranges read ``probe_rollups`` (one row per monitor, location,
resolution and window), whose primary key is also the index the graph query walks.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text

from koban.db.schema_base import Id, config_table, metadata

monitors = config_table(
    "monitors",
    Column("service_id", Id, nullable=False),
    Column("type", String(8), nullable=False),
)

Location = String(64)

# One row per probe attempt (re-checks included, ``final`` marks the one the rules judged).
probe_results = Table(
    "probe_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", Id, nullable=False),
    Column("location", Location, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("final", Boolean, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("error", Text, nullable=False),
    # blackbox's phases (semantics §3.5); processing is time to first byte once connected.
    Column("resolve", Float, nullable=False),
    Column("connect", Float, nullable=False),
    Column("tls", Float, nullable=False),
    Column("processing", Float, nullable=False),
    Column("transfer", Float, nullable=False),
    Column("cert_expiry", Float, nullable=True),  # earliest NotAfter of the presented chain
    Index("ix_probe_results_monitor_id_started_at", "monitor_id", "started_at"),
    Index("ix_probe_results_started_at", "started_at"),  # pruning
)

# Aggregates: ``metrics`` holds a mergeable histogram per phase (koban.probes.rollup.Histogram).
probe_rollups = Table(
    "probe_rollups",
    metadata,
    Column("monitor_id", Id, primary_key=True),
    Column("resolution", String(8), primary_key=True),  # minute | hour | day
    Column("start", Float, primary_key=True),
    Column("location", Location, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("metrics", JSON, nullable=False),
    Index("ix_probe_rollups_resolution_start", "resolution", "start"),  # pruning
)

# The newest final result per monitor and location: /metrics, status views, and N-of-M judging.
probe_latest = Table(
    "probe_latest",
    metadata,
    Column("monitor_id", Id, primary_key=True),
    Column("location", Location, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("phases", JSON, nullable=False),
    Column("cert_expiry", Float, nullable=True),
    Column("redirects", Integer, nullable=False),
    Column("content_length", Integer, nullable=False),
    # Start of the current failing / slow streak at this location (rules.Snapshot).
    Column("fail_since", Float, nullable=True),
    Column("slow_since", Float, nullable=True),
)

# What was announced to the alert pipeline; a transition is claimed with a conditional UPDATE so
# several probers judging the same monitor raise one alert.
monitor_state = Table(
    "monitor_state",
    metadata,
    Column("monitor_id", Id, primary_key=True),
    Column("status", String(8), nullable=False),  # unknown | up | down
    Column("reason", String(8), nullable=False),  # failing | slow (when down)
    Column("since", Float, nullable=True),
    Column("version", Integer, nullable=False),
    Column("incident_id", Integer, nullable=True),
    Column("updated_at", Float, nullable=False),
)

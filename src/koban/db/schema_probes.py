"""Tables of synthetic monitoring: monitors (config), raw results, rollups, latest result, state.

Write paths are set-based: a prober stores a batch of results with one executemany into
``probe_results`` and one into ``probe_latest`` in a single transaction. Raw successes are pruned
after hours, failures and state changes after days; graphs read ``probe_rollups`` (one row per
series, width and window), whose primary key is also the index the graph query walks. Both are
compact (docs/monitoring.md "Disk"): at 100,000 monitors every 60 s their size is the database's.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from koban.db.schema_base import Id, config_table, metadata

monitors = config_table(
    "monitors",
    Column("service_id", Id, nullable=False),
    Column("type", String(8), nullable=False),
)
# The catalog's fingerprint (asked by every page and API call) reads max(updated_at): without this,
# a scan of 100,000 definitions (~30-100 ms) on each request.
Index("ix_monitors_updated", monitors.c.updated_at)

Location = String(64)

# One row per (monitor, location): raw results and rollups name their series by this small integer
# instead of repeating two strings in every row (issue 18: 100,000 monitors write 144 million a day).
probe_series = Table(
    "probe_series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", Id, nullable=False),
    Column("location", Location, nullable=False),
    UniqueConstraint("monitor_id", "location"),
)

# One row per probe attempt (re-checks included), compact: integer times (ms) and phases (us),
# ``flags`` (monitoring.encoding: success, final, kept long), NULL for no error. The primary key is
# the order graphs read and pruning walks, and SQLite stores the row in it (WITHOUT ROWID): no
# second copy of the key, no other index. Successes are pruned after hours, failures and state
# changes (``KEEP``) after days.
probe_results = Table(
    "probe_results",
    metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("started_ms", BigInteger, primary_key=True, autoincrement=False),
    Column("attempt", SmallInteger, primary_key=True, autoincrement=False),
    Column("flags", SmallInteger, nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("duration_us", Integer, nullable=False),
    # blackbox's phases (semantics §3.5); processing is time to first byte once connected.
    Column("resolve_us", Integer, nullable=False),
    Column("connect_us", Integer, nullable=False),
    Column("tls_us", Integer, nullable=False),
    Column("processing_us", Integer, nullable=False),
    Column("transfer_us", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("cert_expiry", BigInteger, nullable=True),  # earliest NotAfter of the presented chain, epoch s
    sqlite_with_rowid=False,
)

# Aggregates of final results per window ``width`` seconds (60, 3600, 86400) starting at ``start``
# (epoch s); ``metrics`` is koban.probes.rollup_codec's bytes (a histogram per phase).
probe_rollups = Table(
    "probe_rollups",
    metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("width", Integer, primary_key=True, autoincrement=False),
    Column("start", BigInteger, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("metrics", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
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
    # The monitor list's "down" filter reads the ids in one state from this index alone.
    Index("ix_monitor_state_status", "status", "monitor_id"),
)

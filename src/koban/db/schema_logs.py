"""Log digests and log rules (docs/logs.md): each digest run, and each log rule's state per key value.

``digest_runs`` is unique per (digest, window start): the row is written before the cluster is asked,
so two instances, or a restart, can never post the same window twice. ``log_rule_runs`` is each
rule's place in the queue (due time and lease): one run per interval across instances, and what the
last run found (its error, how long the query took).

``digest_posts`` is a digest's outbox: one row per (digest, window start, channel), written with the
run's numbers and rendered once, then sent, retried and settled like a page's delivery row
(``logs/digest_posts.py``). Its unique key makes a window's post go out once across instances.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from koban.db.schema_base import Id, config_table, metadata

# Config-as-code (koban config apply); a cluster's definition holds its secrets sealed, as channels do.
log_clusters = config_table("log_clusters")
digests = config_table("digests")
log_rules = config_table("log_rules")

digest_runs = Table(
    "digest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest_id", Id, nullable=False),
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    # running -> posting -> posted | failed; a run left "posting" by a crash is not posted again.
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("summary", JSON, nullable=True),  # the digest's numbers, kept past the cluster's retention
    Column("posts", JSON, nullable=True),  # per channel: what it answered
    Column("error", Text, nullable=True),
    UniqueConstraint("digest_id", "window_start"),
)

log_rule_state = Table(
    "log_rule_state",
    metadata,
    Column("rule_id", Id, primary_key=True),
    Column("key_value", String(512), primary_key=True),  # "" when the rule has no query_key
    Column("firing", Boolean, nullable=False),
    Column("clear_runs", Integer, nullable=False),
    Column("last_run", Float, nullable=False),
    Column("last_count", Float, nullable=True),
    Column("error", Text, nullable=True),
    # What the state was judged as (type, query_key, fields): a rule whose type or key changes starts
    # afresh instead of reading keys of another meaning (rules.shape_of); NULL: written before 0018.
    Column("shape", String(64), nullable=True),
    Column("last_value", String(512), nullable=True),  # change: the compare_key value seen last
    Column("last_seen", Float, nullable=True),  # change: when it was last seen (its timeframe)
)

log_rule_runs = Table(
    "log_rule_runs",
    metadata,
    Column("id", Id, primary_key=True),  # the rule's id
    Column("due_at", Float, nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("last_run", Float, nullable=True),  # the instant the last run judged (its "now")
    Column("last_lag", Float, nullable=True),  # seconds between due and started, last run
    Column("last_query_seconds", Float, nullable=True),
    Column("error", Text, nullable=True),  # why the last run failed; NULL once one succeeds
)

digest_posts = Table(
    "digest_posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),  # <digest>:<window start>:<channel>
    Column("run_id", Integer, nullable=False),
    Column("digest_id", Id, nullable=False),
    Column("channel_id", Id, nullable=False),
    Column("channel_type", String(32), nullable=False),
    Column("payload", JSON, nullable=False),  # rendered when queued: a retry posts the same words
    # sending -> sent | pending (retry) | in_doubt -> ... | failed, as paging's DeliveryState
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("provider_ref", Text, nullable=True),
    Column("meta", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Column("settled_at", Float, nullable=True),
    Column("due_at", Float, nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Index("ix_digest_posts_due", "due_at"),
    Index("ix_digest_posts_run", "run_id"),
)

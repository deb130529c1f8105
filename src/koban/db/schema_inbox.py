"""The ingest inbox: deliveries accepted at the edge and not yet turned into incidents.

One row per accepted request whose answer needs no incident id (Alertmanager, Prometheus, Grafana,
Kibana, Zabbix, PagerDuty). The edge commits the raw body before its 2xx; the drain
(``ingest/drain.py``) parses it with the same source, runs the alert rules and deletes the row
in one transaction. ``id`` is the arrival order the drain keeps.

``fresh`` marks a delivery that holds an alert this process had not seen recently (a new outage,
not one more re-send of a firing alert): the drain claims those first, so a flood of repeats does
not delay the next page (``ingest/novelty.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
    text,
)

from koban.db.schema_base import Id, metadata

ingest_inbox = Table(
    "ingest_inbox",
    metadata,
    # 64-bit on PostgreSQL (a busy edge passes 2^31 requests within weeks); SQLite's rowid.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("integration_id", Id, nullable=False),
    Column("parser", String(32), nullable=False),  # the source kind that parses ``body``
    Column("received_at", Float, nullable=False),
    Column("alerts", Integer, nullable=False),  # events the body holds (metrics, the bench's count)
    Column("body", LargeBinary, nullable=False),
    # Set when the drain could not process the row on its own: kept for a person, never dropped.
    Column("error", Text, nullable=True),
    # Holds an alert new to this process: claimed ahead of older rows (only sources whose events
    # carry their own times, so the key clocks make the outcome independent of the order).
    Column("fresh", Boolean, nullable=False, server_default=false()),
    Index("ix_ingest_inbox_fresh", "fresh", "id"),
    # 64 bits of the body's hash, for sources whose rows may be taken out of order (Prometheus): the
    # drain takes a flood's copies of one body together and collapses them (ingest/inbox.py).
    Column("digest", BigInteger, nullable=True),
    Index("ix_ingest_inbox_digest", "integration_id", "digest", "id"),
    # The waiting rows, for the edge's look at the backlog (ingest/backlog.py): ``error`` sits after
    # the body, so filtering on it row by row read every body (SQLite follows the overflow pages).
    Index(
        "ix_ingest_inbox_waiting",
        "id",
        sqlite_where=text("error IS NULL"),
        postgresql_where=text("error IS NULL"),
    ),
)

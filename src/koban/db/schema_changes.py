"""Change events (PagerDuty's ``/v2/change/enqueue``): deploys, config pushes and the like, kept
per service so responders see what changed next to an incident. They page nobody."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, Table, Text

from koban.db.schema_base import Id, metadata

change_events = Table(
    "change_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", Id, nullable=False),
    Column("integration_id", Id, nullable=False),
    Column("summary", Text, nullable=False),
    Column("source", Text, nullable=False, default=""),
    Column("at", Float, nullable=False),  # the sender's timestamp, bounded by the receipt
    Column("received_at", Float, nullable=False),
    Column("custom_details", JSON, nullable=False, default=dict),
    Column("links", JSON, nullable=False, default=list),
    Index("ix_change_events_service_at", "service_id", "at"),
)

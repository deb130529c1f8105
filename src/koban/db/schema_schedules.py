"""Schedules (config-as-code: layers and overrides in the definition, docs/schedules.md), and the
iCalendar feeds of their shifts: each behind an unguessable URL whose token is stored only hashed."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table

from koban.db.schema_base import Id, config_table, metadata

schedules = config_table("schedules")

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the URL's token
    Column("schedule_id", Id, nullable=True),  # a schedule's final schedule, or
    Column("person_id", Id, nullable=True),  # one person's shifts in every schedule
    Column("alarm_minutes", Integer, nullable=True),
    Column("created_by", Id, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

"""Imported calendars (docs/calendars.md): their config, fetch state with the last good copy, the
events they hold now (a schedule's shifts), and the tasks their events open, one per occurrence."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from koban.db.schema_base import Id, config_table, metadata

calendars = config_table("calendars")

calendar_state = Table(
    "calendar_state",
    metadata,
    Column("calendar_id", Id, primary_key=True),
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    Column("body", Text, nullable=True),  # the last good copy: kept in use while fetches fail
    Column("last_fetch_at", Float, nullable=True),
    Column("last_success_at", Float, nullable=True),
    Column("error", Text, nullable=True),  # the last fetch's error; NULL once one succeeds
    Column("events", Integer, nullable=False, default=0),
    # When the next fetch is due; whoever moves it forward (a conditional UPDATE) fetches this round.
    Column("next_fetch_at", Float, nullable=False, default=0.0),
)

calendar_events = Table(
    "calendar_events",
    metadata,
    Column("calendar_id", Id, primary_key=True),
    Column("uid", Text, primary_key=True),
    Column("recurrence_id", String(64), primary_key=True),  # "" for a single event
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("person", Id, nullable=True),  # the person the event names, if any
    Index("ix_calendar_events_span", "calendar_id", "start"),
)

calendar_tasks = Table(
    "calendar_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("calendar_id", Id, nullable=False),
    Column("uid", Text, nullable=False),
    Column("recurrence_id", String(64), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("due", Float, nullable=False),  # start - lead: when the task opens
    Column("status", String(16), nullable=False),  # pending | open | cancelled
    Column("incident_id", Integer, nullable=True),
    Column("updated_at", Float, nullable=False),
    # At most one task per occurrence, whatever happens: refetches, reordered feeds, two instances.
    UniqueConstraint("calendar_id", "uid", "recurrence_id", name="uq_calendar_tasks_occurrence"),
    Index("ix_calendar_tasks_due", "status", "due"),
)

"""Schedules (config-as-code: layers and overrides in the definition, docs/schedules.md), and the
iCalendar feeds of their shifts: each behind an unguessable URL whose token is stored only hashed.

What people change through the API lives in tables of its own, so that ``koban config apply`` of
a file leaves it alone (as it does integration keys made through the API): overrides, temporary
schedules, shift swaps. ``schedule_notices`` is the outbox of what koban tells people about their
schedules (swaps, coverage gaps, handoffs): a row per message, its unique key making it at most once
across instances, claimed with a lease like deliveries."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text

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

# The definition is the REST body (config/model_schedules.py ``Override``/``Temporary``), ``by`` set.
schedule_overrides = Table(
    "schedule_overrides",
    metadata,
    Column("schedule_id", Id, primary_key=True),
    Column("id", Id, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

schedule_temporaries = Table(
    "schedule_temporaries",
    metadata,
    Column("schedule_id", Id, primary_key=True),
    Column("id", Id, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

schedule_swaps = Table(
    "schedule_swaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule_id", Id, nullable=False),
    Column("requester", Id, nullable=False),  # gives [start, end) of their shift
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("taker", Id, nullable=True),  # None: open to anyone of the team
    Column("back_start", Float, nullable=True),  # optional: the taker's shift the requester takes
    Column("back_end", Float, nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False),  # open -> taken | approved | canceled
    Column("decided_by", Id, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float, nullable=True),
)

schedule_notices = Table(
    "schedule_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # swap:<id>:<person>:<channel>, gap:<schedule>:<start>:<channel>,
    # handoff:<schedule>:<start>:<person>:<channel>
    Column("key", String(255), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # swap | gap | handoff
    Column("schedule_id", Id, nullable=False),
    Column("person_id", Id, nullable=True),
    Column("channel_id", Id, nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending -> sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float),
    Column("due_at", Float),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Index("ix_schedule_notices_due", "due_at"),
)

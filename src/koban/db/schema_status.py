"""Public status pages (docs/web.md): their config, and the updates responders write for the public
about an incident.

An incident's own summary, labels and timeline are internal; a status page shows an incident only
through its ``incident_public_updates`` rows, words a person wrote to be read outside.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from koban.db.schema_base import Id, config_table, metadata

status_pages = config_table("status_pages")

incident_public_updates = Table(
    "incident_public_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # investigating | identified | monitoring | resolved
    Column("message", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", Id, nullable=True),  # kept for the audit; never shown on a status page
    Index("ix_incident_public_updates_incident", "incident_id", "id"),
)

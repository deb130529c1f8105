"""Tables of the Twilio integration (voice and SMS), on the shared metadata.

Call state lives in its own row rather than in ``deliveries.meta``: the delivery worker rewrites
``meta`` when it records the send, which would clobber what a status callback stored meanwhile.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from koban.db.schema_base import Id, metadata

# One row per call (delivery key): the reducer's state as canonical JSON text, so compare-and-set
# is a plain equality on both engines.
call_states = Table(
    "call_states",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# A phone number Twilio refused for good (invalid, unverified): pages skip it until it changes.
contact_problems = Table(
    "contact_problems",
    metadata,
    Column("person_id", Id, primary_key=True),
    Column("contact", String(32), primary_key=True),  # the contact kind, e.g. phone
    Column("address", Text, nullable=False),
    Column("code", Integer, nullable=True),
    Column("error", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_contact_problems_at", "at"),
)

"""settings pages: the audit trail read by (at, id) per person and per kind; a channel's latest deliveries

The trail's pages are newest first by (at, id), paged by keyset. ``ix_audit_events_at`` (at) and
``ix_audit_events_actor`` (actor) become (at, id) and (actor, at, id), and (object_kind, at, id) is
new: every filter, time ranges included, reads one index range in order and stops after a page.
(channel_id, id) on deliveries gives a channel's latest outcomes without scanning the table.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.create_index("ix_audit_events_at_id", "audit_events", ["at", "id"])
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at", "id"])
    op.create_index("ix_audit_events_kind_at", "audit_events", ["object_kind", "at", "id"])
    op.create_index("ix_deliveries_channel", "deliveries", ["channel_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_channel", table_name="deliveries")
    op.drop_index("ix_audit_events_kind_at", table_name="audit_events")
    op.drop_index("ix_audit_events_actor_at", table_name="audit_events")
    op.drop_index("ix_audit_events_at_id", table_name="audit_events")
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])

"""settings pages: the audit trail paged by id per person and per kind; a channel's latest deliveries

``ix_audit_events_actor`` (actor) becomes (actor, id): a person's entries newest first read one
index range and stop after a page. (object_kind, id) does the same for a kind. (channel_id, id) on
deliveries gives a channel's latest outcomes without scanning the table.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor", "id"])
    op.create_index("ix_audit_events_kind_id", "audit_events", ["object_kind", "id"])
    op.create_index("ix_deliveries_channel", "deliveries", ["channel_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_channel", table_name="deliveries")
    op.drop_index("ix_audit_events_kind_id", table_name="audit_events")
    op.drop_index("ix_audit_events_actor_id", table_name="audit_events")
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])

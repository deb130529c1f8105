"""change events (PagerDuty /v2/change/enqueue), per service

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=128), nullable=False),
        sa.Column("integration_id", sa.String(length=128), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("custom_details", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    op.create_index("ix_change_events_service_at", "change_events", ["service_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_change_events_service_at", table_name="change_events")
    op.drop_table("change_events")

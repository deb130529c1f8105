"""status pages: their config (config-as-code) and incidents' public updates

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

Id = sa.String(length=128)


def upgrade() -> None:
    op.create_table(
        "status_pages",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_pages")),
    )
    op.create_table(
        "incident_public_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", Id, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_public_updates")),
    )
    op.create_index("ix_incident_public_updates_incident", "incident_public_updates", ["incident_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_incident_public_updates_incident", table_name="incident_public_updates")
    op.drop_table("incident_public_updates")
    op.drop_table("status_pages")

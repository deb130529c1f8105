"""incidents: an index on updated_at, so the live feed's max(updated_at) is not a table scan

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_updated", "incidents", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_updated", table_name="incidents")

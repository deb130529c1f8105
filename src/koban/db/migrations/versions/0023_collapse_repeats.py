"""repeats collapse: alerts.repeats (one row for a flood's re-sends of one alert) and
ingest_inbox.digest (the drain takes a flood's copies of one body together)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("repeats", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("ingest_inbox") as batch:
        batch.add_column(sa.Column("digest", sa.BigInteger(), nullable=True))
    op.create_index("ix_ingest_inbox_digest", "ingest_inbox", ["integration_id", "digest", "id"])


def downgrade() -> None:
    op.drop_index("ix_ingest_inbox_digest", table_name="ingest_inbox")
    with op.batch_alter_table("ingest_inbox") as batch:
        batch.drop_column("digest")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("repeats")

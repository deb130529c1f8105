"""ingest inbox: fresh deliveries (an alert new to the edge) are claimed before older repeats;
an index of the waiting rows for the edge's backlog bound

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_inbox") as batch:
        batch.add_column(sa.Column("fresh", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_ingest_inbox_fresh", "ingest_inbox", ["fresh", "id"])
    waiting = sa.text("error IS NULL")
    op.create_index(
        "ix_ingest_inbox_waiting", "ingest_inbox", ["id"], sqlite_where=waiting, postgresql_where=waiting
    )


def downgrade() -> None:
    op.drop_index("ix_ingest_inbox_waiting", table_name="ingest_inbox")
    op.drop_index("ix_ingest_inbox_fresh", table_name="ingest_inbox")
    with op.batch_alter_table("ingest_inbox") as batch:
        batch.drop_column("fresh")

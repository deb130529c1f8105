"""logs: log clusters, digests and log rules as config objects; each rule's place in the run queue

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CONFIG = ("log_clusters", "digests", "log_rules")


def upgrade() -> None:
    for name in CONFIG:
        op.create_table(
            name,
            sa.Column("id", sa.String(length=128), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("definition", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        )
    op.create_table(
        "log_rule_runs",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("last_run", sa.Float(), nullable=True),
        sa.Column("last_lag", sa.Float(), nullable=True),
        sa.Column("last_query_seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_rule_runs")),
    )


def downgrade() -> None:
    op.drop_table("log_rule_runs")
    for name in reversed(CONFIG):
        op.drop_table(name)

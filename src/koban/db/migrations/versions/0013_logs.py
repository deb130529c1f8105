"""logs: digest runs (one per digest and window) and log rule state per key value

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest_id", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("window_end", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("posts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_runs")),
        sa.UniqueConstraint("digest_id", "window_start", name=op.f("uq_digest_runs_digest_id_window_start")),
    )
    op.create_table(
        "log_rule_state",
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("key_value", sa.String(length=512), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("clear_runs", sa.Integer(), nullable=False),
        sa.Column("last_run", sa.Float(), nullable=False),
        sa.Column("last_count", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("rule_id", "key_value", name=op.f("pk_log_rule_state")),
    )


def downgrade() -> None:
    op.drop_table("log_rule_state")
    op.drop_table("digest_runs")

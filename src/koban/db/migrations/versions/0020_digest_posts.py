"""logs: digest posts as durable, retried delivery rows (digest_posts); log rule state remembers the
rule's shape (type, query_key, fields) so a changed rule starts afresh, and a change rule's last value

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.String(length=128), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("channel_type", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("provider_ref", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("settled_at", sa.Float(), nullable=True),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_posts")),
        sa.UniqueConstraint("key", name=op.f("uq_digest_posts_key")),
    )
    op.create_index("ix_digest_posts_due", "digest_posts", ["due_at"])
    op.create_index("ix_digest_posts_run", "digest_posts", ["run_id"])
    with op.batch_alter_table("log_rule_state") as batch:
        batch.add_column(sa.Column("shape", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("last_value", sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_rule_state") as batch:
        batch.drop_column("last_value")
        batch.drop_column("shape")
    op.drop_index("ix_digest_posts_run", table_name="digest_posts")
    op.drop_index("ix_digest_posts_due", table_name="digest_posts")
    op.drop_table("digest_posts")

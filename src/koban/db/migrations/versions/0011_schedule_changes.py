"""schedules: API-made overrides, temporary schedules and shift swaps in tables of their own (so
that a config apply keeps them); the outbox of schedule notices (swaps, coverage gaps, handoffs)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _keyed(name: str) -> None:
    op.create_table(
        name,
        sa.Column("schedule_id", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _keyed("schedule_overrides")
    _keyed("schedule_temporaries")
    op.create_table(
        "schedule_swaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.String(length=128), nullable=False),
        sa.Column("requester", sa.String(length=128), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("taker", sa.String(length=128), nullable=True),
        sa.Column("back_start", sa.Float(), nullable=True),
        sa.Column("back_end", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_swaps")),
    )
    op.create_table(
        "schedule_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("schedule_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=True),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_schedule_notices_key")),
    )
    op.create_index("ix_schedule_notices_due", "schedule_notices", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_schedule_notices_due", table_name="schedule_notices")
    op.drop_table("schedule_notices")
    op.drop_table("schedule_swaps")
    op.drop_table("schedule_temporaries")
    op.drop_table("schedule_overrides")

"""routing state (key clocks, groups, silences, maintenance, inhibition, heartbeats)

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(length=128)


def _config(name: str, *cols: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("id", ID, nullable=False),
        *cols,
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    op.create_table(
        "alert_clocks",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("fired_at", sa.Float(), nullable=True),
        sa.Column("resolved_at", sa.Float(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_alert_clocks")),
    )
    op.create_index("ix_alert_clocks_expires", "alert_clocks", ["expires_at"])
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", ID, nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("service_id", "group_key", name="uq_alert_groups_service_key"),
    )
    op.create_index("ix_alert_groups_due", "alert_groups", ["due_at"])
    _config(
        "silences",
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("ends_at", sa.Float(), nullable=False),
    )
    _config("maintenance_windows", sa.Column("origin", sa.String(length=16), nullable=False))
    _config("inhibit_rules")
    _config(
        "heartbeats",
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("service_id", ID, nullable=False),
    )
    op.create_table(
        "heartbeat_state",
        sa.Column("id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_ping_at", sa.Float(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeat_state")),
    )
    op.create_index("ix_heartbeat_state_due", "heartbeat_state", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_heartbeat_state_due", table_name="heartbeat_state")
    op.drop_table("heartbeat_state")
    for name in ("heartbeats", "inhibit_rules", "maintenance_windows", "silences"):
        op.drop_table(name)
    op.drop_index("ix_alert_groups_due", table_name="alert_groups")
    op.drop_table("alert_groups")
    op.drop_index("ix_alert_clocks_expires", table_name="alert_clocks")
    op.drop_table("alert_clocks")

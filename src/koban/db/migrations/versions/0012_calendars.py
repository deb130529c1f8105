"""imported calendars: config, fetch state with the last good copy, their events, their tasks

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendars",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
    )
    op.create_table(
        "calendar_state",
        sa.Column("calendar_id", sa.String(length=128), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("last_fetch_at", sa.Float(), nullable=True),
        sa.Column("last_success_at", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("next_fetch_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("calendar_id", name=op.f("pk_calendar_state")),
    )
    op.create_table(
        "calendar_events",
        sa.Column("calendar_id", sa.String(length=128), nullable=False),
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("recurrence_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("person", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("calendar_id", "uid", "recurrence_id", name=op.f("pk_calendar_events")),
    )
    op.create_index("ix_calendar_events_span", "calendar_events", ["calendar_id", "start"])
    op.create_table(
        "calendar_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("calendar_id", sa.String(length=128), nullable=False),
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("recurrence_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("due", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_tasks")),
        sa.UniqueConstraint("calendar_id", "uid", "recurrence_id", name="uq_calendar_tasks_occurrence"),
    )
    op.create_index("ix_calendar_tasks_due", "calendar_tasks", ["status", "due"])


def downgrade() -> None:
    op.drop_table("calendar_tasks")
    op.drop_table("calendar_events")
    op.drop_table("calendar_state")
    op.drop_table("calendars")

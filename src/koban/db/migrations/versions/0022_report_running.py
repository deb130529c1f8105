"""reports: running totals per monitor and summed day, so a period's availability reads two rows
per monitor (issue 16); ``report_summarized_days.running`` marks the days summed with them

Days summed before have no running rows: a period touching one reads the daily rows as before,
until ``koban report rebuild-summaries`` sums them again.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

ID = sa.String(length=128)


def upgrade() -> None:
    with op.batch_alter_table("report_summarized_days") as batch:
        batch.add_column(sa.Column("running", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "report_monitor_running",
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("measured_minutes", sa.Integer(), nullable=False),
        sa.Column("down_seconds", sa.Float(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("day_first", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("monitor_id", "day", name=op.f("pk_report_monitor_running")),
    )
    op.create_index("ix_report_monitor_running_day", "report_monitor_running", ["day"])


def downgrade() -> None:
    op.drop_index("ix_report_monitor_running_day", table_name="report_monitor_running")
    op.drop_table("report_monitor_running")
    with op.batch_alter_table("report_summarized_days") as batch:
        batch.drop_column("running")

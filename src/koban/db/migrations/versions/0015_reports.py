"""reports: scheduled report config, report deliveries (one per schedule, period and recipient),
daily availability summaries per monitor and per service, which days are summed, and settled incidents' clocks

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.String(length=128)


def upgrade() -> None:
    op.create_table(
        "report_schedules",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
    )
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("schedule_id", Id, nullable=False),
        sa.Column("period_since", sa.Float(), nullable=False),
        sa.Column("period_until", sa.Float(), nullable=False),
        sa.Column("channel_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_report_deliveries_key")),
    )
    op.create_index("ix_report_deliveries_due", "report_deliveries", ["due_at"])
    op.create_table(
        "report_incident_facts",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("fence", sa.Float(), nullable=False),
        sa.Column("acknowledged_at", sa.Float(), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("reassigned", sa.Boolean(), nullable=False),
        *(
            col
            for stage in ("first_failure", "first_page", "first_reached", "woken_ack")
            for col in (
                sa.Column(f"{stage}_at", sa.Float(), nullable=True),
                sa.Column(f"{stage}_how", sa.Text(), nullable=True),
                sa.Column(f"{stage}_who", sa.Text(), nullable=True),
            )
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_report_incident_facts")),
    )
    op.create_table(
        "report_summarized_days",
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("built_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_summarized_days")),
    )
    op.create_table(
        "report_monitor_days",
        sa.Column("monitor_id", Id, nullable=False),
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("measured_minutes", sa.Integer(), nullable=False),
        sa.Column("down_seconds", sa.Float(), nullable=False),
        sa.Column("first_minute", sa.Float(), nullable=False),
        sa.Column("last_minute", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("monitor_id", "day", name=op.f("pk_report_monitor_days")),
    )
    op.create_index("ix_report_monitor_days_day", "report_monitor_days", ["day"])
    op.create_table(
        "report_service_days",
        sa.Column("service_id", Id, nullable=False),
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("members", sa.String(length=64), nullable=False),
        sa.Column("measured_minutes", sa.Integer(), nullable=False),
        sa.Column("down_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", "day", name=op.f("pk_report_service_days")),
    )
    op.create_index("ix_report_service_days_day", "report_service_days", ["day"])


def downgrade() -> None:
    op.drop_table("report_service_days")
    op.drop_table("report_monitor_days")
    op.drop_table("report_summarized_days")
    op.drop_table("report_incident_facts")
    op.drop_table("report_deliveries")
    op.drop_table("report_schedules")

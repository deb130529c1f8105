"""probes (monitors, results, rollups)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(length=128)
LOCATION = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("service_id", ID, nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
    )
    op.create_table(
        "probe_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("location", LOCATION, nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("resolve", sa.Float(), nullable=False),
        sa.Column("connect", sa.Float(), nullable=False),
        sa.Column("tls", sa.Float(), nullable=False),
        sa.Column("processing", sa.Float(), nullable=False),
        sa.Column("transfer", sa.Float(), nullable=False),
        sa.Column("cert_expiry", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_results")),
    )
    op.create_index("ix_probe_results_monitor_id_started_at", "probe_results", ["monitor_id", "started_at"])
    op.create_index("ix_probe_results_started_at", "probe_results", ["started_at"])
    op.create_table(
        "probe_rollups",
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("resolution", sa.String(length=8), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("location", LOCATION, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "monitor_id", "resolution", "start", "location", name=op.f("pk_probe_rollups")
        ),
    )
    op.create_index("ix_probe_rollups_resolution_start", "probe_rollups", ["resolution", "start"])
    op.create_table(
        "probe_latest",
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("location", LOCATION, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.Column("cert_expiry", sa.Float(), nullable=True),
        sa.Column("redirects", sa.Integer(), nullable=False),
        sa.Column("content_length", sa.Integer(), nullable=False),
        sa.Column("fail_since", sa.Float(), nullable=True),
        sa.Column("slow_since", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("monitor_id", "location", name=op.f("pk_probe_latest")),
    )
    op.create_table(
        "monitor_state",
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=8), nullable=False),
        sa.Column("since", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("monitor_id", name=op.f("pk_monitor_state")),
    )


def downgrade() -> None:
    op.drop_table("monitor_state")
    op.drop_table("probe_latest")
    op.drop_index("ix_probe_rollups_resolution_start", table_name="probe_rollups")
    op.drop_table("probe_rollups")
    op.drop_index("ix_probe_results_started_at", table_name="probe_results")
    op.drop_index("ix_probe_results_monitor_id_started_at", table_name="probe_results")
    op.drop_table("probe_results")
    op.drop_table("monitors")

"""monitor reads at 100,000: monitors.updated_at (the catalog fingerprint every request asks reads
its max) and monitor_state (status, monitor_id) (the monitor list's "down" filter)

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_monitors_updated", "monitors", ["updated_at"])
    op.create_index("ix_monitor_state_status", "monitor_state", ["status", "monitor_id"])


def downgrade() -> None:
    op.drop_index("ix_monitor_state_status", table_name="monitor_state")
    op.drop_index("ix_monitors_updated", table_name="monitors")

"""log rules: log_rule_state.last_seen, when a change rule last saw its key's value (its timeframe)

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log_rule_state") as batch:
        batch.add_column(sa.Column("last_seen", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_rule_state") as batch:
        batch.drop_column("last_seen")

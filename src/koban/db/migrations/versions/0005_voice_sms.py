"""voice and sms

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_states",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "contact_problems",
        sa.Column("person_id", sa.String(128), primary_key=True),
        sa.Column("contact", sa.String(32), primary_key=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_contact_problems_at", "contact_problems", ["at"])


def downgrade() -> None:
    op.drop_index("ix_contact_problems_at", table_name="contact_problems")
    op.drop_table("contact_problems")
    op.drop_table("call_states")

"""single sign-on in the config; memberships and global roles given by the provider's groups

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso")),
    )
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), nullable=False, server_default="config"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sso_role", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sso_role")
    op.execute("DELETE FROM memberships WHERE source = 'sso'")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("source")
    op.drop_table("sso")

"""log rules: log_rule_state.last_seen, when a change rule last saw its key's value (its timeframe);
change rules stored before it lose the timeframe they were given by default

Until 0024 a change rule ignored ``timeframe``, and every stored rule carried the model's default
(300 s) in its definition. Now a change rule's timeframe counts, so keeping that default would make
existing change rules forget values older than 5 minutes: it is cleared (no timeframe: however long
ago, as before). A ``koban config apply`` of a file that sets one sets it again.

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
    rules = sa.table("log_rules", sa.column("id", sa.String()), sa.column("definition", sa.JSON()))
    conn = op.get_bind()
    for ident, definition in conn.execute(sa.select(rules.c.id, rules.c.definition)).all():
        change = isinstance(definition, dict) and definition.get("type") == "change"
        if change and definition.get("timeframe") is not None:
            cleared = {**definition, "timeframe": None}
            conn.execute(sa.update(rules).where(rules.c.id == ident).values(definition=cleared))


def downgrade() -> None:
    with op.batch_alter_table("log_rule_state") as batch:
        batch.drop_column("last_seen")

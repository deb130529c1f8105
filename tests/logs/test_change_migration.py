"""Migration 0024: a change rule stored before it (with the model's default timeframe in its
definition, which it ignored) keeps comparing with the last value however old; other rules keep their
timeframe. Both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from koban.config.model_logs import LogRule
from koban.db.engine import make_sync_engine
from koban.db.migrate import alembic_config, upgrade
from koban.db.schema_logs import log_rules

BASE = {"cluster": "c", "service": "s", "index": "logs-*", "timeframe": 300.0}


def test_stored_change_rules_lose_the_default_timeframe_they_ignored(db_url):
    upgrade(db_url)  # PostgreSQL's test databases are copies of one already at head
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0023")
            conn.commit()
        with engine.begin() as conn:
            conn.execute(sa.insert(log_rules), [
                {"id": "chg", "name": "", "updated_at": 0.0,
                 "definition": BASE | {"id": "chg", "type": "change", "compare_key": "u", "query_key": "s"}},
                {"id": "freq", "name": "", "updated_at": 0.0,
                 "definition": BASE | {"id": "freq", "type": "frequency", "num_events": 3}},
            ])  # fmt: skip
        upgrade(db_url)
        with engine.connect() as conn:
            stored = {i: d for i, d in conn.execute(sa.select(log_rules.c.id, log_rules.c.definition))}
    finally:
        engine.dispose()
    assert LogRule.model_validate(stored["chg"]).timeframe is None
    assert LogRule.model_validate(stored["freq"]).timeframe == 300.0

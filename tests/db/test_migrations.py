"""The migrations build exactly the schema that ``db/schema.py`` declares, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from koban.db.engine import make_sync_engine
from koban.db.migrate import upgrade
from koban.db.schema import metadata


def test_migrations_match_schema(db_url: str) -> None:
    upgrade(db_url)
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"schema.py and the migrations disagree; add a migration: {diff}"

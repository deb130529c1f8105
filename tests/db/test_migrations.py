"""The migrations build exactly the schema that ``db/schema.py`` declares, on both engines."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from koban.db.engine import make_sync_engine
from koban.db.migrate import upgrade
from koban.db.schema import metadata


def _drift(db_url: str, target: sa.MetaData) -> list:
    """What autogenerate would change, column types included (a type edited in schema.py without a
    migration is drift too)."""
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, target))
    finally:
        engine.dispose()


def test_migrations_match_schema(db_url: str) -> None:
    upgrade(db_url)
    diff = _drift(db_url, metadata)
    assert diff == [], f"schema.py and the migrations disagree; add a migration: {diff}"


def test_a_column_type_changed_without_a_migration_is_drift(db_url: str) -> None:
    """The drift test compares column types (issue 17, item 21): it once ran with compare_type off."""
    upgrade(db_url)
    edited = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(edited)
    edited.tables["incidents"].c.summary.type = sa.Integer()
    diff = _drift(db_url, edited)
    assert [d[0][0] for d in diff if isinstance(d, list)] == ["modify_type"], diff

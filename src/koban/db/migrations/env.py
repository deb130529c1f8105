"""Alembic environment: runs against the engine handed in by ``koban.db.migrate``."""

from __future__ import annotations

from alembic import context

import koban.db.schema  # noqa: F401  (defines every table on the shared metadata)
from koban.db.schema_base import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

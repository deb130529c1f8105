"""Storage: tables (schema.py), engines (engine.py), migrations (alembic under migrations/)."""

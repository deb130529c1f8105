"""What every table module shares: the metadata (with naming conventions), the id type, and the
shape of config-as-code tables. The ``schema_<area>`` modules import this, never each other;
``schema.py`` imports them all so the metadata is complete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Float, MetaData, String, Table, Text

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = String(128)


def config_table(name: str, *cols: Column[Any]) -> Table:
    """Objects from config-as-code: a stable id, a name, the validated definition, and when it changed."""
    return Table(
        name,
        metadata,
        Column("id", Id, primary_key=True),
        Column("name", Text, nullable=False, default=""),
        *cols,
        Column("definition", JSON, nullable=False, default=dict),
        Column("updated_at", Float, nullable=False),
    )

"""Schedules (config-as-code: layers and overrides in the definition, docs/schedules.md)."""

from __future__ import annotations

from koban.db.schema_base import config_table

schedules = config_table("schedules")

"""The routing part of the in-memory config snapshot: silences, maintenance windows, inhibition
rules and heartbeat definitions, as the pure objects the ingest path checks per alert.

Loaded with the rest of the catalog (``catalog/snapshot.py``) whenever the fingerprint of these
tables changes, so a silence created through the API on one instance reaches the others within
the catalog's refresh interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.config.model_routing import Heartbeat, InhibitRule, Maintenance, Silence
from koban.db import schema_routing as r
from koban.routing.inhibition import InhibitRule as PureInhibitRule
from koban.routing.maintenance import MaintenanceWindow
from koban.routing.silences import Silence as PureSilence

ROUTING_TABLES = (r.silences, r.maintenance_windows, r.inhibit_rules, r.heartbeats)


@dataclass(frozen=True)
class RoutingSnapshot:
    silences: tuple[PureSilence, ...] = ()
    windows: tuple[MaintenanceWindow, ...] = ()
    inhibit_rules: tuple[PureInhibitRule, ...] = ()
    heartbeats: Mapping[str, Heartbeat] = field(default_factory=dict)
    # Objects that came from the config file, so the API's "whole config with one object replaced"
    # round trip (Catalog.as_config) keeps them instead of pruning them.
    from_config: Mapping[str, list[Any]] = field(default_factory=dict)

    def config_sections(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.from_config.items()}


async def load_routing(conn: AsyncConnection) -> RoutingSnapshot:
    sections: dict[str, list[Any]] = {
        "silences": [],
        "maintenance": [],
        "inhibit_rules": [],
        "heartbeats": [],
    }
    silences: list[PureSilence] = []
    for row in await conn.execute(sa.select(r.silences)):
        model = Silence.model_validate(row.definition)
        silences.append(model.to_silence(datetime.fromtimestamp(row.updated_at, UTC)))
        if row.origin == "config":
            sections["silences"].append(model)
    windows: list[MaintenanceWindow] = []
    for row in await conn.execute(sa.select(r.maintenance_windows)):
        mw = Maintenance.model_validate(row.definition)
        windows.append(mw.to_window())
        if row.origin == "config":
            sections["maintenance"].append(mw)
    rules = [
        InhibitRule.model_validate(row.definition) for row in await conn.execute(sa.select(r.inhibit_rules))
    ]
    sections["inhibit_rules"] = rules
    heartbeats: dict[str, Heartbeat] = {}
    for row in await conn.execute(sa.select(r.heartbeats)):
        hb = Heartbeat.model_validate(row.definition)
        heartbeats[hb.id] = hb
        if row.origin == "config":
            sections["heartbeats"].append(hb)
    return RoutingSnapshot(
        silences=tuple(silences),
        windows=tuple(windows),
        inhibit_rules=tuple(x.to_rule() for x in rules),
        heartbeats=heartbeats,
        from_config=sections,
    )
